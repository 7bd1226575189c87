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
/// On shutdown it drains the channel first. If a group fails, each export in it is retried alone, so one poisoned
/// export cannot sink the others.
/// </summary>
internal sealed partial class WriterService(
    IngestChannel channel,
    DedupWindow dedup,
    Retention retention,
    IOptions<StorageOptions> options,
    IOptions<DedupOptions> dedupOptions,
    IOptions<RetentionOptions> retentionOptions,
    PipelineMetrics metrics,
    CommitFeed feed,
    TimeProvider clock,
    ILogger<WriterService> logger) : BackgroundService
{
    private readonly StorageOptions _options = options.Value;
    private DuckDbWriter? _writer;
    private long _commits;
    private long _rows;

    /// <summary>True once storage is open and until the writer has stopped.</summary>
    public bool IsRunning { get; private set; }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Opened here, before the receivers listen: a file that cannot be opened stops the start.
        _writer = new DuckDbWriter(_options, retentionOptions.Value.MaxDiskBytes);
        dedup.Load(_writer.DigestsSince(clock.GetUtcNow().UtcDateTime - dedupOptions.Value.Window));
        metrics.ObserveWriter(channel, dedup, _writer.Runs);
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

    /// <summary>True when exports wait, false when the channel is completed and empty, null when retention is due first.</summary>
    private async Task<bool?> WaitForExportsAsync(System.Threading.Channels.ChannelReader<PendingExport> reader)
    {
        using var due = new CancellationTokenSource(retention.DueIn);
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
        if (!retention.IsDue)
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

        var started = Stopwatch.GetTimestamp();
        var rows = group.Count == 1 ? group[0].Rows : group.SelectMany(e => e.Rows).ToList();
        try
        {
            _writer!.Write(rows, [.. group.Select(e => e.Digest)], clock.GetUtcNow().UtcDateTime);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogGroupFailed(logger, rows.Count, ex);
            CommitEachExportAlone(group);
            return;
        }

        metrics.Committed(rows.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        _commits++;
        _rows += rows.Count;
        Done(group);
    }

    private void CommitEachExportAlone(List<PendingExport> group)
    {
        foreach (var export in group)
        {
            try
            {
                _writer!.Write(export.Rows, [export.Digest], clock.GetUtcNow().UtcDateTime);
                Done([export]);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogExportFailed(logger, export.Rows.Count, ex);
                dedup.Abandon(export.Digest);
                channel.Taken(export);
                export.Ticket.Fail(new StorageException($"storage failed to commit the export: {ex.Message}", ex));
            }
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

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "A group of {Rows} rows failed to commit; retrying each export alone")]
    private static partial void LogGroupFailed(ILogger logger, int rows, Exception error);

    [LoggerMessage(EventId = 103, Level = LogLevel.Error, Message = "An export of {Rows} rows failed to commit")]
    private static partial void LogExportFailed(ILogger logger, int rows, Exception error);

    [LoggerMessage(EventId = 104, Level = LogLevel.Error, Message = "A retention step failed; it is tried again at the next interval")]
    private static partial void LogRetentionFailed(ILogger logger, Exception error);
}

/// <summary>DuckDB refused an export's rows; the client is told to retry.</summary>
internal sealed class StorageException(string message, Exception inner) : Exception(message, inner);
