using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Pipeline.Diagnostics;
using Pipeline.Parsing;

namespace Pipeline.Buffering;

/// <summary>
/// One export on its way to the writer: all its rows, the digest that identifies it (see <see cref="DedupWindow"/>),
/// what it weighs in the channel, the ticket its client waits on, and how many rows it brought as received (its rows
/// to store add per-run summaries). An export travels and commits whole.
/// </summary>
internal sealed record PendingExport(IReadOnlyList<IngestRow> Rows, ExportDigest Digest, long Bytes, CommitTicket Ticket, int Received);

/// <summary>
/// The bounded channel between receivers (many writers) and the DuckDB writer (one reader), counted in bytes
/// (<see cref="ChannelOptions.CapacityBytes"/>). Full policy: an export waits for room at most
/// <see cref="ChannelOptions.FullWait"/>, then is refused as retryable (<see cref="RetryLaterException"/>). An export
/// is queued whole or not at all, so a refused export left nothing behind, and its retry is a first try.
/// </summary>
internal sealed class IngestChannel
{
    private readonly Channel<PendingExport> _channel = Channel.CreateUnbounded<PendingExport>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ChannelOptions _options;
    private readonly PipelineMetrics _metrics;
    private readonly ByteBudget _budget;
    private int _rows;

    public IngestChannel(IOptions<ChannelOptions> options, PipelineMetrics metrics)
    {
        _options = options.Value;
        _metrics = metrics;
        _budget = new ByteBudget(_options.CapacityBytes);
    }

    public ChannelReader<PendingExport> Reader => _channel.Reader;

    /// <summary>Rows waiting for the writer now.</summary>
    public int Depth => Volatile.Read(ref _rows);

    /// <summary>Bytes of rows waiting for the writer now.</summary>
    public long DepthBytes => _budget.Used;

    /// <summary>Queues an export whole, waiting for room at most <see cref="ChannelOptions.FullWait"/>.</summary>
    public async ValueTask EnqueueAsync(PendingExport export, CancellationToken cancellationToken)
    {
        if (!await _budget.ReserveAsync(export.Bytes, _options.FullWait, cancellationToken).ConfigureAwait(false))
        {
            _metrics.ExportRefused("channel_full");
            throw new RetryLaterException(
                $"ingest channel full ({_options.CapacityBytes} bytes of rows waiting) for {_options.FullWait.TotalMilliseconds:0} ms; retry later",
                _options.RetryAfter);
        }

        Interlocked.Add(ref _rows, export.Rows.Count);
        if (!_channel.Writer.TryWrite(export))
        {
            Taken(export);
            _metrics.ExportRefused("shutting_down");
            throw new RetryLaterException("the daemon is shutting down; retry later", _options.RetryAfter);
        }
    }

    /// <summary>The writer is done with this export (committed or failed): its room is free again.</summary>
    public void Taken(PendingExport export)
    {
        Interlocked.Add(ref _rows, -export.Rows.Count);
        _budget.Release(export.Bytes);
    }

    /// <summary>No more exports: the writer drains what is queued and stops.</summary>
    public void Complete() => _channel.Writer.TryComplete();
}
