using System.Diagnostics;
using Microsoft.Extensions.Options;
using Pipeline.Buffering;
using Pipeline.Diagnostics;
using Pipeline.Parsing;

namespace Pipeline.Storage;

/// <summary>
/// Drains the ingest channel into DuckDB: takes what is queued (up to <see cref="StorageOptions.BatchRows"/>, waiting
/// <see cref="StorageOptions.BatchDelay"/> for more when the group is small), commits it as one transaction, then
/// completes the tickets of the exports whose rows are now durable. On shutdown it drains the channel first.
/// If a group fails, each export in it is retried alone, so one poisoned export cannot sink the others.
/// </summary>
internal sealed partial class WriterService(
    IngestChannel channel,
    IOptions<StorageOptions> options,
    PipelineMetrics metrics,
    CommitFeed feed,
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
        _writer = new DuckDbWriter(_options);
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
        var group = new List<PendingRow>(Math.Min(_options.BatchRows, 65_536));
        try
        {
            // Not cancelled by stoppingToken: the loop ends when the channel is completed and empty.
            while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                Fill(reader, group);
                if (group.Count < _options.BatchRows && _options.BatchDelay > TimeSpan.Zero)
                {
                    await Task.Delay(_options.BatchDelay, CancellationToken.None).ConfigureAwait(false);
                    Fill(reader, group);
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

    private void Fill(System.Threading.Channels.ChannelReader<PendingRow> reader, List<PendingRow> group)
    {
        while (group.Count < _options.BatchRows && reader.TryRead(out var item))
        {
            group.Add(item);
        }
    }

    private void Commit(List<PendingRow> group)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            _writer!.Write(group.ConvertAll(p => p.Row));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogGroupFailed(logger, group.Count, ex);
            CommitEachExportAlone(group);
            return;
        }

        metrics.Committed(group.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        _commits++;
        _rows += group.Count;
        MarkCommitted(group);
        feed.Committed(group.Select(p => p.Row));
    }

    private void CommitEachExportAlone(List<PendingRow> group)
    {
        foreach (var export in group.GroupBy(p => p.Ticket))
        {
            var rows = export.ToList();
            try
            {
                _writer!.Write(rows.ConvertAll(p => p.Row));
                MarkCommitted(rows);
                feed.Committed(rows.Select(p => p.Row));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogExportFailed(logger, rows.Count, ex);
                export.Key.Fail(new StorageException($"storage failed to commit the export: {ex.Message}", ex));
            }
        }
    }

    /// <summary>Tells each export how many of its rows this commit held (rows of one export sit mostly together).</summary>
    private static void MarkCommitted(List<PendingRow> rows)
    {
        var i = 0;
        while (i < rows.Count)
        {
            var ticket = rows[i].Ticket;
            var start = i;
            while (i < rows.Count && ReferenceEquals(rows[i].Ticket, ticket))
            {
                i++;
            }

            ticket.MarkCommitted(i - start);
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
}

/// <summary>DuckDB refused an export's rows; the client is told to retry.</summary>
internal sealed class StorageException(string message, Exception inner) : Exception(message, inner);
