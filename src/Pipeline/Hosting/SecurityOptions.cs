using System.Net;
using Microsoft.Extensions.Options;
using Pipeline.Api;
using Pipeline.Ingest;

namespace Pipeline.Hosting;

/// <summary>Config section <c>Security</c>: who may reach the daemon.</summary>
public sealed class SecurityOptions : IValidatedOptions
{
    public const string Section = "Security";

    /// <summary>
    /// Lets a listener bind an address other than loopback although the daemon asks no one who they are. Off by
    /// default: anyone who reaches such a port could write any script's data or read every script's runs.
    /// </summary>
    public bool AllowUnauthenticated { get; set; }

    /// <summary>
    /// The bearer token OTLP exporters must send (<c>Authorization: Bearer …</c> on OTLP/HTTP, <c>authorization</c>
    /// metadata on gRPC; <c>OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer …</c>). Empty: ingest asks no one.
    /// </summary>
    public string IngestToken { get; set; } = string.Empty;

    public IEnumerable<string> Validate()
    {
        if (IngestToken.Length is > 0 and < 16)
        {
            yield return $"{Section}:{nameof(IngestToken)} must be at least 16 characters (got {IngestToken.Length}).";
        }

        if (IngestToken.Any(char.IsWhiteSpace))
        {
            yield return $"{Section}:{nameof(IngestToken)} must not contain spaces.";
        }
    }
}

/// <summary>
/// Safe by default: with no authentication, every listener must be on a loopback address unless
/// <see cref="SecurityOptions.AllowUnauthenticated"/> says otherwise. Checked at start, so an exposed daemon never starts
/// by accident.
/// </summary>
internal sealed class ExposureCheck(IOptions<ReceiverOptions> receivers, IOptions<ApiOptions> api) : IValidateOptions<SecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, SecurityOptions options)
    {
        if (options.AllowUnauthenticated)
        {
            return ValidateOptionsResult.Success;
        }

        // The OTLP listeners may face the network once exporters must show the ingest token; the API port, until read
        // tokens exist, only with the explicit way out.
        var ingestAuthenticated = options.IngestToken.Length > 0;
        var exposed = new[]
            {
                ($"{ReceiverOptions.Section}:{nameof(ReceiverOptions.GrpcEndpoint)}", ingestAuthenticated ? null : receivers.Value.GrpcEndpoint),
                ($"{ReceiverOptions.Section}:{nameof(ReceiverOptions.HttpEndpoint)}", ingestAuthenticated ? null : receivers.Value.HttpEndpoint),
                ($"{ApiOptions.Section}:{nameof(ApiOptions.Endpoint)}", api.Value.Endpoint),
            }
            .Where(listener => listener.Item2 is not null)
            .Select(listener => (listener.Item1, listener.Item2!))
            .Where(listener => ReceiverOptions.IsEndpoint(listener.Item2) && !IPAddress.IsLoopback(ReceiverOptions.Parse(listener.Item2).Address))
            .Select(listener => $"{listener.Item1} binds {listener.Item2}, which is not a loopback address, and no authentication is configured: "
                + $"anyone who reaches it could write or read every script's data. Bind 127.0.0.1, or set {SecurityOptions.Section}:{nameof(SecurityOptions.AllowUnauthenticated)}=true to accept that.")
            .ToList();
        return exposed.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(exposed);
    }
}
