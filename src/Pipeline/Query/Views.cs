namespace Pipeline.Query;

/// <summary>A run as the API shows it. Response time is empty for Failed and In Progress runs.</summary>
public sealed record RunView(
    string RunId, string Script, string Status, int? DeploymentVersion, string? DeploymentId, double? ResponseTimeMs,
    string? Function, DateTime ExecutedOn, string? SourceType, string? Source, string? Error);

/// <summary>A log as the API shows it.</summary>
public sealed record LogView(string LogId, string RunId, string Script, string Level, string Message, DateTime Timestamp);

/// <summary>One page of a list; <c>nextCursor</c> is null on the last page; <c>total</c> counts the whole list.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor, long Total);

/// <summary>A script that has run, for the script dropdown.</summary>
public sealed record ScriptView(string Name, long Runs, DateTime LastRunAt);

/// <summary>The All Runs metrics: failure rate in percent over completed runs; P90/P99 over runs with a response time.</summary>
public sealed record RunSummary(long TotalRuns, long FailedRuns, long InProgressRuns, double? FailureRate, double? P90Ms, double? P99Ms);

/// <summary>One bucket of the trend chart; empty buckets are included.</summary>
public sealed record TrendPoint(DateTime BucketStart, long Runs, long Failed, double? P90Ms, double? P99Ms);

/// <summary>The Logs metrics.</summary>
public sealed record LogSummary(long TotalLogs, IReadOnlyDictionary<string, long> ByLevel);
