using System.Text.Json.Serialization;

namespace Pipeline.Query;

/// <summary>
/// A run as the API shows it. Response time is empty for Failed and In Progress runs. <c>node</c>, the daemon that
/// stored it, only in lake mode.
/// </summary>
public sealed record RunView(
    string RunId, string Script, string Status, int? DeploymentVersion, string? DeploymentId, double? ResponseTimeMs,
    string? Function, DateTime ExecutedOn, string? SourceType, string? Source, string? Error,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Node = null);

/// <summary>A log as the API shows it; <c>node</c>, the daemon that stored it, only in lake mode.</summary>
public sealed record LogView(
    string LogId, string RunId, string Script, string Level, string Message, DateTime Timestamp,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Node = null);

/// <summary>One page of a list; <c>nextCursor</c> is null on the last page; <c>total</c> counts the whole list.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor, long Total);

/// <summary>A script that has run, for the script dropdown.</summary>
public sealed record ScriptView(string Name, long Runs, DateTime LastRunAt);

/// <summary>
/// The All Runs metrics: failure rate in percent over completed runs; P90/P99 over runs with a response time; the
/// first and last run of the list (null when it is empty).
/// </summary>
public sealed record RunSummary(
    long TotalRuns, long FailedRuns, long InProgressRuns, double? FailureRate, double? P90Ms, double? P99Ms, DateTime? FirstRunAt, DateTime? LastRunAt);

/// <summary>One bucket of the trend chart; empty buckets are included.</summary>
public sealed record TrendPoint(DateTime BucketStart, long Runs, long Failed, double? P90Ms, double? P99Ms);

/// <summary>The Logs metrics; the first and last log of the list (null when it is empty).</summary>
public sealed record LogSummary(long TotalLogs, IReadOnlyDictionary<string, long> ByLevel, DateTime? FirstLogAt, DateTime? LastLogAt);

/// <summary>One bucket of the logs' level chart: every level of the period has an entry, 0 included; empty buckets are included.</summary>
public sealed record LogTrendPoint(DateTime BucketStart, long Total, IReadOnlyDictionary<string, long> ByLevel);

/// <summary>The values a column takes in the period, most frequent first, for a filter's pick list.</summary>
public sealed record ColumnValues(string Column, IReadOnlyList<ValueCount> Values);

/// <summary>A value of a column (as text) and how many rows have it.</summary>
public sealed record ValueCount(string Value, long Count);

/// <summary>
/// One deployment version's runs in the period, and the change from the version before it there (null for the first,
/// and for the runs without a version): failure rate in percentage points, P90/P99 as a ratio (0.25 = 25 % slower).
/// </summary>
public sealed record VersionStats(
    int? DeploymentVersion, long Runs, long Failed, double? FailureRate, double? P90Ms, double? P99Ms, DateTime FirstRunAt, DateTime LastRunAt,
    int? PreviousVersion, double? FailureRateChange, double? P90Change, double? P99Change);

/// <summary>Failed runs of one error group (their normalised error message): the latest message as it was, how many, when.</summary>
public sealed record ErrorGroupStats(string Group, string Example, long Count, DateTime FirstSeen, DateTime LastSeen);
