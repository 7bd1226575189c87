using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Authentication;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Exporter;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Trace;
using Pipeline.Benchmark;
using Pipeline.Hosting;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Hosting;

/// <summary>
/// TLS per listener from PEM files: the OpenTelemetry .NET exporter over gRPC and OTLP/HTTP, the query API over https,
/// ALPN, clients that cannot take part, certificates replaced on disk while the daemon runs, and what stops a start.
/// </summary>
public sealed class TlsTests
{
    private static readonly TimeSpan RotationTimeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Addresses_WithoutCertificates_StayPlainText()
    {
        await using var daemon = await TestDaemon.StartAsync();

        Assert.Equal(["http", "http", "http"], new[] { daemon.GrpcAddress, daemon.HttpAddress, daemon.ApiAddress }.Select(a => a.Scheme));
    }

    [Theory]
    [InlineData(OtlpExportProtocol.Grpc)]
    [InlineData(OtlpExportProtocol.HttpProtobuf)]
    public async Task SdkExporter_OverTls_TrustingTheCa_IsStored_AndReadBackOverHttps(OtlpExportProtocol protocol)
    {
        var pki = new TestPki();
        var pem = pki.Issue(new TempFolder());
        await using var daemon = await TestDaemon.StartAsync(TestPki.Settings(pem));
        var runId = $"run_tls_{protocol}";

        Assert.Equal(["https", "https", "https"], new[] { daemon.GrpcAddress, daemon.HttpAddress, daemon.ApiAddress }.Select(a => a.Scheme));
        Export(daemon, protocol, runId, () => new HttpClient(pki.Handler()) { Timeout = TestDaemon.Timeout });

        using var api = pki.Client(daemon.ApiAddress);
        using var record = await api.GetAsync($"/api/runs/{runId}?script=sdk-tls");
        Assert.Equal(HttpStatusCode.OK, record.StatusCode);
        var run = (await record.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("run");
        Assert.Equal(runId, run.GetProperty("runId").GetString());
        Assert.Equal("Success", run.GetProperty("status").GetString());
    }

    [Fact]
    public async Task OtlpHttpAndApi_OverTls_OfferHttp2AndHttp11ByAlpn_GrpcOnlyHttp2()
    {
        var pki = new TestPki();
        await using var daemon = await TestDaemon.StartAsync(TestPki.Settings(pki.Issue(new TempFolder())));
        using var client = new HttpClient(pki.Handler()) { Timeout = TestDaemon.Timeout };

        foreach (var version in new[] { HttpVersion.Version20, HttpVersion.Version11 })
        {
            using var health = await client.SendAsync(Exactly(version, HttpMethod.Get, new Uri(daemon.ApiAddress, "/healthz")));
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal(version, health.Version);

            var export = Exactly(version, HttpMethod.Post, new Uri(daemon.HttpAddress, "/v1/traces"));
            export.Content = Protobuf(Traces("alpn", LogSpan($"run_http{version.Major}", "INFO", "hello", T0)).ToByteArray());
            using var exported = await client.SendAsync(export);
            Assert.Equal(HttpStatusCode.OK, exported.StatusCode);
            Assert.Equal(version, exported.Version);
        }

        await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(Exactly(HttpVersion.Version11, HttpMethod.Get, new Uri(daemon.GrpcAddress, "/healthz"))));
        using var grpc = await client.SendAsync(Exactly(HttpVersion.Version20, HttpMethod.Get, new Uri(daemon.GrpcAddress, "/healthz")));
        Assert.Equal(HttpVersion.Version20, grpc.Version);
        Assert.Equal(["run_http1", "run_http2"], daemon.Query("SELECT run_id FROM logs ORDER BY run_id").Select(r => (string)r[0]!));
    }

    [Fact]
    public async Task PlainTextClients_AgainstTlsListeners_Fail_AndNothingIsStored()
    {
        var pki = new TestPki();
        await using var daemon = await TestDaemon.StartAsync(TestPki.Settings(pki.Issue(new TempFolder())));
        using var plain = new HttpClient { Timeout = TestDaemon.Timeout };
        using var channel = GrpcChannel.ForAddress(PlainText(daemon.GrpcAddress));
        var request = Traces("plain", LogSpan("run_plain", "INFO", "hello", T0));

        var grpc = await Assert.ThrowsAsync<RpcException>(() => new TraceService.TraceServiceClient(channel).ExportAsync(request, deadline: TestDaemon.Deadline()).ResponseAsync);
        await Assert.ThrowsAsync<HttpRequestException>(() => plain.PostAsync(new Uri(PlainText(daemon.HttpAddress), "/v1/traces"), Protobuf(request.ToByteArray())));
        await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetAsync(new Uri(PlainText(daemon.ApiAddress), "/healthz")));

        // The connection breaks off during the HTTP/2 preface, or before it: either way no call goes through.
        Assert.Contains(grpc.StatusCode, new[] { Grpc.Core.StatusCode.Unavailable, Grpc.Core.StatusCode.Internal });
        Assert.Equal(0L, daemon.Scalar("SELECT count(*) FROM logs"));
    }

    [Fact]
    public async Task ClientsThatDoNotTrustTheCa_Fail_AndNothingIsStored()
    {
        var pki = new TestPki();
        await using var daemon = await TestDaemon.StartAsync(TestPki.Settings(pki.Issue(new TempFolder())));
        using var untrusting = new HttpClient { Timeout = TestDaemon.Timeout };
        using var otherCa = new HttpClient(new TestPki().Handler()) { Timeout = TestDaemon.Timeout };

        foreach (var client in new[] { untrusting, otherCa })
        {
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(new Uri(daemon.ApiAddress, "/healthz")));
            Assert.IsType<AuthenticationException>(refused.InnerException);
        }

        Export(daemon, OtlpExportProtocol.Grpc, "run_untrusted_grpc", httpClientFactory: null);
        Export(daemon, OtlpExportProtocol.HttpProtobuf, "run_untrusted_http", httpClientFactory: null);
        Export(daemon, OtlpExportProtocol.Grpc, "run_other_ca", () => new HttpClient(new TestPki().Handler()));
        Assert.Equal(0L, daemon.Scalar("SELECT count(*) FROM runs"));
    }

    [Fact]
    public async Task ReplacedPemFiles_NewConnectionsGetTheNewCertificate_WithoutRestart()
    {
        var pki = new TestPki();
        var first = pki.Issue(new TempFolder());
        await using var daemon = await TestDaemon.StartAsync(TestPki.Settings(first));
        var listeners = new[] { daemon.GrpcAddress, daemon.HttpAddress, daemon.ApiAddress };
        foreach (var listener in listeners)
        {
            Assert.Equal(first.Thumbprint, await ThumbprintAsync(pki, listener));
        }

        var second = pki.Issue(first.CertificatePath, first.KeyPath);

        Assert.NotEqual(first.Thumbprint, second.Thumbprint);
        foreach (var listener in listeners)
        {
            Assert.Equal(second.Thumbprint, await UntilThumbprintAsync(pki, listener, second.Thumbprint));
        }

        Export(daemon, OtlpExportProtocol.Grpc, "run_after_rotation", () => new HttpClient(pki.Handler()) { Timeout = TestDaemon.Timeout });
        Assert.Equal(["run_after_rotation"], daemon.Query("SELECT run_id FROM runs").Select(r => (string)r[0]!));
    }

    [Fact]
    public async Task ReplacedPemFiles_ThatCannotBeUsed_KeepThePreviousCertificate_WarningOnce()
    {
        var pki = new TestPki();
        var first = pki.Issue(new TempFolder());
        var logs = new LogCapture();
        await using var daemon = await TestDaemon.StartAsync(TestPki.Settings(first), logs: logs);

        TestPki.Replace(first.CertificatePath, "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n");
        var until = DateTime.UtcNow + 3.5 * ListenerCertificateCheck;
        while (DateTime.UtcNow < until)
        {
            Assert.Equal(first.Thumbprint, await ThumbprintAsync(pki, daemon.ApiAddress));
            await Task.Delay(100);
        }

        var warning = Assert.Single(logs.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("Api:Certificate", StringComparison.Ordinal));
        Assert.Contains($"the file {first.CertificatePath} holds no PEM certificate", warning.Message);
        Assert.Contains($"keeps the certificate {first.Thumbprint}", warning.Message);

        var fixedPem = pki.Issue(first.CertificatePath, first.KeyPath);
        Assert.Equal(fixedPem.Thumbprint, await UntilThumbprintAsync(pki, daemon.ApiAddress, fixedPem.Thumbprint));
    }

    [Theory]
    [InlineData("Receivers:GrpcCertificate", "Receivers:GrpcCertificateKey", true)]
    [InlineData("Receivers:HttpCertificate", "Receivers:HttpCertificateKey", false)]
    [InlineData("Api:Certificate", "Api:CertificateKey", true)]
    public async Task Start_WithOnlyOneOfTheTwoFiles_ExitsOneNamingBothKeys(string certificateKey, string keyKey, bool onlyTheCertificate)
    {
        var pem = new TestPki().Issue(new TempFolder());
        var setting = onlyTheCertificate ? $"--{certificateKey}={pem.CertificatePath}" : $"--{keyKey}={pem.KeyPath}";

        var errors = await FailedStartAsync(setting);

        Assert.Contains($"{certificateKey} and {keyKey} go together", errors);
        Assert.Contains($"got only {(onlyTheCertificate ? certificateKey : keyKey)}", errors);
    }

    [Fact]
    public async Task Start_WithAMissingCertificateFile_ExitsOneNamingTheFile()
    {
        var pem = new TestPki().Issue(new TempFolder());
        var missing = Path.Combine(new TempFolder().Path, "missing.pem");

        var errors = await FailedStartAsync($"--Api:Certificate={missing}", $"--Api:CertificateKey={pem.KeyPath}");

        Assert.Contains($"Api:Certificate: the file {missing} cannot be read: Could not find file '{missing}'.", errors);
    }

    [Theory]
    [InlineData(true, "holds no PEM certificate")]
    [InlineData(false, "is not an unencrypted PEM private key of the certificate in")]
    public async Task Start_WithGarbageForAPemFile_ExitsOneNamingTheFileAndTheReason(bool garbageCertificate, string reason)
    {
        var pem = new TestPki().Issue(new TempFolder());
        File.WriteAllText(garbageCertificate ? pem.CertificatePath : pem.KeyPath, "this is not PEM, only some text saved under the file's name\n");

        var errors = await FailedStartAsync($"--Receivers:GrpcCertificate={pem.CertificatePath}", $"--Receivers:GrpcCertificateKey={pem.KeyPath}");

        var (key, file) = garbageCertificate ? ("Receivers:GrpcCertificate", pem.CertificatePath) : ("Receivers:GrpcCertificateKey", pem.KeyPath);
        Assert.Contains($"{key}: the file {file} {reason}", errors);
    }

    [Fact]
    public async Task Start_WithTheKeyOfAnotherCertificate_ExitsOneNamingTheKeyFile()
    {
        var pki = new TestPki();
        var pem = pki.Issue(new TempFolder());
        var other = pki.Issue(new TempFolder());

        var errors = await FailedStartAsync($"--Api:Certificate={pem.CertificatePath}", $"--Api:CertificateKey={other.KeyPath}");

        Assert.Contains($"Api:CertificateKey: the file {other.KeyPath} is not an unencrypted PEM private key of the certificate in {pem.CertificatePath}", errors);
    }

    /// <summary>How often a listener looks at its PEM files, at most.</summary>
    private static TimeSpan ListenerCertificateCheck => ListenerCertificate.CheckInterval;

    /// <summary>A <c>script_run</c> span of <c>sdk-tls</c> sent by the OpenTelemetry .NET exporter.</summary>
    private static void Export(TestDaemon daemon, OtlpExportProtocol protocol, string runId, Func<HttpClient>? httpClientFactory)
    {
        var sourceName = $"tls-{protocol}-{runId}";
        using var tracing = SdkTracing.To(daemon, protocol, sourceName, "sdk-tls", httpClientFactory: httpClientFactory);
        using var source = new ActivitySource(sourceName);
        Activity.Current = null;
        using (var run = source.StartActivity("script_run", ActivityKind.Server))
        {
            run!.SetTag("run_id", runId);
            run.SetTag("source_type", "tool");
        }

        tracing.ForceFlush();
    }

    private static HttpRequestMessage Exactly(Version version, HttpMethod method, Uri uri) =>
        new(method, uri) { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact };

    private static Uri PlainText(Uri address) => new UriBuilder(address) { Scheme = "http" }.Uri;

    /// <summary>The thumbprint of the certificate a new connection to <paramref name="address"/> is shown.</summary>
    private static async Task<string> ThumbprintAsync(TestPki pki, Uri address)
    {
        string? seen = null;
        using var client = new HttpClient(pki.Handler(thumbprint => seen = thumbprint)) { Timeout = TestDaemon.Timeout };
        // HTTP/2 is what every listener offers over TLS (the answer, a 404 on the gRPC port, does not matter).
        using var response = await client.SendAsync(Exactly(HttpVersion.Version20, HttpMethod.Get, new Uri(address, "/healthz")));
        return seen!;
    }

    /// <summary>New connections until one is shown <paramref name="thumbprint"/>, or the timeout; the last one seen.</summary>
    private static async Task<string> UntilThumbprintAsync(TestPki pki, Uri address, string thumbprint)
    {
        var until = DateTime.UtcNow + RotationTimeout;
        string seen;
        while ((seen = await ThumbprintAsync(pki, address)) != thumbprint && DateTime.UtcNow < until)
        {
            await Task.Delay(100);
        }

        return seen;
    }

    /// <summary>Starts the daemon in its own process, expects it to exit by itself with 1; what it wrote to stderr.</summary>
    private static async Task<string> FailedStartAsync(params string[] settings)
    {
        using var daemon = DaemonProcess.Start(Path.Combine(new TempFolder().Path, "pipeline.duckdb"), settings);
        var code = await daemon.ExitCodeAsync(TimeSpan.FromSeconds(60));
        var errors = await daemon.Errors;

        Assert.True(code == 1, $"exit code {code}; stderr: {errors}; stdout: {await daemon.Output}");
        Assert.StartsWith("Pipeline did not start: ", errors, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", errors);
        return errors;
    }
}
