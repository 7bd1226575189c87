using System.Diagnostics;
using Microsoft.Extensions.Options;
using Pipeline.Buffering;
using Pipeline.Diagnostics;
using Pipeline.Parsing;

namespace Pipeline.Storage;

/// <summary>
/// Drains the ingest channel into DuckDB: takes whole exports while they fit in <see cref="StorageOptions.BatchRows"/>
/// (waiting <see cref="StorageOptions.BatchDelay"/> for more when the group is small), commits them as one
/// transaction with their digests, then completes their tickets. Between commits it runs retention steps when due.
/// On shutdown it drains the channel first.
/// <para>
/// A failed commit is sorted by its cause (<see cref="StorageFailure"/>). A failure of the store (disk full, I/O, a
/// corrupt block) refuses the whole group as retryable, marks the store failing for <c>/readyz</c>, and is not
/// split; the database is then closed, readers included, and opened afresh from its file (DuckDB may keep a half-applied
/// commit in memory, or has invalidated the database after a fatal error). If it cannot be opened, that is tried
/// again when an export comes or, while idle, every <see cref="ChannelOptions.RetryAfter"/>. The next commit that
/// succeeds says the store takes commits again. A failure caused by rows retries each export of the group alone, so one poisoned export cannot sink
/// the others; the one that still fails alone is refused for good.
/// </para>
/// </summary>
internal sealed partial class WriterService(
    IngestChannel channel,
    DedupWindow dedup,
    Retention retention,
    IOptions<StorageOptions> options,
    IOptions<DedupOptions> dedupOptions,
    IOptions<RetentionOptions> retentionOptions,
    IOptions<ChannelOptions> channelOptions,
    IOptions<Lake.LakeOptions> lakeOptions,
    StoreHealth health,
    StoreGate gate,
    PipelineMetrics metrics,
    CommitFeed feed,
    TimeProvider clock,
    ILogger<WriterService> logger) : BackgroundService
{
    private readonly StorageOptions _options = options.Value;
    /// <summary>How long the writer waits for interrupted readers to leave before it opens the database afresh.</summary>
    private static readonly TimeSpan ReadersLeave = TimeSpan.FromSeconds(10);

    private readonly TimeSpan _retryAfter = channelOptions.Value.RetryAfter;
    /// <summary>The lake folder DuckDB may write the publisher's files into; created here, before DuckDB is locked down.</summary>
    private readonly string? _lakeFolder = lakeOptions.Value.Publishes ? Directory.CreateDirectory(Path.GetFullPath(lakeOptions.Value.Path)).FullName : null;
    private readonly long _memoryLimit = StorageOptions.Bytes(options.Value.MemoryLimit);
    private DuckDbWriter? _writer;
    private DateTime _nextOpen;
    private DateTime _lastFreshOpen;
    private long _commits;
    private long _rows;

    /// <summary>True once storage is open and until the writer has stopped.</summary>
    public bool IsRunning { get; private set; }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Opened here, before the receivers listen: a file that cannot be opened stops the start.
        OpenWriter(atStart: true);
        metrics.ObserveWriter(channel, dedup, () => _writer?.Runs.Count ?? 0);
        LogStorageOpened(logger, _options.Path, DuckDbSchema.Version);
        IsRunning = true;
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Receivers have stopped by now (the server stops before hosted services registered ahead of it).
        channel.Complete();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        // The loop disposes the writer when it ends; if it never started, nothing else will.
        if (ExecuteTask is null)
        {
            _writer?.Dispose();
        }

        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var reader = channel.Reader;
        var group = new List<PendingExport>();
        PendingExport? carried = null;
        try
        {
            // Not cancelled by stoppingToken: the loop ends when the channel is completed and empty.
            while (true)
            {
                RetainIfDue();
                if (carried is null && health.Failure is not null)
                {
                    ReopenIfClosed();
                }

                if (carried is null)
                {
                    var ready = await WaitForExportsAsync(reader).ConfigureAwait(false);
                    if (ready is false)
                    {
                        break;
                    }

                    if (ready is null)
                    {
                        continue; // Idle until retention was due.
                    }
                }

                carried = Fill(reader, group, carried);
                if (carried is null && GroupRows(group) < _options.BatchRows && _options.BatchDelay > TimeSpan.Zero)
                {
                    await Task.Delay(_options.BatchDelay, CancellationToken.None).ConfigureAwait(false);
                    carried = Fill(reader, group, carried);
                }

                Commit(group);
                group.Clear();
            }

            LogDrained(logger, _commits, _rows);
        }
        finally
        {
            // Here, not in Dispose: the host may dispose this service while a slow drain still writes.
            IsRunning = false;
            _writer?.Dispose();
        }
    }

    /// <summary>
    /// True when exports wait, false when the channel is completed and empty, null when retention (or, while the store
    /// fails, a probe of it) is due first.
    /// </summary>
    private async Task<bool?> WaitForExportsAsync(System.Threading.Channels.ChannelReader<PendingExport> reader)
    {
        var wake = health.Failure is null ? retention.DueIn : TimeSpan.FromTicks(Math.Min(retention.DueIn.Ticks, _retryAfter.Ticks));
        using var due = new CancellationTokenSource(wake);
        try
        {
            return await reader.WaitToReadAsync(due.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (due.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Takes whole exports while the group stays within BatchRows (one export always fits); returns the one that did not.</summary>
    private PendingExport? Fill(System.Threading.Channels.ChannelReader<PendingExport> reader, List<PendingExport> group, PendingExport? carried)
    {
        var rows = GroupRows(group);
        if (carried is not null)
        {
            group.Add(carried);
            rows += carried.Rows.Count;
        }

        while (rows < _options.BatchRows && reader.TryRead(out var export))
        {
            if (group.Count > 0 && rows + export.Rows.Count > _options.BatchRows)
            {
                return export;
            }

            group.Add(export);
            rows += export.Rows.Count;
        }

        return null;
    }

    private static int GroupRows(List<PendingExport> group) => group.Sum(e => e.Rows.Count);

    private void RetainIfDue()
    {
        if (!retention.IsDue || _writer is null)
        {
            return;
        }

        try
        {
            retention.Step(_writer!);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogRetentionFailed(logger, ex);
        }
    }

    private void Commit(List<PendingExport> group)
    {
        if (group.Count == 0)
        {
            return;
        }

        if (!EnsureOpen())
        {
            RetryLater(group, health.Failure?.Reason ?? "storage is not open", null);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var rows = group.Count == 1 ? group[0].Rows : group.SelectMany(e => e.Rows).ToList();
        try
        {
            LeaveMemoryForTheCommit();
            _writer!.Write(rows, [.. group.Select(e => e.Digest)], clock.GetUtcNow().UtcDateTime);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            if (StoreFailed(ex, group))
            {
                return;
            }

            LogGroupFailed(logger, rows.Count, StorageFailure.Describe(ex));
            CommitEachExportAlone(group);
            return;
        }

        metrics.Committed(group.Sum(e => e.Received), Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        _commits++;
        _rows += rows.Count;
        Succeeded();
        Done(group);
    }

    private void CommitEachExportAlone(List<PendingExport> group)
    {
        for (var i = 0; i < group.Count; i++)
        {
            var export = group[i];
            try
            {
                var started = Stopwatch.GetTimestamp();
                _writer!.Write(export.Rows, [export.Digest], clock.GetUtcNow().UtcDateTime);
                metrics.Committed(export.Received, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                Succeeded();
                Done([export]);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                if (StoreFailed(ex, group.GetRange(i, group.Count - i)))
                {
                    return;
                }

                // It failed alone, for a reason in its own rows: sent again, it would fail again.
                LogExportRejected(logger, export.Rows.Count, StorageFailure.Describe(ex));
                metrics.ExportRefused("rejected_by_storage");
                Release(export);
                export.Ticket.Fail(new ExportRejectedException($"the export cannot be stored: {StorageFailure.Describe(ex)}", ex));
            }
        }
    }

    /// <summary>
    /// Ingest first, in memory too: DuckDB has one pool (<see cref="StorageOptions.MemoryLimit"/>) for the writer and
    /// every query, and a commit that finds it full fails (half-applied, at worst) or waits while DuckDB evicts. So
    /// when heavy queries (ad hoc SQL, exports) run, the pool is more than half full and their own work holds more than
    /// a quarter of it, they are interrupted before the commit (their clients are told to ask again) and the writer
    /// waits a moment for them to let go. Table data does not count: most of it is the writer's own committed rows.
    /// </summary>
    private void LeaveMemoryForTheCommit()
    {
        if (gate.HeavyReaders == 0)
        {
            return;
        }

        var (total, queries) = _writer!.MemoryInUse();
        if (total < _memoryLimit / 2 || queries < _memoryLimit / 4)
        {
            return;
        }

        gate.InterruptHeavy();
        metrics.QueryRefused("heavy", "memory_for_ingest");
        var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 2;
        while (gate.HeavyReaders > 0 && Stopwatch.GetTimestamp() < until)
        {
            Thread.Sleep(5);
        }
    }

    /// <summary>
    /// When the failure is the store's, refuses the exports as retryable, marks the store failing, closes an
    /// invalidated database, and answers true; false when the failure is the rows'.
    /// </summary>
    private bool StoreFailed(Exception error, List<PendingExport> exports)
    {
        var kind = StorageFailure.Classify(error);
        if (kind == StorageFailureKind.Rows)
        {
            return false;
        }

        var reason = $"commits fail: {StorageFailure.Describe(error)}";
        health.Failed(reason);
        LogStoreFailed(logger, exports.Sum(e => e.Rows.Count), error);

        // DuckDB may hold a half-applied commit in memory after such a failure (seen under memory pressure: a column
        // longer than its row group), a fatal one invalidates the database, and a failed commit can leave the
        // connection inside its transaction. The durable state is the file and its write-ahead log: open it afresh
        // before answering, so that the digests reloaded from it tell which of these exports did reach it. At once
        // at most every RetryAfter; during a lasting failure the writer stays closed and refuses until then.
        CloseWriter();
        var now = clock.GetUtcNow().UtcDateTime;
        if (now - _lastFreshOpen >= _retryAfter)
        {
            _lastFreshOpen = now;
            _nextOpen = default;
        }

        EnsureOpen();

        RetryLater(exports, reason, error);
        return true;
    }

    private void RetryLater(List<PendingExport> exports, string reason, Exception? error)
    {
        foreach (var export in exports)
        {
            metrics.ExportRefused("storage_failing");
            Release(export);
            export.Ticket.Fail(new RetryLaterException($"storage cannot take the export now ({reason}); retry later", _retryAfter, error));
        }
    }

    private void Release(PendingExport export)
    {
        dedup.Abandon(export.Digest);
        channel.Taken(export);
    }

    /// <summary>Opens the database unless it is open; after a failure, at most once every RetryAfter.</summary>
    private bool EnsureOpen()
    {
        if (_writer is not null)
        {
            return true;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        if (now < _nextOpen)
        {
            return false;
        }

        _nextOpen = now + _retryAfter;
        if (!gate.CloseAndDrain(TimeSpan.Zero))
        {
            // Queries still hold the database: opening now would give the same one back, not a fresh one.
            health.Failed("storage waits for interrupted queries to end before it opens the database afresh");
            return false;
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            OpenWriter();
            LogStorageReopened(logger, _options.Path, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            health.Failed($"storage cannot be opened: {StorageFailure.Describe(ex)}");
            LogReopenFailed(logger, StorageFailure.Describe(ex));
            return false;
        }
    }

    /// <summary>
    /// Opens the writer, then lets readers in. Digests and recent runs are (re)loaded from the file: an export whose
    /// commit reached the file before the store failed is then known as a repeat when its client retries.
    /// </summary>
    private void OpenWriter(bool atStart = false)
    {
        var writer = new DuckDbWriter(_options, retentionOptions.Value.MaxDiskBytes, atStart, _lakeFolder);
        try
        {
            dedup.Load(writer.DigestsSince(clock.GetUtcNow().UtcDateTime - dedupOptions.Value.Window));
        }
        catch
        {
            writer.Dispose();
            throw;
        }

        _writer = writer;
        gate.Open();
    }

    /// <summary>
    /// Closes the writer with every reader (their queries are interrupted), so that DuckDB closes the database and
    /// the next open replays it from disk. Readers stay out until it is open again; if some do not leave in time,
    /// the open waits for them (<see cref="EnsureOpen"/>).
    /// </summary>
    private void CloseWriter()
    {
        if (!gate.CloseAndDrain(ReadersLeave))
        {
            LogReadersStayed(logger, ReadersLeave.TotalSeconds);
        }

        try
        {
            _writer?.Dispose();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogReopenFailed(logger, StorageFailure.Describe(ex));
        }

        _writer = null;
    }

    /// <summary>
    /// While the database is closed after a fatal error and nothing comes in: opens it again, at most once every
    /// RetryAfter, so that the next export finds it open. Readiness does not change here: only a commit of real rows
    /// proves that commits succeed (a small probe would fit where an export does not).
    /// </summary>
    private void ReopenIfClosed()
    {
        if (_writer is null)
        {
            EnsureOpen();
        }
    }

    private void Done(List<PendingExport> exports)
    {
        dedup.Committed(exports.Select(e => e.Digest), clock.GetUtcNow().UtcDateTime);
        foreach (var export in exports)
        {
            channel.Taken(export);
            export.Ticket.MarkCommitted();
            feed.Committed(export.Rows);
        }
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Storage open at {Path} (schema version {Version})")]
    private static partial void LogStorageOpened(ILogger logger, string path, int version);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Writer drained the channel and stopped after {Commits} commits of {Rows} rows")]
    private static partial void LogDrained(ILogger logger, long commits, long rows);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "A group of {Rows} rows failed to commit ({Reason}); retrying each export alone")]
    private static partial void LogGroupFailed(ILogger logger, int rows, string reason);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "An export of {Rows} rows was refused: it fails to commit alone ({Reason})")]
    private static partial void LogExportRejected(ILogger logger, int rows, string reason);

    [LoggerMessage(EventId = 105, Level = LogLevel.Error, Message = "Storage failed; {Rows} rows refused as retryable")]
    private static partial void LogStoreFailed(ILogger logger, int rows, Exception error);

    [LoggerMessage(EventId = 106, Level = LogLevel.Warning, Message = "Storage at {Path} opened afresh from its file in {Milliseconds:0} ms")]
    private static partial void LogStorageReopened(ILogger logger, string path, double milliseconds);

    [LoggerMessage(EventId = 107, Level = LogLevel.Warning, Message = "Storage could not be opened again: {Reason}")]
    private static partial void LogReopenFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 109, Level = LogLevel.Warning, Message = "Readers did not leave within {Seconds} s; the database opens again once they have")]
    private static partial void LogReadersStayed(ILogger logger, double seconds);

    [LoggerMessage(EventId = 108, Level = LogLevel.Information, Message = "Storage takes commits again")]
    private static partial void LogStoreRecovered(ILogger logger);

    private void Succeeded()
    {
        if (health.Failure is not null)
        {
            LogStoreRecovered(logger);
        }

        health.Succeeded();
    }

    [LoggerMessage(EventId = 104, Level = LogLevel.Error, Message = "A retention step failed; it is tried again at the next interval")]
    private static partial void LogRetentionFailed(ILogger logger, Exception error);
}
