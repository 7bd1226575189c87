using Pipeline.Parsing;

namespace Pipeline.Storage;

/// <summary>
/// What one transaction must do, worked out in memory before any SQL runs: which log lines to append (with their
/// mirror flags when the whole run is in the group), which run rows to append, which stored run rows to replace or
/// update (found by the time <see cref="RunTracker"/> remembers), and which runs need their mirrors matched in SQL
/// because some of their lines were stored earlier. New runs, the bulk, cost nothing but appends.
/// </summary>
internal sealed class GroupPlan
{
    public List<LogRow> Logs { get; } = [];

    /// <summary>Per line of <see cref="Logs"/>: a stdout line that repeats a korelogger log of its run.</summary>
    public List<bool> Mirrored { get; } = [];

    public List<SpanRow> Spans { get; } = [];

    public List<(TrackedRun Run, RunRow? Span)> RunsToAppend { get; } = [];

    /// <summary>Stored rows that the appended ones replace (as they are stored: their key and executed_on).</summary>
    public List<TrackedRun> RunsToDelete { get; } = [];

    /// <summary>Completed runs whose log facts changed.</summary>
    public List<TrackedRun> RunsToUpdate { get; } = [];

    /// <summary>Runs with stored lines on which this group's lines may be mirrors, or mirrored.</summary>
    public List<TrackedRun> RunsToReconcile { get; } = [];

    public static GroupPlan Build(IReadOnlyList<IngestRow> rows, RunTracker tracker, DeploymentVersions deployments)
    {
        var plan = new GroupPlan();
        var touches = new Dictionary<RunKey, Touch>();
        foreach (var row in rows)
        {
            switch (row)
            {
                case LogRow log:
                    plan.Logs.Add(log);
                    plan.Mirrored.Add(false);
                    break;
                case RunLogSummary summary:
                    TouchOf(touches, summary.Run).AddLogs(summary, deployments.VersionOf(summary.Run.Script, summary.Run.DeploymentId, summary.Run.DeploymentVersion, summary.First));
                    break;
                case RunRow run:
                    TouchOf(touches, run.Run).SetSpan(run, deployments.VersionOf(run.Run.Script, run.Run.DeploymentId, run.Run.DeploymentVersion, run.ExecutedOn));
                    break;
                case SpanRow span:
                    plan.Spans.Add(span);
                    break;
                default:
                    throw new InvalidOperationException($"No table for row type {row.GetType().Name}.");
            }
        }

        HashSet<RunKey>? matchHere = null;
        foreach (var (key, touch) in touches)
        {
            var prior = tracker.Get(key);
            var merged = touch.Merge(key, prior);
            tracker.Stage(merged);
            if (prior is null)
            {
                plan.RunsToAppend.Add((merged, touch.Span));
            }
            else if (touch.Span is not null || (!prior.Completed && merged != prior))
            {
                plan.RunsToDelete.Add(prior);
                plan.RunsToAppend.Add((merged, touch.Span));
            }
            else if (merged != prior)
            {
                plan.RunsToUpdate.Add(merged);
            }

            if (merged.HasBoth && (touch.HasStdout || touch.HasKorelogger))
            {
                if (prior is null || !(prior.HasStdout || prior.HasKorelogger))
                {
                    (matchHere ??= []).Add(key);
                }
                else
                {
                    plan.RunsToReconcile.Add(merged);
                }
            }
        }

        if (matchHere is not null)
        {
            plan.MatchMirrors(matchHere);
        }

        return plan;
    }

    private static Touch TouchOf(Dictionary<RunKey, Touch> touches, RunContext run)
    {
        var key = new RunKey(run.Script, run.RunId);
        if (!touches.TryGetValue(key, out var touch))
        {
            touches[key] = touch = new Touch();
        }

        return touch;
    }

    /// <summary>
    /// The same rule as reconcile_mirrors.sql, for runs whose every line is in this group: per level and message, the
    /// first K stdout lines (by time, line number, id) are mirrors, K being the count of korelogger logs.
    /// </summary>
    private void MatchMirrors(HashSet<RunKey> runs)
    {
        var korelogger = new Dictionary<(RunKey Run, string Level, string Message), int>();
        var stdout = new List<int>();
        for (var i = 0; i < Logs.Count; i++)
        {
            var log = Logs[i];
            if (log.Origin is LogOrigin.Stderr || !runs.Contains(new RunKey(log.Run.Script, log.Run.RunId)))
            {
                continue;
            }

            if (log.Origin == LogOrigin.Korelogger)
            {
                var key = (new RunKey(log.Run.Script, log.Run.RunId), log.Level, log.Message);
                korelogger[key] = korelogger.GetValueOrDefault(key) + 1;
            }
            else
            {
                stdout.Add(i);
            }
        }

        stdout.Sort((a, b) =>
        {
            var (x, y) = (Logs[a], Logs[b]);
            var order = x.Timestamp.CompareTo(y.Timestamp);
            order = order != 0 ? order : x.Seq.CompareTo(y.Seq);
            return order != 0 ? order : string.CompareOrdinal(x.LogId, y.LogId);
        });
        foreach (var i in stdout)
        {
            var log = Logs[i];
            var key = (new RunKey(log.Run.Script, log.Run.RunId), log.Level, log.Message);
            if (korelogger.TryGetValue(key, out var left) && left > 0)
            {
                korelogger[key] = left - 1;
                Mirrored[i] = true;
            }
        }
    }

    /// <summary>What one group says about one run: its logs' summary, and its latest run span.</summary>
    private sealed class Touch
    {
        private RunLogSummary? _logs;
        private int? _logsVersion;
        private int? _spanVersion;

        public RunRow? Span { get; private set; }

        public bool HasStdout => _logs?.HasStdout ?? false;

        public bool HasKorelogger => _logs?.HasKorelogger ?? false;

        public void AddLogs(RunLogSummary summary, int? version)
        {
            _logsVersion ??= version;
            _logs = _logs is null ? summary : new RunLogSummary(
                _logs.Run with
                {
                    DeploymentId = _logs.Run.DeploymentId ?? summary.Run.DeploymentId,
                    Source = _logs.Run.Source ?? summary.Run.Source,
                    SourceType = _logs.Run.SourceType ?? summary.Run.SourceType,
                },
                summary.First < _logs.First ? summary.First : _logs.First,
                summary.Last > _logs.Last ? summary.Last : _logs.Last,
                _logs.HasStdout || summary.HasStdout,
                _logs.HasKorelogger || summary.HasKorelogger);
        }

        public void SetSpan(RunRow span, int? version)
        {
            if (Span is null || span.EndedOn >= Span.EndedOn)
            {
                Span = span;
                _spanVersion = version;
            }
        }

        /// <summary>
        /// The run after this group. A run span completes the run, whatever logs said before, its own values first.
        /// Logs fill in what is still empty; only an In Progress run moves its start earlier, so a late log never
        /// reverts a completed run.
        /// </summary>
        public TrackedRun Merge(RunKey key, TrackedRun? prior)
        {
            var empty = new TrackedRun(key, false, DateTime.MaxValue, null, null, null, null, DateTime.MaxValue, DateTime.MinValue, false, false);
            var run = prior ?? empty;
            if (_logs is { } logs)
            {
                var (start, end) = run.WidenedWindow(logs.First, logs.Last);
                run = run with
                {
                    ExecutedOn = run.Completed ? run.ExecutedOn : (logs.First < run.ExecutedOn ? logs.First : run.ExecutedOn),
                    DeploymentId = run.DeploymentId ?? logs.Run.DeploymentId,
                    DeploymentVersion = run.DeploymentVersion ?? _logsVersion,
                    Source = run.Source ?? logs.Run.Source,
                    SourceType = run.SourceType ?? logs.Run.SourceType,
                    WindowStart = start,
                    WindowEnd = end,
                    HasStdout = run.HasStdout || logs.HasStdout,
                    HasKorelogger = run.HasKorelogger || logs.HasKorelogger,
                };
            }

            if (Span is { } span)
            {
                run = run with
                {
                    Completed = true,
                    ExecutedOn = span.ExecutedOn,
                    DeploymentId = span.Run.DeploymentId ?? run.DeploymentId,
                    DeploymentVersion = _spanVersion ?? run.DeploymentVersion,
                    Source = span.Run.Source ?? run.Source,
                    SourceType = span.Run.SourceType ?? run.SourceType,
                };
            }

            return run;
        }
    }
}
