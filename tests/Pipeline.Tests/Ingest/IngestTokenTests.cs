using System.Net;
using Google.Protobuf;
using Grpc.Core;
using OpenTelemetry.Exporter;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Ingest;

/// <summary>The ingest token on both OTLP transports, as the OpenTelemetry .NET exporter sends it from its headers.</summary>
public sealed class IngestTokenTests
{
    private const string Token = "ingest-token-0123456789abcdef";

    [Theory]
    [InlineData(OtlpExportProtocol.Grpc)]
    [InlineData(OtlpExportProtocol.HttpProtobuf)]
    public async Task SdkExporter_WithTheTokenInItsHeaders_IsStored_WithoutIt_Nothing(OtlpExportProtocol protocol)
    {
        await using var daemon = await TestDaemon.StartAsync(new Dictionary<string, string?> { ["Security:IngestToken"] = Token });

        Export(daemon, protocol, "run_with_token", $"Authorization=Bearer {Token}");
        Export(daemon, protocol, "run_wrong_token", "Authorization=Bearer not-the-token-0123456789");
        Export(daemon, protocol, "run_no_token", headers: null);

        Assert.Equal(["run_with_token"], daemon.Query("SELECT DISTINCT run_id FROM logs").Select(r => (string)r[0]!));
    }

    [Fact]
    public async Task Grpc_WithoutToken_IsUnauthenticated_NamingNoScript()
    {
        await using var daemon = await TestDaemon.StartAsync(new Dictionary<string, string?> { ["Security:IngestToken"] = Token });
        var client = new TraceService.TraceServiceClient(daemon.Grpc);
        var request = Traces("secret-script", LogSpan("r1", "INFO", "hello", T0));

        var missing = await Assert.ThrowsAsync<RpcException>(() => client.ExportAsync(request, deadline: TestDaemon.Deadline()).ResponseAsync);
        var wrong = await Assert.ThrowsAsync<RpcException>(() => client.ExportAsync(request, new Metadata { { "authorization", "Bearer wrong-token-0123456789" } }, TestDaemon.Deadline()).ResponseAsync);
        await client.ExportAsync(request, new Metadata { { "authorization", $"Bearer {Token}" } }, TestDaemon.Deadline());

        foreach (var refusal in new[] { missing, wrong })
        {
            Assert.Equal(Grpc.Core.StatusCode.Unauthenticated, refusal.StatusCode);
            Assert.Contains("missing or invalid bearer token", refusal.Status.Detail);
            Assert.DoesNotContain("secret-script", refusal.Status.Detail);
        }

        Assert.Equal(1L, daemon.Scalar("SELECT count(*) FROM logs"));
    }

    [Fact]
    public async Task Http_WithoutToken_Is401WithBearerChallenge_HealthStaysOpen()
    {
        await using var daemon = await TestDaemon.StartAsync(new Dictionary<string, string?> { ["Security:IngestToken"] = Token });

        using var refused = await daemon.Http.PostAsync("/v1/traces", Protobuf(Traces("s", LogSpan("r1", "INFO", "hello", T0)).ToByteArray()));
        using var health = await daemon.Api.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("Bearer", refused.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(Google.Rpc.Code.Unauthenticated, (Google.Rpc.Code)Google.Rpc.Status.Parser.ParseFrom(await refused.Content.ReadAsByteArrayAsync()).Code);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task OtlpListeners_MayFaceTheNetwork_OnceTheIngestTokenIsSet()
    {
        await using var daemon = await TestDaemon.StartAsync(new Dictionary<string, string?>
        {
            ["Security:IngestToken"] = Token,
            ["Receivers:GrpcEndpoint"] = "0.0.0.0:0",
            ["Receivers:HttpEndpoint"] = "0.0.0.0:0",
        });

        using var health = await daemon.Api.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    private static void Export(TestDaemon daemon, OtlpExportProtocol protocol, string runId, string? headers) =>
        SdkTracing.SendLog(daemon, protocol, "sdk-script", runId, headers);
}
