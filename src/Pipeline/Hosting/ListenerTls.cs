using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Pipeline.Hosting;

/// <summary>
/// One listener's PEM files, with the config keys that name them: the certificate (the server's own first, any
/// intermediates after it) and its private key. Both set, the listener serves TLS; neither, plain text.
/// </summary>
internal sealed record ListenerPem(string CertificateKey, string CertificatePath, string KeyKey, string KeyPath)
{
    public bool IsSet => !string.IsNullOrEmpty(CertificatePath) && !string.IsNullOrEmpty(KeyPath);

    /// <summary>What stops this listener from serving TLS, each message naming the key and the file it is about.</summary>
    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrEmpty(CertificatePath) && string.IsNullOrEmpty(KeyPath))
        {
            return [];
        }

        if (!IsSet)
        {
            var only = string.IsNullOrEmpty(KeyPath) ? CertificateKey : KeyKey;
            return [$"{CertificateKey} and {KeyKey} go together: set both (a PEM certificate and its PEM private key) for TLS, or neither for plain text (got only {only})."];
        }

        try
        {
            PemCertificate.Load(this);
            return [];
        }
        catch (PemCertificateException error)
        {
            return [error.Message];
        }
    }
}

/// <summary>Kestrel's listeners, in plain text or, when their PEM files are set, over TLS.</summary>
internal static class ListenerTls
{
    /// <summary>
    /// Serves <paramref name="plainText"/> when <paramref name="pem"/> is not set; otherwise TLS, offering
    /// <paramref name="overTls"/> by ALPN, with the certificate read from the files now and again whenever they change.
    /// </summary>
    public static void Serve(this ListenOptions listen, HttpProtocols plainText, HttpProtocols overTls, ListenerPem pem, TimeProvider time, ILogger<ListenerCertificate> logger)
    {
        if (!pem.IsSet)
        {
            listen.Protocols = plainText;
            return;
        }

        var certificate = new ListenerCertificate(pem, time, logger);
        listen.Protocols = overTls;
        // Per connection, so each handshake takes the certificate as it is now; Kestrel adds ALPN from the protocols.
        listen.UseHttps(new TlsHandshakeCallbackOptions
        {
            OnConnection = _ => ValueTask.FromResult(new SslServerAuthenticationOptions { ServerCertificateContext = certificate.Current }),
        });
    }
}

/// <summary>
/// The certificate one TLS listener presents. Its PEM files are looked at again on a handshake at most once per
/// <see cref="CheckInterval"/>; when either has changed (its last-write time or its length), they are read again and
/// new connections get the new certificate (open ones keep theirs). A re-read that fails keeps the previous
/// certificate and logs one warning, and is not tried again until the files change again.
/// </summary>
internal sealed partial class ListenerCertificate
{
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly ListenerPem _pem;
    private readonly TimeProvider _time;
    private readonly ILogger<ListenerCertificate> _logger;
    private readonly Lock _gate = new();
    private Loaded _current;
    private long _checkedAt;
    private FileStamps? _failed;

    /// <summary>Reads the files now; throws, naming the file and the reason, when they cannot be used.</summary>
    public ListenerCertificate(ListenerPem pem, TimeProvider time, ILogger<ListenerCertificate> logger)
    {
        _pem = pem;
        _time = time;
        _logger = logger;
        var stamps = FileStamps.Of(pem);
        _current = new Loaded(PemCertificate.Load(pem), stamps);
        _checkedAt = time.GetTimestamp();
        var served = _current.Context.TargetCertificate;
        var notAfter = served.NotAfter.ToUniversalTime();
        LogServing(logger, pem.CertificateKey, served.Subject, served.Thumbprint, notAfter);
    }

    /// <summary>The certificate to present on a new connection.</summary>
    public SslStreamCertificateContext Current
    {
        get
        {
            if (_time.GetElapsedTime(Volatile.Read(ref _checkedAt)) >= CheckInterval && _gate.TryEnter())
            {
                // One handshake looks; the others meanwhile go on with the certificate they have.
                try
                {
                    Refresh();
                }
                finally
                {
                    _gate.Exit();
                }
            }

            return Volatile.Read(ref _current).Context;
        }
    }

    private void Refresh()
    {
        if (_time.GetElapsedTime(_checkedAt) < CheckInterval)
        {
            return;
        }

        Volatile.Write(ref _checkedAt, _time.GetTimestamp());
        var stamps = FileStamps.Of(_pem);
        if (stamps == _current.Stamps || stamps == _failed)
        {
            return;
        }

        var previous = _current.Context.TargetCertificate;
        try
        {
            Volatile.Write(ref _current, new Loaded(PemCertificate.Load(_pem), stamps));
            _failed = null;
            var next = _current.Context.TargetCertificate;
            var notAfter = next.NotAfter.ToUniversalTime();
            LogReloaded(_logger, _pem.CertificateKey, next.Subject, next.Thumbprint, notAfter, previous.Thumbprint);
        }
        catch (PemCertificateException error)
        {
            _failed = stamps;
            LogReloadFailed(_logger, error.Key, error.Detail, previous.Thumbprint);
        }
    }

    private sealed record Loaded(SslStreamCertificateContext Context, FileStamps Stamps);

    /// <summary>What is looked at to see that a file changed: its last-write time and its length (-1 when it is missing).</summary>
    private readonly record struct FileStamps(DateTime CertificateWritten, long CertificateLength, DateTime KeyWritten, long KeyLength)
    {
        public static FileStamps Of(ListenerPem pem)
        {
            var (certificate, key) = (new FileInfo(pem.CertificatePath), new FileInfo(pem.KeyPath));
            return new FileStamps(certificate.LastWriteTimeUtc, certificate.Exists ? certificate.Length : -1, key.LastWriteTimeUtc, key.Exists ? key.Length : -1);
        }
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "{Key}: serving TLS with the certificate {Subject} ({Thumbprint}), valid until {NotAfter:o}")]
    private static partial void LogServing(ILogger logger, string key, string subject, string thumbprint, DateTime notAfter);

    [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "{Key}: the PEM files changed; new connections get the certificate {Subject} ({Thumbprint}), valid until {NotAfter:o}, instead of {Previous}")]
    private static partial void LogReloaded(ILogger logger, string key, string subject, string thumbprint, DateTime notAfter, string previous);

    [LoggerMessage(EventId = 402, Level = LogLevel.Warning, Message = "{Key}: {Reason} The listener keeps the certificate {Thumbprint} until its PEM files change again.")]
    private static partial void LogReloadFailed(ILogger logger, string key, string reason, string thumbprint);
}

/// <summary>A listener's PEM files read into the certificate context TLS handshakes present.</summary>
internal static class PemCertificate
{
    /// <summary>The certificate with its private key and the chain that follows it in its file; throws, naming the file and the reason.</summary>
    public static SslStreamCertificateContext Load(ListenerPem pem)
    {
        var certificateText = Read(pem.CertificateKey, pem.CertificatePath);
        var keyText = Read(pem.KeyKey, pem.KeyPath);

        var chain = new X509Certificate2Collection();
        try
        {
            chain.ImportFromPem(certificateText);
        }
        catch (CryptographicException error)
        {
            throw new PemCertificateException(pem.CertificateKey, $"the file {pem.CertificatePath} is not a valid PEM certificate: {error.Message}");
        }

        if (chain.Count == 0)
        {
            throw new PemCertificateException(pem.CertificateKey, $"the file {pem.CertificatePath} holds no PEM certificate (-----BEGIN CERTIFICATE-----).");
        }

        X509Certificate2 certificate;
        try
        {
            // The first certificate in the file, with the key; the ones after it are its chain.
            certificate = X509Certificate2.CreateFromPem(certificateText, keyText);
        }
        catch (Exception error) when (error is CryptographicException or ArgumentException)
        {
            throw new PemCertificateException(pem.KeyKey, $"the file {pem.KeyPath} is not an unencrypted PEM private key of the certificate in {pem.CertificatePath}: {error.Message}");
        }

        if (OperatingSystem.IsWindows())
        {
            // SChannel does not take the ephemeral key a PEM import gives; a PKCS#12 round trip persists it.
            certificate = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
        }

        chain.RemoveAt(0);
        return SslStreamCertificateContext.Create(certificate, chain, offline: true);
    }

    private static string Read(string key, string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new PemCertificateException(key, $"the file {path} cannot be read: {error.Message}");
        }
    }
}

/// <summary>A listener's PEM files cannot be used; the message names the key, the file and the reason.</summary>
internal sealed class PemCertificateException(string key, string detail) : Exception($"{key}: {detail}")
{
    /// <summary>The config key naming the file that cannot be used.</summary>
    public string Key { get; } = key;

    /// <summary>The file and what is wrong with it.</summary>
    public string Detail { get; } = detail;
}
