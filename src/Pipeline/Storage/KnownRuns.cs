namespace Pipeline.Storage;

/// <summary>
/// What the writer knows of recent runs, as stored in <c>runs</c>: the window of their log timestamps (whole
/// 10-second steps), which kinds of lines they have, whether they are still In Progress (and since when), and which of
/// the fields that logs may fill in are set. It lets a group of logs that would change none of that skip the runs
/// upsert, the writer's most expensive statement. Coarse steps make that the common case: a run's window grows once
/// per step, not once per group. Bounded: past <c>capacity</c> runs it starts over, and a run it no longer holds is
/// simply written again. Entries change only when their transaction commits.
/// </summary>
internal sealed class KnownRuns(int capacity)
{
    public static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    private readonly Dictionary<string, RunState> _known = [];
    private readonly List<(string RunId, RunState State)> _pending = [];

    /// <summary>The smallest step-aligned window around these timestamps.</summary>
    public static (DateTime Start, DateTime End) WindowAround(DateTime first, DateTime last) =>
        (Floor(first), Floor(last) + Step);

    public bool TryGet(string runId, out RunState state) => _known.TryGetValue(runId, out state);

    /// <summary>What the runs table says after this transaction; takes effect on <see cref="Committed"/>.</summary>
    public void Stage(string runId, RunState state) => _pending.Add((runId, state));

    public void Committed()
    {
        if (_known.Count + _pending.Count > capacity)
        {
            _known.Clear();
        }

        foreach (var (runId, state) in _pending)
        {
            _known[runId] = state;
        }

        _pending.Clear();
    }

    public void RolledBack() => _pending.Clear();

    private static DateTime Floor(DateTime t) => new(t.Ticks - (t.Ticks % Step.Ticks), t.Kind);
}

/// <summary>One run as stored: see <see cref="KnownRuns"/>.</summary>
internal readonly record struct RunState(
    DateTime WindowStart,
    DateTime WindowEnd,
    bool HasStdout,
    bool HasKorelogger,
    DateTime? InProgressSince,
    bool HasDeploymentId,
    bool HasDeploymentVersion,
    bool HasSource,
    bool HasSourceType)
{
    public bool HasBoth => HasStdout && HasKorelogger;

    /// <summary>True when storing these logs' facts would change nothing about the run.</summary>
    public bool Absorbs(DateTime first, DateTime last, bool hasStdout, bool hasKorelogger, string? deploymentId, int? deploymentVersion, string? source, string? sourceType) =>
        WindowStart <= first && WindowEnd > last
        && (HasStdout || !hasStdout) && (HasKorelogger || !hasKorelogger)
        && (InProgressSince is null || InProgressSince <= first)
        && (HasDeploymentId || deploymentId is null) && (HasDeploymentVersion || deploymentVersion is null)
        && (HasSource || source is null) && (HasSourceType || sourceType is null);
}
