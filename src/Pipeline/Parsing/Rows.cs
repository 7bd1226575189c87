namespace Pipeline.Parsing;

/// <summary>A row bound for storage. Parsing produces these; the writer stores them.</summary>
internal abstract record IngestRow;

/// <summary>Where a log line came from. Only <see cref="Stdout"/> lines can mirror a korelogger log.</summary>
internal enum LogOrigin
{
    Korelogger,
    Stdout,
    Stderr,
}

/// <summary>Who a row belongs to: the run and what the script runtime said about it.</summary>
internal sealed record RunContext(
    string RunId,
    string Script,
    string? DeploymentId,
    int? DeploymentVersion,
    string? Source,
    string? SourceType);

/// <summary>One log: a korelogger span, or one line of stdout/stderr text.</summary>
internal sealed record LogRow(
    string LogId,
    RunContext Run,
    string Level,
    string Message,
    DateTime Timestamp,
    int Seq,
    LogOrigin Origin,
    string? Pid,
    string? TraceId,
    string? SpanId,
    string? AttributesJson) : IngestRow;

/// <summary>A finished run, from a root span carrying run_id.</summary>
internal sealed record RunRow(
    RunContext Run,
    RunStatus Status,
    string? Function,
    DateTime ExecutedOn,
    DateTime EndedOn,
    double DurationMs,
    string? Input,
    string? Output,
    string? Error,
    string TraceId,
    string SpanId,
    string? AttributesJson,
    string? ResourceJson) : IngestRow;

/// <summary>
/// What one export's logs say about their run: who it is, the bounds of their timestamps, and which kinds of lines
/// came. Derived from the log rows, so that the writer tracks runs once per run rather than once per line.
/// </summary>
internal sealed record RunLogSummary(RunContext Run, DateTime First, DateTime Last, bool HasStdout, bool HasKorelogger) : IngestRow;

internal enum RunStatus
{
    Success,
    Failed,
}

/// <summary>Any other span of a run: kept as the run's trace.</summary>
internal sealed record SpanRow(
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    RunContext Run,
    string Name,
    int Kind,
    DateTime Start,
    DateTime End,
    double DurationMs,
    int StatusCode,
    string? StatusMessage,
    string? AttributesJson,
    string? EventsJson) : IngestRow;
