namespace Pipeline.Parsing;

/// <summary>
/// What one record may carry. Ids and names longer than <see cref="MaxNameLength"/> are refused with the record (in
/// partial success, naming the field): they are keys, shown in lists and kept in memory by the writer, so a sandbox
/// must not be able to make them arbitrarily large. Records stamped before the oldest time retention keeps are refused
/// too: they would be deleted by the next retention pass, so storing them would only pretend to keep them.
/// </summary>
internal static class IngestLimits
{
    public const int MaxNameLength = 256;

    /// <summary>The first field of the run context over the cap, as a refusal reason; null when all fit.</summary>
    public static string? CheckNames(RunContext run, string? logId = null, string? function = null) =>
        TooLong("run_id", run.RunId) ?? TooLong("script name", run.Script) ?? TooLong("log id", logId)
        ?? TooLong("deployment_id", run.DeploymentId) ?? TooLong("source", run.Source)
        ?? TooLong("source_type", run.SourceType) ?? TooLong("function", function);

    /// <summary>The refusal for a record stamped before <paramref name="oldestAccepted"/>; null when it is recent enough.</summary>
    public static string? CheckAge(DateTime timestamp, DateTime oldestAccepted) =>
        timestamp < oldestAccepted
            ? $"timestamp {timestamp:yyyy-MM-ddTHH:mm:ss.fffZ} is older than Retention:MaxAge allows (oldest accepted {oldestAccepted:yyyy-MM-ddTHH:mm:ssZ})"
            : null;

    private static string? TooLong(string field, string? value) =>
        value is { Length: > MaxNameLength } ? $"{field} is {value.Length} characters long; the limit is {MaxNameLength}" : null;
}
