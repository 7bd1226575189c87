using Pipeline.Hosting;

namespace Pipeline.Api;

/// <summary>Config section <c>Api</c>: the query API's listener and the limits of what it answers.</summary>
public sealed class ApiOptions : IValidatedOptions
{
    public const string Section = "Api";

    /// <summary>Query API listener (HTTP/1.1), host:port. Port 0 takes a free port.</summary>
    public string Endpoint { get; set; } = "127.0.0.1:8080";

    /// <summary>Rows a list page may hold at most (<c>limit</c>).</summary>
    public int MaxPageSize { get; set; } = 1000;

    /// <summary>Rows an ad hoc SQL query returns at most (the answer says when it was cut).</summary>
    public int SqlMaxRows { get; set; } = 10_000;

    /// <summary>How long an ad hoc SQL query may run before it is stopped.</summary>
    public TimeSpan SqlTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one live log stream may stay open.</summary>
    public TimeSpan StreamMaxDuration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many live log streams may be open at once.</summary>
    public int MaxStreams { get; set; } = 100;

    public IEnumerable<string> Validate()
    {
        if (StreamMaxDuration <= TimeSpan.Zero)
        {
            yield return $"{Section}:{nameof(StreamMaxDuration)} must be positive (got {StreamMaxDuration}).";
        }

        if (MaxStreams < 1)
        {
            yield return $"{Section}:{nameof(MaxStreams)} must be at least 1 (got {MaxStreams}).";
        }

        if (SqlMaxRows is < 1 or > 1_000_000)
        {
            yield return $"{Section}:{nameof(SqlMaxRows)} must be between 1 and 1000000 (got {SqlMaxRows}).";
        }

        if (SqlTimeout <= TimeSpan.Zero || SqlTimeout > TimeSpan.FromMinutes(10))
        {
            yield return $"{Section}:{nameof(SqlTimeout)} must be between 00:00:00 and 00:10:00 (got {SqlTimeout}).";
        }

        if (!Ingest.ReceiverOptions.IsEndpoint(Endpoint))
        {
            yield return $"{Section}:{nameof(Endpoint)} must be an IP address and port such as 127.0.0.1:8080 (got '{Endpoint}').";
        }

        if (MaxPageSize is < 1 or > 100_000)
        {
            yield return $"{Section}:{nameof(MaxPageSize)} must be between 1 and 100000 (got {MaxPageSize}).";
        }
    }
}
