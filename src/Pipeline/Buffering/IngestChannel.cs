using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Pipeline.Diagnostics;
using Pipeline.Parsing;

namespace Pipeline.Buffering;

/// <summary>A row on its way to the writer, with the ticket of the export that sent it.</summary>
internal readonly record struct PendingRow(IngestRow Row, CommitTicket Ticket);

/// <summary>Refused because the channel stayed full (or the daemon is stopping): the client should retry later.</summary>
internal sealed class ChannelFullException(string message, TimeSpan retryAfter) : Exception(message)
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>
/// The bounded channel between receivers (many writers) and the DuckDB writer (one reader), counted in rows.
/// Full policy: an export waits for room at most <see cref="ChannelOptions.FullWait"/> without progress, then is
/// refused as retryable (<see cref="ChannelFullException"/>). Nothing is dropped silently: rows already queued by a
/// refused export are still committed, and a retry of it is stored once because every row has a key.
/// </summary>
internal sealed class IngestChannel
{
    private readonly Channel<PendingRow> _channel;
    private readonly ChannelOptions _options;
    private readonly PipelineMetrics _metrics;

    public IngestChannel(IOptions<ChannelOptions> options, PipelineMetrics metrics)
    {
        _options = options.Value;
        _metrics = metrics;
        _channel = Channel.CreateBounded<PendingRow>(new BoundedChannelOptions(_options.CapacityRows)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public ChannelReader<PendingRow> Reader => _channel.Reader;

    /// <summary>Rows waiting for the writer now.</summary>
    public int Depth => _channel.Reader.Count;

    /// <summary>Queues an export's rows; the returned ticket completes when all of them are committed.</summary>
    public async ValueTask<CommitTicket> EnqueueAsync(IReadOnlyList<IngestRow> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return CommitTicket.Done();
        }

        var ticket = new CommitTicket(rows.Count);
        var writer = _channel.Writer;
        foreach (var row in rows)
        {
            var item = new PendingRow(row, ticket);
            if (!writer.TryWrite(item))
            {
                await WaitAndWriteAsync(item, cancellationToken).ConfigureAwait(false);
            }
        }

        return ticket;
    }

    /// <summary>No more rows: the writer drains what is queued and stops.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    private async ValueTask WaitAndWriteAsync(PendingRow item, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.FullWait);
        try
        {
            await _channel.Writer.WriteAsync(item, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _metrics.ExportRefused();
            throw new ChannelFullException(
                $"ingest channel full ({_options.CapacityRows} rows) for {_options.FullWait.TotalMilliseconds:0} ms; retry later",
                _options.RetryAfter);
        }
        catch (ChannelClosedException)
        {
            _metrics.ExportRefused();
            throw new ChannelFullException("the daemon is shutting down; retry later", _options.RetryAfter);
        }
    }
}
