using System.Diagnostics;
using DuckDB.NET.Data;
using Pipeline.Parsing;
using Pipeline.Storage;

namespace Pipeline.Benchmark;

/// <summary>
/// The floor: the same rows (every log line, stdout mirrors included, and every run row), with bare Appenders, straight
/// into the daemon's own tables, through the daemon's own column order (<see cref="TableRows"/>).
/// </summary>
internal static class Baselines
{
    /// <summary>Appends <paramref name="rows"/>, committing every <paramref name="groupRows"/> rows, then checkpoints; returns the time it took.</summary>
    public static TimeSpan BareAppender(string path, List<IngestRow> rows, int groupRows)
    {
        using var connection = new DuckDBConnection(new StorageOptions { Path = path }.ConnectionString());
        connection.Open();
        DuckDbSchema.Apply(connection);
        var now = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        for (var start = 0; start < rows.Count; start += groupRows)
        {
            var group = rows.Skip(start).Take(groupRows).ToList();
            using var transaction = connection.BeginTransaction();
            using (var logs = connection.CreateAppender("log_lines"))
            {
                foreach (var log in group.OfType<LogRow>())
                {
                    TableRows.AppendLog(logs, log, mirrored: false, now);
                }
            }

            using (var runs = connection.CreateAppender("runs"))
            {
                foreach (var run in group.OfType<RunRow>())
                {
                    var tracked = new TrackedRun(new RunKey(run.Run.Script, run.Run.RunId), true, run.ExecutedOn, run.Run.DeploymentId,
                        run.Run.DeploymentVersion, run.Run.Source, run.Run.SourceType, run.ExecutedOn, run.EndedOn, true, true);
                    TableRows.AppendRun(runs, tracked, run, now);
                }
            }

            transaction.Commit();
        }

        // Stored means written to the file, compressed, as the daemon's checkpoints do it, not only to the log.
        using (var checkpoint = connection.CreateCommand())
        {
            checkpoint.CommandText = "CHECKPOINT";
            checkpoint.ExecuteNonQuery();
        }

        return clock.Elapsed;
    }
}
