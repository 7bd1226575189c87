using System.Collections.Concurrent;
using System.Threading.Channels;
using Pipeline.Parsing;

namespace Pipeline.Storage;

/// <summary>
/// Tells live readers (the log stream of a run) that rows of their run were just committed. The writer calls
/// <see cref="Committed"/> after each commit; with nobody listening that costs one dictionary check.
/// </summary>
internal sealed class CommitFeed
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Channel<bool>, byte>> _listeners = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>A signal that fires after each commit holding rows of <paramref name="runId"/>; dispose to stop.</summary>
    public Subscription Subscribe(string runId)
    {
        // One pending signal is enough: the reader re-reads everything it has not sent yet.
        var signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        lock (_gate)
        {
            _listeners.GetOrAdd(runId, _ => new()).TryAdd(signal, 0);
        }

        return new Subscription(this, runId, signal);
    }

    public void Committed(IEnumerable<IngestRow> rows)
    {
        if (_listeners.IsEmpty)
        {
            return;
        }

        foreach (var runId in rows.Select(RunOf).OfType<string>().Distinct())
        {
            if (_listeners.TryGetValue(runId, out var signals))
            {
                foreach (var signal in signals.Keys)
                {
                    signal.Writer.TryWrite(true);
                }
            }
        }
    }

    private static string? RunOf(IngestRow row) => row switch
    {
        LogRow log => log.Run.RunId,
        RunRow run => run.Run.RunId,
        _ => null,
    };

    internal sealed class Subscription(CommitFeed feed, string runId, Channel<bool> signal) : IDisposable
    {
        public ChannelReader<bool> Signals => signal.Reader;

        public void Dispose()
        {
            // Under the same lock as Subscribe: a run's set is dropped only while it is truly empty.
            lock (feed._gate)
            {
                if (feed._listeners.TryGetValue(runId, out var signals) && signals.TryRemove(signal, out _) && signals.IsEmpty)
                {
                    feed._listeners.TryRemove(runId, out _);
                }
            }
        }
    }
}
