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

    public IEnumerable<string> Validate() => [];
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

        var exposed = new[]
            {
                ($"{ReceiverOptions.Section}:{nameof(ReceiverOptions.GrpcEndpoint)}", receivers.Value.GrpcEndpoint),
                ($"{ReceiverOptions.Section}:{nameof(ReceiverOptions.HttpEndpoint)}", receivers.Value.HttpEndpoint),
                ($"{ApiOptions.Section}:{nameof(ApiOptions.Endpoint)}", api.Value.Endpoint),
            }
            .Where(listener => ReceiverOptions.IsEndpoint(listener.Item2) && !IPAddress.IsLoopback(ReceiverOptions.Parse(listener.Item2).Address))
            .Select(listener => $"{listener.Item1} binds {listener.Item2}, which is not a loopback address, and no authentication is configured: "
                + $"anyone who reaches it could write or read every script's data. Bind 127.0.0.1, or set {SecurityOptions.Section}:{nameof(SecurityOptions.AllowUnauthenticated)}=true to accept that.")
            .ToList();
        return exposed.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(exposed);
    }
}
