using System.Globalization;
using DuckDB.NET.Data;
using Pipeline.Lake;

namespace Pipeline.Tests.Support;

/// <summary>
/// Writes a lake as the publisher does (the contract in <see cref="LakeLayout"/>), from a stopped daemon's store:
/// one Parquet file per table, script and hour slice, with the store's columns, <c>node</c>, and for logs and spans
/// <c>committed_at</c> (logs also <c>revision</c>). Stand-in for the real publisher in the lake-mode tests.
/// </summary>
internal static class TestLake
{
    public static readonly TimeSpan Slice = TimeSpan.FromHours(1);

    private static readonly (string Table, string Source, string Time)[] Tables =
        [("runs", "runs", "executed_on"), ("logs", "log_lines", "timestamp"), ("spans", "spans", "start_time")];

    /// <summary>
    /// Publishes every row of the store at <paramref name="storePath"/> as <paramref name="node"/>'s. With <paramref name="lateMirrors"/>, the stdout lines the store holds as
    /// mirrors go out first as plain lines and come again, mirrored, as revision rows in a second file of their
    /// slice, a minute later: as when the korelogger log they repeat came after the slice was first published.
    /// </summary>
    public static void Publish(string storePath, string lake, string node, bool lateMirrors = false)
    {
        using var connection = Open(storePath);
        foreach (var (table, source, time) in Tables)
        {
            // The store's own columns (logs and spans carry the commit time of each row), then the lake's.
            var extra = table == "logs" ? $"false AS revision, '{node}' AS node" : $"'{node}' AS node";
            var columns = table == "logs" && lateMirrors ? "* REPLACE (false AS mirrored)" : "*";
            foreach (var (script, start) in Slices(connection, source, time))
            {
                Copy(connection, $"SELECT {columns}, {extra} FROM store.{source} WHERE {InSlice(time)}", script, start, Path.Combine(lake, LakeLayout.RelativePath(table, script, start, node, 1)));
                if (table == "logs" && lateMirrors)
                {
                    Copy(
                        connection,
                        $"SELECT * REPLACE (committed_at + INTERVAL 1 MINUTE AS committed_at), true AS revision, '{node}' AS node FROM store.log_lines WHERE {InSlice(time)} AND mirrored",
                        script, start, Path.Combine(lake, LakeLayout.RelativePath(table, script, start, node, 2)));
                }
            }
        }
    }

    /// <summary>
    /// Publishes an older version of a run (In Progress, updated a minute earlier, begun a day earlier: another
    /// slice and day folder), as the publisher did before the run changed. Readers must show the run as it is now.
    /// </summary>
    public static void PublishOlderRun(string storePath, string lake, string node, string script, string runId)
    {
        using var connection = Open(storePath);
        var start = Scalar<DateTime>(connection, "SELECT executed_on - INTERVAL 1 DAY FROM store.runs WHERE script = $script AND run_id = $run", script, runId);
        var sliceStart = LakeLayout.SliceStart(DateTime.SpecifyKind(start, DateTimeKind.Utc), Slice);
        var path = Path.Combine(lake, LakeLayout.RelativePath("runs", script, sliceStart, node, 1));
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            COPY (SELECT * REPLACE ('In Progress' AS status, NULL AS response_time_ms, NULL AS error, executed_on - INTERVAL 1 DAY AS executed_on,
                                    updated_at - INTERVAL 1 MINUTE AS updated_at), '{node}' AS node
                  FROM store.runs WHERE script = $script AND run_id = $run) TO '{path}' (FORMAT parquet)
            """;
        command.Parameters.Add(new DuckDBParameter("script", script));
        command.Parameters.Add(new DuckDBParameter("run", runId));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        command.ExecuteNonQuery();
    }

    private static DuckDBConnection Open(string storePath)
    {
        var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var attach = connection.CreateCommand();
        attach.CommandText = $"ATTACH '{storePath}' AS store (READ_ONLY)";
        attach.ExecuteNonQuery();
        return connection;
    }

    private static string InSlice(string time) => $"script = $script AND {time} >= $start AND {time} < $end";

    private static List<(string Script, DateTime Start)> Slices(DuckDBConnection connection, string source, string time)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT DISTINCT script, date_trunc('hour', {time}) FROM store.{source} ORDER BY 1, 2";
        using var reader = command.ExecuteReader();
        var slices = new List<(string, DateTime)>();
        while (reader.Read())
        {
            slices.Add((reader.GetString(0), DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc)));
        }

        return slices;
    }

    private static void Copy(DuckDBConnection connection, string select, string script, DateTime start, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var command = connection.CreateCommand();
        command.CommandText = $"COPY ({select}) TO '{path.Replace("'", "''", StringComparison.Ordinal)}' (FORMAT parquet)";
        command.Parameters.Add(new DuckDBParameter("script", script));
        command.Parameters.Add(new DuckDBParameter("start", start));
        command.Parameters.Add(new DuckDBParameter("end", start + Slice));
        command.ExecuteNonQuery();
    }

    private static T Scalar<T>(DuckDBConnection connection, string sql, string script, string runId)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.Add(new DuckDBParameter("script", script));
        command.Parameters.Add(new DuckDBParameter("run", runId));
        return (T)command.ExecuteScalar()!;
    }

}
