using System.Globalization;
using DuckDB.NET.Data;

namespace Pipeline.Benchmark;

/// <summary>Logs (rows of the <c>logs</c> view) and runs: as sent, acknowledged, or found in a file.</summary>
internal sealed record RowCounts(long Logs, long Runs)
{
    public static RowCounts Of(IEnumerable<LoadRequest> requests)
    {
        var (logs, runs) = (0L, 0L);
        foreach (var request in requests)
        {
            (logs, runs) = (logs + request.Logs, runs + request.Runs);
        }

        return new RowCounts(logs, runs);
    }

    /// <summary>What a stopped daemon left in its DuckDB file, counted with plain SQL, as any reader would.</summary>
    public static RowCounts InFile(string path)
    {
        using var connection = new DuckDBConnection($"Data Source={path}");
        connection.Open();
        return new RowCounts(Count(connection, "logs"), Count(connection, "runs"));
    }

    /// <summary>When a file holds more logs than were acknowledged: which rows are extra, by how they came.</summary>
    public static string ExplainExtraLogs(string path)
    {
        using var connection = new DuckDBConnection($"Data Source={path}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT origin, count(*) AS n, count(*) - count(DISTINCT (script, run_id, log_id)) AS repeated_ids,
                   count(*) FILTER (WHERE mirrored) AS mirrored
            FROM log_lines GROUP BY origin ORDER BY origin
            """;
        using var reader = command.ExecuteReader();
        var lines = new List<string>();
        while (reader.Read())
        {
            lines.Add($"{reader.GetString(0)}: {reader.GetInt64(1):N0} lines, {reader.GetInt64(2):N0} repeated ids, {reader.GetInt64(3):N0} mirrored");
        }

        return string.Join("; ", lines);
    }

    /// <summary>"logs 500,000 of 500,000 sent, runs 10,000 of 10,000 sent".</summary>
    public string Against(RowCounts expected, string what) =>
        $"logs {Logs:N0} of {expected.Logs:N0} {what}, runs {Runs:N0} of {expected.Runs:N0} {what}";

    private static long Count(DuckDBConnection connection, string table)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM {table}";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}
