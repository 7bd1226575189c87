using System.Diagnostics;
using DuckDB.NET.Data;
using Pipeline.Parsing;
using Pipeline.Storage;

namespace Pipeline.Benchmark;

/// <summary>The floor: the same rows, with a bare Appender, straight into the daemon's own <c>log_lines</c> table.</summary>
internal static class Baselines
{
    /// <summary>Appends <paramref name="rows"/>, committing every <paramref name="groupRows"/> rows; returns rows/s.</summary>
    public static double BareAppender(string path, List<LogRow> rows, int groupRows)
    {
        using var connection = new DuckDBConnection(new StorageOptions { Path = path }.ConnectionString());
        connection.Open();
        DuckDbSchema.Apply(connection);
        var clock = Stopwatch.StartNew();
        for (var start = 0; start < rows.Count; start += groupRows)
        {
            using var transaction = connection.BeginTransaction();
            using (var appender = connection.CreateAppender("log_lines"))
            {
                foreach (var log in rows.Skip(start).Take(groupRows))
                {
                    appender.CreateRow()
                        .AppendValue(log.LogId).AppendValue(log.Run.RunId).AppendValue(log.Run.Script)
                        .AppendValue(log.Level).AppendValue(log.Message).AppendValue(log.Timestamp)
                        .AppendValue((int?)log.Seq).AppendValue("korelogger").AppendValue((bool?)false)
                        .AppendValue(log.Run.DeploymentId).AppendValue(log.Run.Source).AppendValue(log.Run.SourceType)
                        .AppendValue(log.Pid).AppendValue(log.TraceId).AppendValue(log.SpanId).AppendValue(log.AttributesJson)
                        .EndRow();
                }
            }

            transaction.Commit();
        }

        return rows.Count / clock.Elapsed.TotalSeconds;
    }
}
