using Microsoft.Extensions.Options;
using Pipeline.Diagnostics;

namespace Pipeline.Forwarding;

/// <summary>
/// Drains the forward queue into the upstream, in queue order: up to <see cref="ForwardOptions.Concurrency"/> exports
/// in flight, each retried until the upstream takes it or refuses it for good (<see cref="SendResult"/>), with
/// exponential backoff and jitter (<see cref="Backoff"/>) that honours RetryInfo and Retry-After. The read position
/// advances only past the prefix of the queue the upstream has acknowledged; after a crash or stop the rest is sent
/// again (at least once). Nothing here ever gives up on an export because of time or attempts.
/// </summary>
internal sealed partial class ForwardService(
    ForwardQueue forward,
    IOptions<ForwardOptions> options,
    PipelineMetrics metrics,
    TimeProvider clock,
    ILogger<ForwardService> logger) : BackgroundService
{
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(30);

    private readonly ForwardOptions _options = options.Value;
    private readonly Lock _state = new();
    private bool _failing;
    private long _failuresSinceLog;
    private DateTimeOffset _lastFailureLog = DateTimeOffset.MinValue;
    private DateTimeOffset _lastRejectedLog = DateTimeOffset.MinValue;
    private DateTimeOffset _lastPartialLog = DateTimeOffset.MinValue;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Before the receivers listen: a queue that cannot be opened stops the start, and the hook finds it open.
        forward.Open();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (forward.Disk is not { } queue)
        {
            return;
        }

        using var upstream = UpstreamClient.Create(_options);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await DrainAsync(queue, upstream, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Reading the queue failed: start again from the acknowledged position after a pause, rather than stop
                // the daemon (a failed background service stops the host).
                LogReadFailed(logger, ex, forward.Folder);
                queue.Rewind();
                await Task.Delay(_options.MinBackoff, clock, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    private async Task DrainAsync(DiskQueue queue, UpstreamClient upstream, CancellationToken stoppingToken)
    {
        using var drain = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var inFlight = new Queue<(QueueRecord Record, Task Done)>();
        Task<QueueRecord>? reading = null;
        try
        {
            while (true)
            {
                if (reading is null && inFlight.Count < _options.Concurrency)
                {
                    reading = queue.ReadAsync(drain.Token);
                }

                await (inFlight.Count == 0 ? reading! : reading is null ? inFlight.Peek().Done : Task.WhenAny(reading, inFlight.Peek().Done)).ConfigureAwait(false);
                if (reading is { IsCompleted: true })
                {
                    var record = await reading.ConfigureAwait(false);
                    reading = null;
                    inFlight.Enqueue((record, DeliverAsync(record, upstream, drain.Token)));
                }

                // The acknowledged prefix: the position moves past each export done, in order.
                while (inFlight.Count > 0 && inFlight.Peek().Done.IsCompleted)
                {
                    var (record, done) = inFlight.Dequeue();
                    await done.ConfigureAwait(false);
                    queue.Commit(record.End);
                }
            }
        }
        finally
        {
            // Whatever is still in flight stops and is sent again from the acknowledged position.
            await drain.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(inFlight.Select(f => f.Done).Append(reading ?? Task.CompletedTask)).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            queue.Rewind();
        }
    }

    /// <summary>Sends one export until the upstream takes it or refuses it for good.</summary>
    private async Task DeliverAsync(QueueRecord record, UpstreamClient upstream, CancellationToken stoppingToken)
    {
        if (record.Corrupt)
        {
            metrics.ForwardDropped("corrupt", record.Skipped);
            LogCorrupt(logger, forward.Folder, record.Start.Segment, record.Start.Offset, record.Skipped);
            return;
        }

        var signal = record.Kind == SignalKind.Traces ? "traces" : "logs";
        for (var attempt = 1; ; attempt++)
        {
            SendResult result;
            try
            {
                result = await upstream.SendAsync(record.Kind, record.Payload, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Whatever the client library throws besides its own failures is no reason to stop forwarding.
                result = new SendResult(SendOutcome.Retry, "error", ex.Message);
            }

            switch (result.Outcome)
            {
                case SendOutcome.Sent:
                    metrics.ForwardSent(signal);
                    Recovered();
                    if (result.RejectedRecords > 0)
                    {
                        metrics.ForwardRejected(signal, result.RejectedRecords);
                        if (Due(ref _lastPartialLog))
                        {
                            LogPartial(logger, result.RejectedRecords, signal, result.Message);
                        }
                    }

                    return;

                case SendOutcome.Rejected:
                    // Permanent: sending it again would fail the same way, and it would block every export behind it.
                    metrics.ForwardDropped("rejected", 1);
                    Recovered();
                    if (Due(ref _lastRejectedLog))
                    {
                        LogRejected(logger, signal, record.Payload.Length, result.Reason, result.Message);
                    }

                    return;

                default:
                    metrics.ForwardRetry(result.Reason);
                    var delay = Backoff.Delay(attempt, _options.MinBackoff, _options.MaxBackoff, result.RetryAfter, Random.Shared.NextDouble());
                    Failed(result, delay);
                    await Task.Delay(delay, clock, stoppingToken).ConfigureAwait(false);
                    break;
            }
        }
    }

    /// <summary>One line when an outage starts, then one every <see cref="LogInterval"/> while it lasts, with the count.</summary>
    private void Failed(SendResult result, TimeSpan delay)
    {
        lock (_state)
        {
            _failuresSinceLog++;
            var now = clock.GetUtcNow();
            if (_failing && now - _lastFailureLog < LogInterval)
            {
                return;
            }

            if (result.Outcome == SendOutcome.Misconfigured)
            {
                LogMisconfigured(logger, _options.Endpoint, result.Reason, result.Message, _failuresSinceLog);
            }
            else
            {
                LogFailing(logger, _options.Endpoint, result.Reason, result.Message, _failuresSinceLog, delay);
            }

            _failing = true;
            _failuresSinceLog = 0;
            _lastFailureLog = now;
        }
    }

    private void Recovered()
    {
        lock (_state)
        {
            if (_failing)
            {
                _failing = false;
                _failuresSinceLog = 0;
                LogRecovered(logger, _options.Endpoint);
            }
        }
    }

    private bool Due(ref DateTimeOffset last)
    {
        lock (_state)
        {
            var now = clock.GetUtcNow();
            if (now - last < LogInterval)
            {
                return false;
            }

            last = now;
            return true;
        }
    }

    [LoggerMessage(EventId = 710, Level = LogLevel.Warning, Message = "Forwarding to {Endpoint} fails ({Reason}: {Message}); {Failures} failed attempts since the last line; retrying in {Delay}, nothing is dropped")]
    private static partial void LogFailing(ILogger logger, string endpoint, string reason, string message, long failures, TimeSpan delay);

    [LoggerMessage(EventId = 711, Level = LogLevel.Error, Message = "Forwarding to {Endpoint} is refused ({Reason}: {Message}): check Forward:Endpoint, Forward:Protocol and the token in Forward:Headers; {Failures} failed attempts since the last line; retrying, nothing is dropped")]
    private static partial void LogMisconfigured(ILogger logger, string endpoint, string reason, string message, long failures);

    [LoggerMessage(EventId = 712, Level = LogLevel.Information, Message = "Forwarding to {Endpoint} works again")]
    private static partial void LogRecovered(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 713, Level = LogLevel.Warning, Message = "The upstream refused a {Signal} export of {Bytes} bytes for good ({Reason}: {Message}); it is dropped from the forward queue (stored here still). At most one line every 30 s; see pipeline.forward.exports.dropped")]
    private static partial void LogRejected(ILogger logger, string signal, int bytes, string reason, string message);

    [LoggerMessage(EventId = 714, Level = LogLevel.Warning, Message = "The upstream refused {Records} {Signal} records of a forwarded export: {Message}. At most one line every 30 s; see pipeline.forward.records.rejected")]
    private static partial void LogPartial(ILogger logger, long records, string signal, string message);

    [LoggerMessage(EventId = 715, Level = LogLevel.Error, Message = "Forward queue {Folder}: damaged record in segment {Segment} at {Offset}; the {Records} exports from there to the segment's end are skipped")]
    private static partial void LogCorrupt(ILogger logger, string folder, long segment, long offset, long records);

    [LoggerMessage(EventId = 716, Level = LogLevel.Error, Message = "Forward queue {Folder} could not be read; trying again")]
    private static partial void LogReadFailed(ILogger logger, Exception exception, string folder);
}
