using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Pipeline.Tests.Support;

/// <summary>One listener's PEM files as written, and the thumbprint of the server certificate in them.</summary>
internal sealed record ServerPem(string CertificatePath, string KeyPath, string Thumbprint);

/// <summary>
/// A test certificate authority (a root and an intermediate under it) that issues server certificates for 127.0.0.1
/// and localhost as PEM files, the chain after the server's own certificate; and clients that trust only its root.
/// </summary>
internal sealed class TestPki
{
    private readonly X509Certificate2 _intermediate;

    public TestPki()
    {
        var now = DateTimeOffset.UtcNow;
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var root = new CertificateRequest("CN=Pipeline Test Root", rootKey, HashAlgorithmName.SHA256);
        AddAuthority(root);
        Root = root.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        var intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var intermediate = new CertificateRequest("CN=Pipeline Test Intermediate", intermediateKey, HashAlgorithmName.SHA256);
        AddAuthority(intermediate);
        intermediate.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Root, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        using var issued = intermediate.Create(Root, now.AddDays(-1), now.AddDays(20), RandomNumberGenerator.GetBytes(16));
        _intermediate = issued.CopyWithPrivateKey(intermediateKey);
    }

    /// <summary>The root a client trusts to reach the daemon's listeners.</summary>
    public X509Certificate2 Root { get; }

    /// <summary>
    /// Issues a new server certificate and writes it (with the intermediate after it) and its key to the two paths,
    /// each by a rename over the old file, as certificate managers replace them.
    /// </summary>
    public ServerPem Issue(string certificatePath, string keyPath)
    {
        var now = DateTimeOffset.UtcNow;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_intermediate, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.Create(_intermediate, now.AddHours(-1), now.AddDays(10), RandomNumberGenerator.GetBytes(16));

        Replace(certificatePath, certificate.ExportCertificatePem() + "\n" + _intermediate.ExportCertificatePem() + "\n");
        Replace(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        return new ServerPem(certificatePath, keyPath, certificate.Thumbprint);
    }

    /// <summary>Issues a server certificate into <c>server.pem</c> and <c>server-key.pem</c> in <paramref name="folder"/>.</summary>
    public ServerPem Issue(TempFolder folder) => Issue(Path.Combine(folder.Path, "server.pem"), Path.Combine(folder.Path, "server-key.pem"));

    /// <summary>
    /// A handler that trusts this root only, offering HTTP/2 and HTTP/1.1 by ALPN; each server certificate it is
    /// shown is passed to <paramref name="seen"/> (by thumbprint).
    /// </summary>
    public SocketsHttpHandler Handler(Action<string>? seen = null) => new()
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                CustomTrustStore = { Root },
                RevocationMode = X509RevocationMode.NoCheck,
            },
            RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is not null)
                {
                    seen?.Invoke(certificate.GetCertHashString());
                }

                return errors == SslPolicyErrors.None;
            },
        },
    };

    /// <summary>A client of <paramref name="address"/> that trusts this root only.</summary>
    public HttpClient Client(Uri address, Action<string>? seen = null) =>
        new(Handler(seen)) { BaseAddress = address, Timeout = TestDaemon.Timeout };

    /// <summary>The settings that put every listener on TLS with these files.</summary>
    public static Dictionary<string, string?> Settings(ServerPem pem) => new()
    {
        ["Receivers:GrpcCertificate"] = pem.CertificatePath,
        ["Receivers:GrpcCertificateKey"] = pem.KeyPath,
        ["Receivers:HttpCertificate"] = pem.CertificatePath,
        ["Receivers:HttpCertificateKey"] = pem.KeyPath,
        ["Api:Certificate"] = pem.CertificatePath,
        ["Api:CertificateKey"] = pem.KeyPath,
    };

    /// <summary>Writes <paramref name="text"/> beside <paramref name="path"/>, then renames it over the file.</summary>
    public static void Replace(string path, string text)
    {
        var written = path + ".new";
        File.WriteAllText(written, text);
        File.Move(written, path, overwrite: true);
    }

    private static void AddAuthority(CertificateRequest request)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
    }
}
