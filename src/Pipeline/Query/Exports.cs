using System.Text;
using System.Text.RegularExpressions;

namespace Pipeline.Query;

/// <summary>
/// Exports of a list (all its rows under the given parameters) as CSV or Parquet, written by DuckDB's COPY into a
/// file of its own in the export folder, one per request, so that exports never share state and a cancelled one only
/// removes its file. Files a crash left behind are removed when the daemon starts. The folder holds at most
/// <see cref="Api.ApiOptions.ExportFolderMaxBytes"/>: the files are measured while DuckDB writes, and an export that
/// would pass the cap is stopped and refused.
/// </summary>
internal sealed partial class Exports(
    ReadStore store,
    QueryAdmission admission,
    Microsoft.Extensions.Options.IOptions<Storage.StorageOptions> storage,
    Microsoft.Extensions.Options.IOptions<Api.ApiOptions> api,
    ListColumns lists)
{
    private static readonly TimeSpan MeasureEvery = TimeSpan.FromMilliseconds(100);
    private readonly string _directory = storage.Value.ExportDirectory();
    private readonly long _cap = api.Value.ExportFolderMaxBytes;

    private const string RunColumns = """
        run_id AS "runId", script, status, deployment_version AS "deploymentVersion", deployment_id AS "deploymentId",
        response_time_ms AS "responseTimeMs", function, executed_on AS "executedOn", source_type AS "sourceType", source, error
        """;

    private const string LogColumns = """
        log_id AS "logId", run_id AS "runId", script, level, message, timestamp
        """;

    /// <summary>
    /// Writes the export to a new temporary file within <paramref name="limit"/> and returns its path and the download
    /// name. On a failure the lease is given back once DuckDB has stopped; on success the caller keeps it.
    /// </summary>
    public async Task<(string Path, string FileName, string ContentType)> WriteAsync(
        string list, string? format, ListRequest request, TimeSpan limit, IDisposable lease, CancellationToken cancellationToken)
    {
        string path, sql, extension, contentType;
        SqlWhere where;
        try
        {
            string copyFormat;
            (extension, contentType, copyFormat) = Format(format);
            var (columns, set) = list == "runs" ? (RunColumns, lists.Runs) : (LogColumns, lists.Logs);
            columns = set.HasNode ? $"{columns}, {ColumnSet.NodeName}" : columns;

            // The logs of one run: within its log window, as the list reads them.
            var narrowed = list == "runs" ? request : await LogQueries.WithinRunAsync(store, request, cancellationToken).ConfigureAwait(false);
            where = SqlWhere.For(narrowed ?? request, set, afterCursor: false);
            if (narrowed is null)
            {
                where.Add("FALSE");
            }

            path = System.IO.Path.Combine(_directory, $"pipeline-export-{Guid.NewGuid():N}.{extension}");

            // The path is ours (no user text); user values stay parameters inside the COPY's query.
            sql = $"COPY (SELECT {columns} FROM {where.From} WHERE {where} {SqlWhere.OrderBy(request.Sort, set)}) TO '{path}' ({copyFormat})";
        }
        catch
        {
            lease.Dispose();
            throw;
        }

        await Deadline.RunAsync(
            token => CopyWithinCapAsync(sql, where, path, token), limit, "the export", lease, cancellationToken,
            abandoned: _ => File.Delete(path)).ConfigureAwait(false);
        return (path, $"{SafeName(request.Script)}_{list}_data.{extension}", contentType);
    }

    /// <summary>The file's extension, content type and COPY options for a format; refused when unknown.</summary>
    public static (string Extension, string ContentType, string CopyFormat) Format(string? format) => format switch
    {
        null or "csv" => ("csv", "text/csv", "FORMAT csv, HEADER"),
        "parquet" => ("parquet", "application/vnd.apache.parquet", "FORMAT parquet"),
        _ => throw new QueryException($"format must be csv or parquet (got '{format}')"),
    };

    /// <summary>Runs the COPY while measuring the folder; stops it when the folder would pass its cap.</summary>
    private async Task<int> CopyWithinCapAsync(string sql, SqlWhere where, string path, CancellationToken cancellationToken)
    {
        var before = FolderBytes();
        if (before >= _cap)
        {
            admission.Refused(QueryKind.Export, "export_folder_full");
            throw new QueryBusyException(
                $"the export folder already holds {before} bytes of its {_cap}-byte cap (Api:ExportFolderMaxBytes) in exports being downloaded; retry later",
                admission.RetryAfter);
        }

        using var overCap = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var passed = 0L;
        using var measure = new Timer(
            _ =>
            {
                var bytes = FolderBytes();
                if (bytes > _cap && Interlocked.Exchange(ref passed, bytes) == 0)
                {
                    overCap.Cancel();
                }
            },
            null,
            MeasureEvery,
            MeasureEvery);
        var written = false;
        try
        {
            var rows = (await store.QueryHeavyAsync(sql, where.Parameters, _ => 0, overCap.Token).ConfigureAwait(false)).Count;
            if (FolderBytes() is var bytes && bytes > _cap)
            {
                Interlocked.CompareExchange(ref passed, bytes, 0); // Finished between two measures.
            }

            if (Interlocked.Read(ref passed) > 0)
            {
                throw new OperationCanceledException(); // Done, but past the cap: refused all the same.
            }

            written = true;
            return rows;
        }
        catch (Exception ex) when (Interlocked.Read(ref passed) > 0 && !cancellationToken.IsCancellationRequested && ex is not QueryException)
        {
            admission.Refused(QueryKind.Export, "export_folder_full");
            throw Passed(Interlocked.Read(ref passed), FileBytes(path));
        }
        finally
        {
            await measure.DisposeAsync().ConfigureAwait(false);
            if (!written)
            {
                File.Delete(path);
            }
        }
    }

    /// <summary>
    /// When the export itself took most of the room, the same export would fail again: refused for good (400). When
    /// other exports did, it may pass later: retry (429).
    /// </summary>
    private Exception Passed(long folderBytes, long ownBytes) => ownBytes >= folderBytes - ownBytes
        ? new QueryException(
            $"the export passed the export folder's cap of {_cap} bytes (Api:ExportFolderMaxBytes) at {ownBytes} bytes and was stopped; narrow the period or the filters")
        : new QueryBusyException(
            $"the export folder reached {folderBytes} bytes of its {_cap}-byte cap (Api:ExportFolderMaxBytes) with other exports; retry later",
            admission.RetryAfter);

    /// <summary>Bytes of the files in the export folder now (being written or downloaded).</summary>
    private long FolderBytes()
    {
        var bytes = 0L;
        foreach (var file in new DirectoryInfo(_directory).EnumerateFiles("pipeline-export-*"))
        {
            bytes += FileBytes(file.FullName);
        }

        return bytes;
    }

    private static long FileBytes(string path)
    {
        try
        {
            return new FileInfo(path).Length;
        }
        catch (IOException)
        {
            return 0; // Gone while we looked.
        }
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
