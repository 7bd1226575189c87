using System.Globalization;
using DuckDB.NET.Data;
using Pipeline.Buffering;
using Pipeline.Diagnostics;

namespace Pipeline.Storage;

/// <summary>
/// Deletes the oldest data, whole seconds of runs at a time (by when they started) with all their logs and spans, when
/// it is older than <see cref="RetentionOptions.MaxAge"/> or when the database takes more than
/// <see cref="RetentionOptions.MaxDiskBytes"/>. It runs on the writer's connection between two commits, one short step
/// at a time (at most about a twentieth of the runs), so ingest waits for one step, never for a whole pass.
/// After a step it checkpoints: that is when DuckDB frees the deleted row groups' blocks for reuse.
/// </summary>
internal sealed partial class Retention(
    RetentionOptions options,
    DedupOptions dedup,
    StorageOptions storage,
    TimeProvider clock,
    PipelineMetrics metrics,
    ILogger<Retention> logger)
{
    // Delete down from this share of the cap, so that the file (used plus free blocks) settles under the cap.
    private const double HighWater = 0.80;
    private const double StepShare = 0.05;

    private const double LowWater = 0.70;

    private DateTime _nextCheck;
    private bool _moreToDo;
    private double? _bytesPerRun;

    /// <summary>True when a step should run before the next commit.</summary>
    public bool IsDue => _moreToDo || clock.GetUtcNow().UtcDateTime >= _nextCheck;

    /// <summary>How long until a step is due (zero when due): how long an idle writer may wait for exports.</summary>
    public TimeSpan DueIn => _moreToDo ? TimeSpan.Zero : Max(_nextCheck - clock.GetUtcNow().UtcDateTime, TimeSpan.Zero);

    /// <summary>With a disk cap, size is checked at least every second: at full speed a minute of data is hundreds of megabytes.</summary>
    private TimeSpan CheckEvery => options.MaxDiskBytes > 0 && options.Interval > TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : options.Interval;

    /// <summary>Bytes the database holds now: its blocks in use and its write-ahead log.</summary>
    public long StoreBytes(DuckDBConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT used_blocks * block_size FROM pragma_database_size() WHERE database_name = current_database()";
        var used = Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        var wal = new FileInfo(Path.GetFullPath(storage.Path) + ".wal");
        return used + (wal.Exists ? wal.Length : 0);
    }

    /// <summary>Runs one step if one is needed; the writer calls it between commits while <see cref="IsDue"/>.</summary>
    public void Step(DuckDbWriter writer)
    {
        var connection = writer.Connection;
        var now = clock.GetUtcNow().UtcDateTime;
        _moreToDo = false;
        _nextCheck = now + CheckEvery;
        var oldest = Scalar<DateTime?>(connection, "SELECT min(executed_on) FROM runs");
        var ageCutoff = FloorSecond(now - options.MaxAge);
        var bytes = StoreBytes(connection);
        metrics.StoreBytes = bytes;
        string reason;
        DateTime cutoff;
        if (oldest < ageCutoff)
        {
            (reason, cutoff) = ("age", Min(ageCutoff, StepCutoff(connection, oldest.Value, StepShare)));
        }
        else if (options.MaxDiskBytes > 0 && bytes > options.MaxDiskBytes * HighWater && oldest is not null)
        {
            // How many runs to keep is worked out once, from the size per run when the cap was passed: the space of
            // deleted rows comes back only at a checkpoint that no reader's snapshot holds back, and until then the
            // size alone would ask for more and more deletes.
            var runCount = Scalar<long>(connection, "SELECT count(*) FROM runs");
            _bytesPerRun ??= (double)bytes / Math.Max(1, runCount);
            var keep = (long)(options.MaxDiskBytes * LowWater / _bytesPerRun.Value);
            if (runCount <= keep)
            {
                Checkpoint(connection);
                return;
            }

            (reason, cutoff) = ("disk", StepCutoff(connection, oldest.Value, Math.Min(StepShare, (double)(runCount - keep) / runCount)));
        }
        else
        {
            _bytesPerRun = null;
            DuckDbStore.Execute(connection, $"DELETE FROM export_digests WHERE committed_at < {DuckDbStore.Literal(now - dedup.Window)}");
            return;
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var runs = DeleteBefore(connection, cutoff);
        writer.Runs.ForgetExecutedBefore(cutoff);
        Checkpoint(connection);
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        metrics.RetentionDeleted(runs, reason);
        LogStep(logger, runs, cutoff, reason, bytes, elapsed.TotalMilliseconds);
        _moreToDo = true;
    }

    /// <summary>
    /// Frees the deleted row groups' blocks for reuse now rather than at the next automatic checkpoint. DuckDB refuses
    /// a checkpoint while another write transaction is open; then the next one frees them.
    /// </summary>
    private void Checkpoint(DuckDBConnection connection)
    {
        try
        {
            DuckDbStore.Execute(connection, "CHECKPOINT");
        }
        catch (DuckDBException ex)
        {
            LogCheckpointPostponed(logger, ex.Message);
        }
    }

    /// <summary>Deletes the runs that started before <paramref name="cutoff"/>, their lines and spans, in one transaction.</summary>
    private static long DeleteBefore(DuckDBConnection connection, DateTime cutoff)
    {
        using var transaction = connection.BeginTransaction();
        var literal = DuckDbStore.Literal(cutoff);
        var runs = Scalar<long>(connection, $"SELECT count(*) FROM runs WHERE executed_on < {literal}");
        var until = Scalar<DateTime?>(connection, $"SELECT max(greatest(log_window_end, ended_on, executed_on)) FROM runs WHERE executed_on < {literal}");
        var sql = SqlText.Get("retention_slice")
            .Replace("$cutoff", literal, StringComparison.Ordinal)
            .Replace("$until", DuckDbStore.Literal(until is { } u && u > cutoff ? u : cutoff), StringComparison.Ordinal);
        DuckDbStore.Execute(connection, sql);
        transaction.Commit();
        return runs;
    }

    /// <summary>The end of the next slice: whole seconds, about <paramref name="share"/> of the runs, at least the oldest second.</summary>
    private static DateTime StepCutoff(DuckDBConnection connection, DateTime oldest, double share)
    {
        var at = Scalar<DateTime?>(connection, $"SELECT quantile_disc(executed_on, {share.ToString(CultureInfo.InvariantCulture)}) FROM runs") ?? oldest;
        return Max(FloorSecond(oldest) + TimeSpan.FromSeconds(1), FloorSecond(at) + TimeSpan.FromSeconds(1));
    }

    private static T Scalar<T>(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        var value = command.ExecuteScalar();
        return value is null or DBNull ? default! : (T)Convert.ChangeType(value, Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T), CultureInfo.InvariantCulture);
    }

    private static DateTime FloorSecond(DateTime t) => new(t.Ticks - (t.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    [LoggerMessage(EventId = 111, Level = LogLevel.Debug, Message = "Checkpoint after retention postponed: {Reason}")]
    private static partial void LogCheckpointPostponed(ILogger logger, string reason);

    [LoggerMessage(EventId = 110, Level = LogLevel.Information, Message = "Retention deleted {Runs} runs that started before {Cutoff:o} ({Reason}; store was {Bytes} bytes) in {Milliseconds:0} ms")]
    private static partial void LogStep(ILogger logger, long runs, DateTime cutoff, string reason, long bytes, double milliseconds);
}
