namespace Pipeline.Storage;

/// <summary>
/// What the writer knows of recent runs' logs: a time window (whole 10-second steps) holding every log timestamp of
/// the run, and whether it has korelogger logs and stdout lines. The same facts are stored in <c>runs</c>; this copy
/// lets a group of logs that changes none of them skip the runs upsert, the writer's most expensive statement.
/// Coarse steps are what make that the common case: a run's window grows once per step, not once per group.
/// Bounded: past <c>capacity</c> runs it starts over, and a run it no longer holds is simply upserted again.
/// Entries change only when their transaction commits.
/// </summary>
internal sealed class RunLogWindows(int capacity)
{
    public static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    private readonly Dictionary<string, Window> _known = [];
    private readonly List<(string RunId, Window Window)> _pending = [];

    /// <summary>The smallest step-aligned window around these timestamps.</summary>
    public static Window Around(DateTime first, DateTime last, bool hasStdout, bool hasKorelogger) =>
        new(Floor(first), Floor(last) + Step, hasStdout, hasKorelogger);

    public bool TryGet(string runId, out Window window) => _known.TryGetValue(runId, out window);

    /// <summary>What the runs table says after this transaction; takes effect on <see cref="Committed"/>.</summary>
    public void Stage(string runId, Window window) => _pending.Add((runId, window));

    public void Committed()
    {
        if (_known.Count + _pending.Count > capacity)
        {
            _known.Clear();
        }

        foreach (var (runId, window) in _pending)
        {
            _known[runId] = window;
        }

        _pending.Clear();
    }

    public void RolledBack() => _pending.Clear();

    private static DateTime Floor(DateTime t) => new(t.Ticks - (t.Ticks % Step.Ticks), t.Kind);

    internal readonly record struct Window(DateTime Start, DateTime End, bool HasStdout, bool HasKorelogger)
    {
        public static readonly Window Empty = new(DateTime.MaxValue, DateTime.MinValue, false, false);

        public bool HasBoth => HasStdout && HasKorelogger;

        public bool Covers(Window other) =>
            Start <= other.Start && End >= other.End
            && (HasStdout || !other.HasStdout) && (HasKorelogger || !other.HasKorelogger);
    }
}
