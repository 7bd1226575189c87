using System.Text;
using System.Text.RegularExpressions;

namespace Pipeline.Query;

/// <summary>
/// Exports of a list (all its rows under the given parameters) as CSV or Parquet, written by DuckDB's COPY into a
/// file of its own in the export folder, one per request, so that exports never share state and a cancelled one only
/// removes its file. Files a crash left behind are removed when the daemon starts.
/// </summary>
internal sealed partial class Exports(ReadStore store, Microsoft.Extensions.Options.IOptions<Storage.StorageOptions> storage)
{
    private readonly string _directory = storage.Value.ExportDirectory();

    private const string RunColumns = """
        run_id AS "runId", script, status, deployment_version AS "deploymentVersion", deployment_id AS "deploymentId",
        response_time_ms AS "responseTimeMs", function, executed_on AS "executedOn", source_type AS "sourceType", source, error
        """;

    private const string LogColumns = """
        log_id AS "logId", run_id AS "runId", script, level, message, timestamp
        """;

    /// <summary>Writes the export to a new temporary file and returns its path and the download name.</summary>
    public async Task<(string Path, string FileName, string ContentType)> WriteAsync(string list, string? format, ListRequest request, CancellationToken cancellationToken)
    {
        var (extension, contentType, copyFormat) = format switch
        {
            null or "csv" => ("csv", "text/csv", "FORMAT csv, HEADER"),
            "parquet" => ("parquet", "application/vnd.apache.parquet", "FORMAT parquet"),
            _ => throw new QueryException($"format must be csv or parquet (got '{format}')"),
        };
        var (table, columns, set) = list == "runs" ? ("runs", RunColumns, ColumnSet.Runs) : ("logs", LogColumns, ColumnSet.Logs);
        var where = SqlWhere.For(request, set, afterCursor: false);
        var path = System.IO.Path.Combine(_directory, $"pipeline-export-{Guid.NewGuid():N}.{extension}");

        // The path is ours (no user text); user values stay parameters inside the COPY's query.
        var sql = $"COPY (SELECT {columns} FROM {table} WHERE {where} {SqlWhere.OrderBy(request.Sort, set.Key)}) TO '{path}' ({copyFormat})";
        try
        {
            await store.ListAsync(sql, where.Parameters, _ => 0, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            File.Delete(path);
            throw;
        }

        return (path, $"{SafeName(request.Script)}_{list}_data.{extension}", contentType);
    }

    /// <summary>The script's name made safe for a file name and a header, whatever it is called.</summary>
    public static string SafeName(string script)
    {
        var safe = Unsafe().Replace(script.Normalize(NormalizationForm.FormKC), "_").Trim('_', '.');
        return safe.Length == 0 ? "script" : safe[..Math.Min(safe.Length, 100)];
    }

    [GeneratedRegex("[^A-Za-z0-9._-]+")]
    private static partial Regex Unsafe();
}
