using System.Net;
using Microsoft.Extensions.Options;
using Pipeline.Api;
using Pipeline.Hosting;
using Pipeline.Ingest;

namespace Pipeline.Security;

/// <summary>Config section <c>Security</c>: who may reach the daemon.</summary>
public sealed class SecurityOptions : IValidatedOptions
{
    public const string Section = "Security";

    /// <summary>The shortest token accepted: 16 characters (a random 128-bit token is 22 in base64).</summary>
    public const int MinTokenLength = 16;

    /// <summary>
    /// Lets a listener bind an address other than loopback although the daemon asks no one who they are. Off by
    /// default: anyone who reaches such a port could write any script's data or read every script's runs.
    /// </summary>
    public bool AllowUnauthenticated { get; set; }

    /// <summary>
    /// The bearer token OTLP exporters must send (<c>Authorization: Bearer …</c> on OTLP/HTTP, <c>authorization</c>
    /// metadata on gRPC; <c>OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer …</c>), for every script. Empty: no
    /// such token (ingest asks no one unless a tokens file is set).
    /// </summary>
    public string IngestToken { get; set; } = string.Empty;

    /// <summary>The bearer token of the query API, live streams, exports and the console, for every script.</summary>
    public string ReadToken { get; set; } = string.Empty;

    /// <summary>The bearer token <c>/metrics</c> asks for. Empty (and none in the tokens file): metrics are open.</summary>
    public string MetricsToken { get; set; } = string.Empty;

    /// <summary>
    /// A JSON file of tokens, each ingest, read or metrics and optionally limited to scripts (docs/operations.md);
    /// read again when it changes, so tokens rotate without a restart. Set: ingest and the API ask for tokens.
    /// </summary>
    public string TokensFile { get; set; } = string.Empty;

    /// <summary>How often the tokens file is checked for changes.</summary>
    public TimeSpan TokensFileCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>OTLP exports must carry an ingest token: one is configured, or a tokens file is.</summary>
    public bool IngestAsksForTokens => IngestToken.Length > 0 || TokensFile.Length > 0;

    /// <summary>The query API and the console need a read token: one is configured, or a tokens file is.</summary>
    public bool ReadAsksForTokens => ReadToken.Length > 0 || TokensFile.Length > 0;

    /// <summary>What is wrong with a token, or null.</summary>
    public static string? TokenProblem(string token) =>
        token.Length < MinTokenLength ? $"must be at least {MinTokenLength} characters (got {token.Length})"
        : token.Any(char.IsWhiteSpace) ? "must not contain spaces"
        : null;

    public IEnumerable<string> Validate()
    {
        foreach (var (key, token) in new[] { (nameof(IngestToken), IngestToken), (nameof(ReadToken), ReadToken), (nameof(MetricsToken), MetricsToken) })
        {
            if (token.Length > 0 && TokenProblem(token) is { } problem)
            {
                yield return $"{Section}:{key} {problem}.";
            }
        }

        if (IngestToken.Length > 0 && (IngestToken == ReadToken || IngestToken == MetricsToken) || ReadToken.Length > 0 && ReadToken == MetricsToken)
        {
            yield return $"{Section}:{nameof(IngestToken)}, {nameof(ReadToken)} and {nameof(MetricsToken)} must differ: a sandbox's ingest token must not read, nor a scraper's token write.";
        }

        if (TokensFileCheckInterval < TimeSpan.FromMilliseconds(100) || TokensFileCheckInterval > TimeSpan.FromHours(1))
        {
            yield return $"{Section}:{nameof(TokensFileCheckInterval)} must be from 00:00:00.1 to 01:00:00 (got {TokensFileCheckInterval}).";
        }

        if (TokensFile.Length > 0)
        {
            string? fileProblem = null;
            try
            {
                _ = TokenFile.Read(TokensFile);
            }
            catch (FormatException ex)
            {
                fileProblem = ex.Message;
            }

            if (fileProblem is not null)
            {
                yield return fileProblem;
            }
        }
    }
}

/// <summary>
/// Safe by default: a listener that asks no one for a token must be on a loopback address unless
/// <see cref="SecurityOptions.AllowUnauthenticated"/> says otherwise. The OTLP listeners may face the network once
/// ingest asks for tokens, the API listener once reads do. Checked at start, so an exposed daemon never starts by accident.
/// </summary>
internal sealed class ExposureCheck(IOptions<ReceiverOptions> receivers, IOptions<ApiOptions> api) : IValidateOptions<SecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, SecurityOptions options)
    {
        if (options.AllowUnauthenticated)
        {
            return ValidateOptionsResult.Success;
        }

        var ingestAuthenticated = options.IngestAsksForTokens;
        var readAuthenticated = options.ReadAsksForTokens;
        var exposed = new[]
            {
                ($"{ReceiverOptions.Section}:{nameof(ReceiverOptions.GrpcEndpoint)}", ingestAuthenticated ? null : receivers.Value.GrpcEndpoint, "Security:IngestToken"),
                ($"{ReceiverOptions.Section}:{nameof(ReceiverOptions.HttpEndpoint)}", ingestAuthenticated ? null : receivers.Value.HttpEndpoint, "Security:IngestToken"),
                ($"{ApiOptions.Section}:{nameof(ApiOptions.Endpoint)}", readAuthenticated ? null : api.Value.Endpoint, "Security:ReadToken"),
            }
            .Where(listener => listener.Item2 is { } endpoint && ReceiverOptions.IsEndpoint(endpoint) && !IPAddress.IsLoopback(ReceiverOptions.Parse(endpoint).Address))
            .Select(listener => $"{listener.Item1} binds {listener.Item2}, which is not a loopback address, and no one is asked for a token there: "
                + $"anyone who reaches it could write or read every script's data. Bind 127.0.0.1, set {listener.Item3} (or {SecurityOptions.Section}:{nameof(SecurityOptions.TokensFile)}), "
                + $"or set {SecurityOptions.Section}:{nameof(SecurityOptions.AllowUnauthenticated)}=true to accept that.")
            .ToList();
        return exposed.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(exposed);
    }
}
