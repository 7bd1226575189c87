using System.Globalization;
using System.Net;
using Pipeline.Api;

namespace Pipeline.Hosting;

/// <summary>
/// <c>Pipeline --probe [url]</c>: asks a running daemon whether it is ready, for a health check in an image that has
/// no curl. Without a URL it asks <c>/readyz</c> on the configured API endpoint (read from the same sources as the
/// daemon's: built-in defaults, <c>ConfigFile</c>, <c>PIPELINE_</c> environment, the other arguments), with a wildcard
/// address (<c>0.0.0.0</c>, <c>::</c>) asked on loopback, over https when <c>Api:Certificate</c> is set (accepting that
/// certificate). Exit code 0 when it answers 200, 1 otherwise, printing why.
/// </summary>
internal static class Probe
{
    public const string Argument = "--probe";

    /// <summary>How long the daemon has to answer.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static bool Requested(string[] args) =>
        args.Any(a => a == Argument || a.StartsWith(Argument + "=", StringComparison.Ordinal));

    /// <summary>Probes once; the exit code. What it found goes to <paramref name="output"/> (ready) or <paramref name="errors"/>.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter errors)
    {
        Uri url;
        try
        {
            url = Target(args);
        }
        catch (Exception error) when (error is InvalidOperationException or FormatException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            await errors.WriteLineAsync($"not ready: {error.Message}").ConfigureAwait(false);
            return 1;
        }

        // Its own daemon over TLS on loopback shows the certificate of Api:Certificate, whatever names it carries (a DNS
        // name, say): that very certificate is accepted, and any other is checked as usual.
        using var handler = new SocketsHttpHandler { ConnectTimeout = Timeout, UseProxy = false };
        if (url.Scheme == Uri.UriSchemeHttps && OwnCertificate(args) is { } own)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                errors == System.Net.Security.SslPolicyErrors.None || (certificate is not null && certificate.GetCertHash().AsSpan().SequenceEqual(own));
        }

        using var http = new HttpClient(handler) { Timeout = Timeout };
        try
        {
            using var response = await http.GetAsync(url).ConfigureAwait(false);
            var body = (await response.Content.ReadAsStringAsync().ConfigureAwait(false)).Trim();
            if (body.Length > 500)
            {
                body = body[..500] + "...";
            }

            var answer = $"{url} answered {(int)response.StatusCode} {response.ReasonPhrase}{(body.Length > 0 ? $": {body}" : "")}";
            if (response.StatusCode == HttpStatusCode.OK)
            {
                await output.WriteLineAsync($"ready: {answer}").ConfigureAwait(false);
                return 0;
            }

            await errors.WriteLineAsync($"not ready: {answer}").ConfigureAwait(false);
            return 1;
        }
        catch (HttpRequestException error)
        {
            await errors.WriteLineAsync($"not ready: {url}: {error.Message}").ConfigureAwait(false);
            return 1;
        }
        catch (TaskCanceledException)
        {
            await errors.WriteLineAsync($"not ready: {url} did not answer within {Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s").ConfigureAwait(false);
            return 1;
        }
    }

    /// <summary>
    /// The hash of the certificate the configured API listener shows, when the probe asks it (no URL given) over TLS;
    /// null otherwise, or when the file cannot be read (the usual checks then apply).
    /// </summary>
    private static byte[]? OwnCertificate(string[] args)
    {
        if (args.Any(a => a.StartsWith(Argument + "=", StringComparison.Ordinal)) || args.SkipWhile(a => a != Argument).Skip(1).FirstOrDefault() is { } next && !next.StartsWith('-'))
        {
            return null;
        }

        var configuration = new ConfigurationBuilder().AddPipelineSources([.. args.Where(a => a != Argument)]).Build();
        var path = configuration[$"{ApiOptions.Section}:{nameof(ApiOptions.Certificate)}"];
        try
        {
            using var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(path!));
            return certificate.GetCertHash();
        }
        catch (Exception error) when (error is ArgumentException or IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }

    /// <summary>The URL given after <c>--probe</c> (a bare <c>http://host:port</c> means its <c>/readyz</c>), else the configured API endpoint's <c>/readyz</c>.</summary>
    internal static Uri Target(string[] args)
    {
        var rest = new List<string>();
        string? given = null;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == Argument)
            {
                if (i + 1 < args.Length && !args[i + 1].StartsWith('-'))
                {
                    given = args[++i];
                }
            }
            else if (args[i].StartsWith(Argument + "=", StringComparison.Ordinal))
            {
                given = args[i][(Argument.Length + 1)..];
            }
            else
            {
                rest.Add(args[i]);
            }
        }

        if (given is not null)
        {
            if (!Uri.TryCreate(given, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            {
                throw new FormatException($"'{given}' is not an http:// or https:// URL.");
            }

            return url.AbsolutePath == "/" ? new Uri(url, "/readyz") : url;
        }

        var configuration = new ConfigurationBuilder().AddPipelineSources([.. rest]).Build();
        var key = $"{ApiOptions.Section}:{nameof(ApiOptions.Endpoint)}";
        var endpoint = configuration[key] ?? new ApiOptions().Endpoint;
        if (!Ingest.ReceiverOptions.IsEndpoint(endpoint))
        {
            throw new FormatException($"{key} must be an IP address and port such as 127.0.0.1:8080 (got '{endpoint}').");
        }

        var address = Ingest.ReceiverOptions.Parse(endpoint);
        if (address.Port == 0)
        {
            throw new InvalidOperationException($"{key} is {endpoint}, a port picked at start: give the URL, {Argument} http://127.0.0.1:PORT/readyz.");
        }

        var host = address.Address.Equals(IPAddress.Any) ? IPAddress.Loopback
            : address.Address.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback
            : address.Address;
        var scheme = string.IsNullOrEmpty(configuration[$"{ApiOptions.Section}:{nameof(ApiOptions.Certificate)}"]) ? "http" : "https";
        return new Uri($"{scheme}://{new IPEndPoint(host, address.Port)}/readyz");
    }
}
