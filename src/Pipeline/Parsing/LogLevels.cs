namespace Pipeline.Parsing;

/// <summary>The level names the monitoring page shows, and how runtimes' spellings map onto them.</summary>
internal static class LogLevels
{
    public const string Debug = "Debug";
    public const string Info = "Info";
    public const string Warning = "Warning";
    public const string Error = "Error";
    public const string Stdout = "Stdout";
    public const string Stderr = "Stderr";

    /// <summary>
    /// DEBUG→Debug, INFO→Info, WARN/WARNING→Warning, ERROR/CRITICAL/FATAL→Error (any case), and
    /// INFORMATION→Info, the severity text the OpenTelemetry .NET SDK sends; anything else is kept as written,
    /// trimmed. Blank gives null.
    /// </summary>
    public static string? Normalize(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        var level = raw.Trim();
        return level.ToUpperInvariant() switch
        {
            "DEBUG" => Debug,
            "INFO" or "INFORMATION" => Info,
            "WARN" or "WARNING" => Warning,
            "ERROR" or "CRITICAL" or "FATAL" => Error,
            _ => level,
        };
    }
}
