using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Ingest;

/// <summary>
/// A full channel is answered with a retryable status, never a silent drop. The writer is made slow by a long
/// batch delay, and the channel holds one row, so a many-row export cannot fit.
/// </summary>
public sealed class BackpressureTests
{
    private static readonly Dictionary<string, string?> TinyChannel = new()
    {
        ["Channel:CapacityRows"] = "1",
        ["Channel:FullWait"] = "00:00:00.050",
        ["Channel:RetryAfter"] = "00:00:03",
        ["Storage:BatchDelay"] = "00:00:01",
    };

    [Fact]
    public async Task GrpcExport_ChannelFull_IsUnavailableWithRetryInfo()
    {
        await using var daemon = await TestDaemon.StartAsync(TinyChannel);
        var request = ManyLogs("run_busy", 50);

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await new TraceService.TraceServiceClient(daemon.Grpc).ExportAsync(request, deadline: DateTime.UtcNow.Add(TestDaemon.Timeout)));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("ingest channel full (1 rows)", error.Status.Detail);
        var retry = error.GetRpcStatus()!.GetDetail<RetryInfo>();
        Assert.Equal(TimeSpan.FromSeconds(3), retry.RetryDelay.ToTimeSpan());
    }

    [Fact]
    public async Task HttpExport_ChannelFull_Is503WithRetryAfter_AndTheRetryStoresEverythingOnce()
    {
        await using var daemon = await TestDaemon.StartAsync(TinyChannel);
        var body = ManyLogs("run_busy", 50).ToByteArray();

        using var refused = await daemon.Http.PostAsync("/v1/traces", Protobuf(body));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), refused.Headers.RetryAfter?.Delta);
        Assert.Contains("retry later", Google.Rpc.Status.Parser.ParseFrom(await refused.Content.ReadAsByteArrayAsync()).Message);

        // The client retries against a daemon that has room again: all 50 arrive, none twice.
        await using var roomy = await daemon.RestartAsync();
        using var accepted = await roomy.Http.PostAsync("/v1/traces", Protobuf(body));

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(50L, roomy.Scalar("SELECT count(*) FROM logs WHERE run_id = 'run_busy'"));
    }

    private static ExportTraceServiceRequest ManyLogs(string runId, int count) =>
        Traces("s", [.. Enumerable.Range(0, count).Select(i => LogSpan(runId, "INFO", $"line {i}", T0.AddMilliseconds(i)))]);

    private static ByteArrayContent Protobuf(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        return content;
    }
}
