using System.Net;
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

    public IEnumerable<string> Validate()
    {
        if (!IPEndPoint.TryParse(Endpoint, out _) || !Endpoint.Contains(':', StringComparison.Ordinal))
        {
            yield return $"{Section}:{nameof(Endpoint)} must be an IP address and port such as 127.0.0.1:8080 (got '{Endpoint}').";
        }

        if (MaxPageSize is < 1 or > 100_000)
        {
            yield return $"{Section}:{nameof(MaxPageSize)} must be between 1 and 100000 (got {MaxPageSize}).";
        }
    }
}
