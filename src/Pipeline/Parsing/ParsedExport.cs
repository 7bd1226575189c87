namespace Pipeline.Parsing;

/// <summary>What parsing made of one export request: rows to store, and the records it could not use, with why.</summary>
internal sealed class ParsedExport
{
    private const int MaxReasons = 3;
    private readonly List<string> _reasons = [];

    private static readonly Dictionary<string, int> NoneRejected = [];

    private Dictionary<(string Script, string RunId, string LogId), LogRow>? _logsById;
    private Dictionary<string, int>? _rejectedBy;

    public List<IngestRow> Rows { get; } = [];

    /// <summary>
    /// Adds a log unless this export already holds one with the same script, run and log id. The same log twice (a
    /// client that repeats itself) is kept once, silently; a different log under a taken id is refused, naming both
    /// ids, and the first is kept. Ids are scoped by script and run, so another run's or script's id never collides.
    /// </summary>
    public void AddLog(LogRow log)
    {
        _logsById ??= [];
        if (_logsById.TryAdd((log.Run.Script, log.Run.RunId, log.LogId), log))
        {
            Rows.Add(log);
        }
        else if (!_logsById[(log.Run.Script, log.Run.RunId, log.LogId)].Equals(log))
        {
            Reject($"log id '{log.LogId}' of run '{log.Run.RunId}' repeats in this export with a different record; the first is kept", "duplicate_log_id");
        }
    }

    /// <summary>Records refused (spans or log records, never lines).</summary>
    public int Rejected { get; private set; }

    /// <summary>Records refused, by the kind of reason (a short name, for metrics); empty for most exports.</summary>
    public IReadOnlyDictionary<string, int> RejectedBy => _rejectedBy ?? NoneRejected;

    /// <summary>
    /// The records refused because the sender's token may not write their script (the span or log record objects
    /// themselves): forwarding sends the export on without them. Null when there are none.
    /// </summary>
    public IReadOnlySet<object>? OutOfScope => _outOfScope;

    private HashSet<object>? _outOfScope;

    /// <summary>Refuses a record the sender's token may not write (kind <c>script_not_allowed</c>), remembering which it is.</summary>
    public void RejectOutOfScope(object record, string reason)
    {
        (_outOfScope ??= new HashSet<object>(ReferenceEqualityComparer.Instance)).Add(record);
        Reject(reason, "script_not_allowed");
    }

    public void Reject(string reason, string kind)
    {
        Rejected++;
        _rejectedBy ??= [];
        _rejectedBy[kind] = _rejectedBy.GetValueOrDefault(kind) + 1;
        if (_reasons.Count < MaxReasons)
        {
            _reasons.Add(reason);
        }
    }

    /// <summary>
    /// One <see cref="RunLogSummary"/> for each run the log rows belong to, then the rows: the writer tracks runs once
    /// per run rather than once per line. An export is queued and committed whole, so its summaries and lines land
    /// together.
    /// </summary>
    public List<IngestRow> RowsToStore()
    {
        var summaries = new Dictionary<(string Script, string RunId), SummaryBuilder>();
        foreach (var row in Rows)
        {
            if (row is LogRow log)
            {
                if (summaries.TryGetValue((log.Run.Script, log.Run.RunId), out var builder))
                {
                    builder.Add(log);
                }
                else
                {
                    summaries[(log.Run.Script, log.Run.RunId)] = new SummaryBuilder(log);
                }
            }
        }

        var all = new List<IngestRow>(Rows.Count + summaries.Count);
        all.AddRange(summaries.Values.Select(b => b.Build()));
        all.AddRange(Rows);
        return all;
    }

    /// <summary>
    /// What the rows weigh in memory while they wait for the writer, roughly: each string's characters (two bytes
    /// each) and a fixed overhead per row for the objects around them. The channel is bounded by this.
    /// </summary>
    public static long EstimateBytes(IReadOnlyList<IngestRow> rows)
    {
        const int RowOverhead = 160;
        long total = 0;
        foreach (var row in rows)
        {
            total += RowOverhead + 2L * row switch
            {
                LogRow l => l.LogId.Length + l.Message.Length + (l.AttributesJson?.Length ?? 0) + (l.TraceId?.Length ?? 0) + (l.SpanId?.Length ?? 0) + (l.Pid?.Length ?? 0),
                RunRow r => (r.Input?.Length ?? 0) + (r.Output?.Length ?? 0) + (r.Error?.Length ?? 0) + (r.AttributesJson?.Length ?? 0) + (r.ResourceJson?.Length ?? 0) + (r.Function?.Length ?? 0) + 48,
                SpanRow s => s.Name.Length + (s.AttributesJson?.Length ?? 0) + (s.EventsJson?.Length ?? 0) + (s.StatusMessage?.Length ?? 0) + 64,
                _ => 0,
            };
        }

        return total;
    }

    /// <summary>The partial-success message: how many were refused and the first reasons.</summary>
    public string? ErrorMessage(string noun) => Rejected == 0
        ? null
        : $"{Rejected} {noun} rejected: {string.Join("; ", _reasons)}{(Rejected > _reasons.Count ? "; ..." : string.Empty)}";

    /// <summary>Folds one run's lines into its summary: the first values sent, the bounds of the times, the kinds.</summary>
    private sealed class SummaryBuilder(LogRow first)
    {
        private readonly RunContext _first = first.Run;
        private string? _deploymentId = first.Run.DeploymentId;
        private int? _deploymentVersion = first.Run.DeploymentVersion;
        private string? _source = first.Run.Source;
        private string? _sourceType = first.Run.SourceType;
        private DateTime _earliest = first.Timestamp;
        private DateTime _latest = first.Timestamp;
        private bool _hasStdout = first.Origin == LogOrigin.Stdout;
        private bool _hasKorelogger = first.Origin == LogOrigin.Korelogger;

        public void Add(LogRow log)
        {
            _deploymentId ??= log.Run.DeploymentId;
            _deploymentVersion ??= log.Run.DeploymentVersion;
            _source ??= log.Run.Source;
            _sourceType ??= log.Run.SourceType;
            _earliest = log.Timestamp < _earliest ? log.Timestamp : _earliest;
            _latest = log.Timestamp > _latest ? log.Timestamp : _latest;
            _hasStdout |= log.Origin == LogOrigin.Stdout;
            _hasKorelogger |= log.Origin == LogOrigin.Korelogger;
        }

        public RunLogSummary Build()
        {
            var run = _first.DeploymentId == _deploymentId && _first.DeploymentVersion == _deploymentVersion
                && _first.Source == _source && _first.SourceType == _sourceType
                ? _first
                : _first with { DeploymentId = _deploymentId, DeploymentVersion = _deploymentVersion, Source = _source, SourceType = _sourceType };
            return new RunLogSummary(run, _earliest, _latest, _hasStdout, _hasKorelogger);
        }
    }
}
