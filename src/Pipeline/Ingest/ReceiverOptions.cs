using System.Net;
using Pipeline.Hosting;

namespace Pipeline.Ingest;

/// <summary>Config section <c>Receivers</c>: where OTLP is accepted and how large a request may be.</summary>
public sealed class ReceiverOptions : IValidatedOptions
{
    public const string Section = "Receivers";
    public const int DefaultMaxMessageBytes = 64 * 1024 * 1024;

    /// <summary>OTLP/gRPC listener (HTTP/2 only), host:port. Port 0 takes a free port.</summary>
    public string GrpcEndpoint { get; set; } = "127.0.0.1:4317";

    /// <summary>OTLP/HTTP listener, host:port.</summary>
    public string HttpEndpoint { get; set; } = "127.0.0.1:4318";

    /// <summary>
    /// PEM certificate of the OTLP/gRPC listener (intermediates may follow it in the file); with
    /// <see cref="GrpcCertificateKey"/> the listener serves TLS, re-reading both when they change. Empty: plain text.
    /// </summary>
    public string GrpcCertificate { get; set; } = string.Empty;

    /// <summary>PEM private key (unencrypted) of <see cref="GrpcCertificate"/>.</summary>
    public string GrpcCertificateKey { get; set; } = string.Empty;

    /// <summary>
    /// PEM certificate of the OTLP/HTTP listener; with <see cref="HttpCertificateKey"/> the listener serves TLS,
    /// offering HTTP/2 and HTTP/1.1 by ALPN. Empty: plain text, HTTP/1.1.
    /// </summary>
    public string HttpCertificate { get; set; } = string.Empty;

    /// <summary>PEM private key (unencrypted) of <see cref="HttpCertificate"/>.</summary>
    public string HttpCertificateKey { get; set; } = string.Empty;

    /// <summary>
    /// Largest request accepted, in bytes, after decompression (gRPC's own 4 MiB default is too small for real
    /// OTLP batches; the OTLP specification suggests allowing up to 64 MiB).
    /// </summary>
    public int MaxMessageBytes { get; set; } = DefaultMaxMessageBytes;

    /// <summary>
    /// The most request bytes (decompressed) being received and decoded at once, over both transports. A request
    /// that would pass it is refused as retryable before its body is buffered. Decoding holds about three times the
    /// bytes in objects, so this bounds the receivers' memory to about three times this figure.
    /// </summary>
    public long MaxInFlightBytes { get; set; } = 64L * 1024 * 1024;

    public IEnumerable<string> Validate()
    {
        foreach (var (key, value) in new[] { (nameof(GrpcEndpoint), GrpcEndpoint), (nameof(HttpEndpoint), HttpEndpoint) })
        {
            if (!IsEndpoint(value))
            {
                yield return $"{Section}:{key} must be an IP address and port such as 127.0.0.1:4317 (got '{value}').";
            }
        }

        foreach (var error in GrpcTls.Validate().Concat(HttpTls.Validate()))
        {
            yield return error;
        }

        if (MaxMessageBytes < 1024)
        {
            yield return $"{Section}:{nameof(MaxMessageBytes)} must be at least 1024 (got {MaxMessageBytes}).";
        }

        if (MaxInFlightBytes < MaxMessageBytes)
        {
            yield return $"{Section}:{nameof(MaxInFlightBytes)} must be at least {Section}:{nameof(MaxMessageBytes)} ({MaxMessageBytes}), or the largest request could never be admitted (got {MaxInFlightBytes}).";
        }
    }

    /// <summary>The OTLP/gRPC listener's PEM files.</summary>
    internal ListenerPem GrpcTls => new($"{Section}:{nameof(GrpcCertificate)}", GrpcCertificate, $"{Section}:{nameof(GrpcCertificateKey)}", GrpcCertificateKey);

    /// <summary>The OTLP/HTTP listener's PEM files.</summary>
    internal ListenerPem HttpTls => new($"{Section}:{nameof(HttpCertificate)}", HttpCertificate, $"{Section}:{nameof(HttpCertificateKey)}", HttpCertificateKey);

    internal static IPEndPoint Parse(string value) => IPEndPoint.Parse(value);

    /// <summary>An IP address and an explicit port, as every listener takes.</summary>
    internal static bool IsEndpoint(string value) =>
        IPEndPoint.TryParse(value, out _) && value.Contains(':', StringComparison.Ordinal);
}
