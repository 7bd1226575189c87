namespace Pipeline.Storage;

/// <summary>A run's identity: its id within its script. The same run id sent by two scripts is two runs.</summary>
internal readonly record struct RunKey(string Script, string RunId);

/// <summary>
/// A run as its row is stored. For an In Progress run (no run span yet) this is the whole row, so the writer can
/// write it anew; for a completed run it is what logs may still change, and <see cref="ExecutedOn"/> says where the
/// row sits in the table, so that updating it reads a few row groups rather than the table.
/// </summary>
internal sealed record TrackedRun(
    RunKey Key,
    bool Completed,
    DateTime ExecutedOn,
    string? DeploymentId,
    int? DeploymentVersion,
    string? Source,
    string? SourceType,
    DateTime WindowStart,
    DateTime WindowEnd,
    bool HasStdout,
    bool HasKorelogger)
{
    /// <summary>Log windows move in whole steps, so a run's window changes once per step, not once per group.</summary>
    public static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    public bool HasLogs => WindowStart <= WindowEnd;

    public bool HasBoth => HasStdout && HasKorelogger;

    /// <summary>The smallest step-aligned window holding <paramref name="first"/>..<paramref name="last"/> and this one.</summary>
    public (DateTime Start, DateTime End) WidenedWindow(DateTime first, DateTime last)
    {
        var start = Floor(first);
        var end = Floor(last) + Step;
        return HasLogs ? (start < WindowStart ? start : WindowStart, end > WindowEnd ? end : WindowEnd) : (start, end);
    }

    private static DateTime Floor(DateTime t) => new(t.Ticks - (t.Ticks % Step.Ticks), t.Kind);
}

/// <summary>
/// What the writer remembers of recent runs, most recently written first, so that a run's later logs and its run span
/// find its row without any index. Bounded by <see cref="StorageOptions.RecentRuns"/>: the least recently written run
/// is forgotten first. A forgotten run that is written again gets a second row (see docs/design.md: the merge window).
/// Changes take effect only when their transaction commits.
/// </summary>
internal sealed class RunTracker(int capacity)
{
    private readonly Dictionary<RunKey, LinkedListNode<TrackedRun>> _runs = [];
    private readonly LinkedList<TrackedRun> _byRecency = new();
    private readonly Dictionary<RunKey, TrackedRun> _staged = [];

    public int Count => _runs.Count;

    public long Forgotten { get; private set; }

    /// <summary>The run as this transaction leaves it so far, else as stored; null for a run not known.</summary>
    public TrackedRun? Get(RunKey key) =>
        _staged.TryGetValue(key, out var staged) ? staged : _runs.TryGetValue(key, out var node) ? node.Value : null;

    /// <summary>What the runs table will say after this transaction; takes effect on <see cref="Committed"/>.</summary>
    public void Stage(TrackedRun run) => _staged[run.Key] = run;

    public void Committed()
    {
        foreach (var run in _staged.Values)
        {
            Remember(run);
        }

        _staged.Clear();
    }

    public void RolledBack() => _staged.Clear();

    /// <summary>Remembers a stored run as the most recent (also used to load recent runs at start, oldest first).</summary>
    public void Remember(TrackedRun run)
    {
        if (_runs.Remove(run.Key, out var node))
        {
            _byRecency.Remove(node);
        }

        _runs[run.Key] = _byRecency.AddFirst(run);
        while (_runs.Count > capacity && _byRecency.Last is { } oldest)
        {
            _byRecency.RemoveLast();
            _runs.Remove(oldest.Value.Key);
            Forgotten++;
        }
    }

    /// <summary>Forgets runs whose rows retention deleted (executed before <paramref name="cutoff"/>).</summary>
    public void ForgetExecutedBefore(DateTime cutoff)
    {
        for (var node = _byRecency.First; node is not null;)
        {
            var next = node.Next;
            if (node.Value.ExecutedOn < cutoff)
            {
                _byRecency.Remove(node);
                _runs.Remove(node.Value.Key);
            }

            node = next;
        }
    }
}
