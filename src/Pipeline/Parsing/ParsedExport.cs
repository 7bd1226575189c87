namespace Pipeline.Parsing;

/// <summary>What parsing made of one export request: rows to store, and the records it could not use, with why.</summary>
internal sealed class ParsedExport
{
    private const int MaxReasons = 3;
    private readonly List<string> _reasons = [];

    public List<IngestRow> Rows { get; } = [];

    /// <summary>Records refused (spans or log records, never lines).</summary>
    public int Rejected { get; private set; }

    public void Reject(string reason)
    {
        Rejected++;
        if (_reasons.Count < MaxReasons)
        {
            _reasons.Add(reason);
        }
    }

    /// <summary>
    /// One <see cref="RunLogSummary"/> for each run the log rows belong to, then the rows. Summaries go first: if the
    /// writer's groups cut an export, or the channel refuses its tail, no stored line is left without its run.
    /// </summary>
    public List<IngestRow> RowsToStore()
    {
        var summaries = new Dictionary<string, RunLogSummary>();
        foreach (var row in Rows)
        {
            if (row is not LogRow log)
            {
                continue;
            }

            var isStdout = log.Origin == LogOrigin.Stdout;
            var isKorelogger = log.Origin == LogOrigin.Korelogger;
            summaries[log.Run.RunId] = summaries.TryGetValue(log.Run.RunId, out var s)
                ? new RunLogSummary(
                    s.Run with
                    {
                        DeploymentId = s.Run.DeploymentId ?? log.Run.DeploymentId,
                        DeploymentVersion = s.Run.DeploymentVersion ?? log.Run.DeploymentVersion,
                        Source = s.Run.Source ?? log.Run.Source,
                        SourceType = s.Run.SourceType ?? log.Run.SourceType,
                    },
                    log.Timestamp < s.First ? log.Timestamp : s.First,
                    log.Timestamp > s.Last ? log.Timestamp : s.Last,
                    s.HasStdout || isStdout,
                    s.HasKorelogger || isKorelogger)
                : new RunLogSummary(log.Run, log.Timestamp, log.Timestamp, isStdout, isKorelogger);
        }

        var all = new List<IngestRow>(Rows.Count + summaries.Count);
        all.AddRange(summaries.Values);
        all.AddRange(Rows);
        return all;
    }

    /// <summary>The partial-success message: how many were refused and the first reasons.</summary>
    public string? ErrorMessage(string noun) => Rejected == 0
        ? null
        : $"{Rejected} {noun} rejected: {string.Join("; ", _reasons)}{(Rejected > _reasons.Count ? "; ..." : string.Empty)}";
}
