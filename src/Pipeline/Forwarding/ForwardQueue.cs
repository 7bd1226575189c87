using Google.Protobuf;
using Microsoft.Extensions.Options;
using Pipeline.Buffering;
using Pipeline.Diagnostics;
using Pipeline.Parsing;
using Pipeline.Storage;

namespace Pipeline.Forwarding;

/// <summary>
/// Ingest's side of forwarding. Before an export is stored locally it gets room in the disk queue
/// (<see cref="Reserve"/>), which applies <see cref="ForwardOptions.WhenFull"/>: RefuseNew refuses the export as
/// retryable there, before anything is stored; DropOldest drops the oldest queued exports, counted and logged. After
/// the local commit and before the client is answered the export is appended durably (<see cref="AppendAsync"/>), so
/// that every acknowledged export is in the queue. Does nothing while forwarding is off.
/// </summary>
internal sealed partial class ForwardQueue(
    IOptions<ForwardOptions> options,
    IOptions<StorageOptions> storage,
    IOptions<ChannelOptions> channel,
    PipelineMetrics metrics,
    TimeProvider clock,
    ILogger<ForwardQueue> logger) : IDisposable
{
    private static readonly TimeSpan DropLogInterval = TimeSpan.FromSeconds(10);

    private readonly ForwardOptions _options = options.Value;
    private readonly Lock _dropLog = new();
    private DateTimeOffset _lastDropLog = DateTimeOffset.MinValue;
    private long _droppedSinceLog;

    public bool Enabled => _options.Enabled;

    /// <summary>The queue, once opened at start; null while forwarding is off.</summary>
    public DiskQueue? Disk { get; private set; }

    public string Folder => _options.QueueFolder(storage.Value.Path);

    /// <summary>Opens the queue at start (a queue that cannot be opened stops the start).</summary>
    public void Open()
    {
        if (!Enabled || Disk is not null)
        {
            return;
        }

        Disk = DiskQueue.Open(Folder, _options.QueueBytes);
        var opened = Disk.Opened;
        metrics.ObserveForwardQueue(() => Disk.DiskBytes, () => Disk.PendingRecords);
        LogOpened(logger, Folder, opened.Records, _options.Endpoint);
        if (opened.TornBytes > 0 || opened.DamagedSegments > 0)
        {
            LogRecovered(logger, Folder, opened.TornBytes, opened.DamagedSegments);
        }
    }

    /// <summary>
    /// Serializes the export and reserves its room in the queue; null when it is not to be forwarded (forwarding off,
    /// or nothing of it accepted). Throws <see cref="RetryLaterException"/> when the queue is full under RefuseNew.
    /// </summary>
    public ForwardSlot? Reserve(SignalKind kind, IMessage message, ParsedExport parsed)
    {
        if (Disk is null || parsed.Rows.Count == 0)
        {
            return null;
        }

        // Records the sender's token may not write were refused here: sent on under this daemon's own token they
        // would be stored upstream. The rest of the export goes (docs/forwarding.md).
        var payload = (parsed.OutOfScope is { } refused ? InScopeRecords.Of(message, refused) : message).ToByteArray();
        var frame = QueueFormat.FrameBytes(payload.Length);
        if (frame > Disk.MaxPayloadBytes + QueueFormat.HeaderBytes)
        {
            metrics.ForwardDropped("too_large", 1);
            LogTooLarge(logger, payload.Length, _options.QueueBytes);
            return null;
        }

        var dropOldest = _options.WhenFull == WhenQueueFull.DropOldest;
        if (!Disk.TryReserve(frame, dropOldest, out var dropped))
        {
            metrics.ExportRefused("forward_queue_full");
            throw new RetryLaterException(
                $"the forward queue is full ({Disk.DiskBytes} of Forward:QueueBytes {_options.QueueBytes} bytes, the upstream {_options.Endpoint} is behind): retry later",
                channel.Value.RetryAfter);
        }

        if (dropped > 0)
        {
            Dropped(dropped);
        }

        return new ForwardSlot(kind, payload, frame);
    }

    /// <summary>Appends the reserved export durably; throws <see cref="RetryLaterException"/> if the disk refuses it.</summary>
    public async Task AppendAsync(ForwardSlot slot)
    {
        try
        {
            slot.Appended = true;
            await Disk!.AppendAsync(slot.Kind, slot.Payload).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            // Stored locally but not queued: the client's retry is a repeat, which is queued again (OtlpIngest).
            metrics.ExportRefused("forward_queue_io");
            LogAppendFailed(logger, ex, Folder);
            throw new RetryLaterException($"the forward queue could not be written ({ex.Message}): retry later", channel.Value.RetryAfter, ex);
        }
        catch (ObjectDisposedException ex)
        {
            // The daemon is stopping: stored locally, not queued; the client's retry after the restart is queued.
            metrics.ExportRefused("forward_queue_io");
            throw new RetryLaterException("the daemon is stopping and its forward queue is closed: retry later", channel.Value.RetryAfter, ex);
        }
    }

    /// <summary>Gives back the room of an export that was not appended (refused or failed before its commit).</summary>
    public void Release(ForwardSlot slot)
    {
        if (!slot.Appended)
        {
            Disk?.Release(slot.FrameBytes);
        }
    }

    public void Dispose() => Disk?.Dispose();

    /// <summary>Counts every drop, logs at most one line per <see cref="DropLogInterval"/> with the count since the last.</summary>
    private void Dropped(long exports)
    {
        metrics.ForwardDropped("queue_full", exports);
        lock (_dropLog)
        {
            _droppedSinceLog += exports;
            var now = clock.GetUtcNow();
            if (now - _lastDropLog < DropLogInterval)
            {
                return;
            }

            LogDroppedOldest(logger, _droppedSinceLog, _options.QueueBytes, _options.Endpoint);
            _droppedSinceLog = 0;
            _lastDropLog = now;
        }
    }

    [LoggerMessage(EventId = 700, Level = LogLevel.Information, Message = "Forwarding to {Endpoint} through the queue in {Folder}: {Records} exports waiting")]
    private static partial void LogOpened(ILogger logger, string folder, long records, string endpoint);

    [LoggerMessage(EventId = 701, Level = LogLevel.Warning, Message = "Forward queue {Folder}: cut {TornBytes} bytes of a torn last write (never acknowledged) and removed {Damaged} unusable segment files")]
    private static partial void LogRecovered(ILogger logger, string folder, long tornBytes, long damaged);

    [LoggerMessage(EventId = 702, Level = LogLevel.Warning, Message = "Forward queue full (Forward:QueueBytes {QueueBytes}, upstream {Endpoint} behind): dropped the {Exports} oldest queued exports (Forward:WhenFull=DropOldest); they stay stored here")]
    private static partial void LogDroppedOldest(ILogger logger, long exports, long queueBytes, string endpoint);

    [LoggerMessage(EventId = 704, Level = LogLevel.Warning, Message = "Export of {Bytes} bytes not forwarded: larger than the whole forward queue (Forward:QueueBytes {QueueBytes})")]
    private static partial void LogTooLarge(ILogger logger, long bytes, long queueBytes);

    [LoggerMessage(EventId = 705, Level = LogLevel.Error, Message = "Forward queue {Folder} could not be written; the export is answered retry later")]
    private static partial void LogAppendFailed(ILogger logger, Exception exception, string folder);
}

/// <summary>An export with its room reserved in the forward queue, waiting for its local commit.</summary>
internal sealed class ForwardSlot(SignalKind kind, byte[] payload, long frameBytes)
{
    public SignalKind Kind { get; } = kind;

    public byte[] Payload { get; } = payload;

    public long FrameBytes { get; } = frameBytes;

    public bool Appended { get; set; }
}
