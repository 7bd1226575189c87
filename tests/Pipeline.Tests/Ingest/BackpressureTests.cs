using System.Net;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Ingest;

/// <summary>
/// A full channel is answered with a retryable status, never a silent drop. The writer is made slow by a long
/// batch delay, and the channel holds 1 KiB, so once a first export fills it a second cannot fit.
/// </summary>
public sealed class BackpressureTests
{
    private static readonly Dictionary<string, string?> TinyChannel = new()
    {
        ["Channel:CapacityBytes"] = "1024",
        ["Channel:FullWait"] = "00:00:00.050",
        ["Channel:RetryAfter"] = "00:00:03",
        ["Storage:BatchDelay"] = "00:00:01",
    };

    [Fact]
    public async Task GrpcExport_ChannelFull_IsUnavailableWithRetryInfo()
    {
        await using var daemon = await TestDaemon.StartAsync(TinyChannel);
        var client = new TraceService.TraceServiceClient(daemon.Grpc);
        var first = await FillTheChannelAsync(daemon, () => client.ExportAsync(ManyLogs("run_first", 50), deadline: TestDaemon.Deadline()).ResponseAsync);

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.ExportAsync(ManyLogs("run_busy", 50), deadline: TestDaemon.Deadline()));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("ingest channel full (1024 bytes of rows waiting)", error.Status.Detail);
        var retry = error.GetRpcStatus()!.GetDetail<RetryInfo>();
        Assert.Equal(TimeSpan.FromSeconds(3), retry.RetryDelay.ToTimeSpan());
        await first.WaitAsync(TestDaemon.Timeout);
    }

    [Fact]
    public async Task HttpExport_ChannelFull_Is503WithRetryAfter_AndTheRetryStoresEverythingOnce()
    {
        await using var daemon = await TestDaemon.StartAsync(TinyChannel);
        var body = ManyLogs("run_busy", 50).ToByteArray();
        var first = await FillTheChannelAsync(daemon, () => daemon.Http.PostAsync("/v1/traces", Protobuf(ManyLogs("run_first", 50).ToByteArray())));

        using var refused = await daemon.Http.PostAsync("/v1/traces", Protobuf(body));
        (await first.WaitAsync(TestDaemon.Timeout)).Dispose();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), refused.Headers.RetryAfter?.Delta);
        Assert.Contains("retry later", Google.Rpc.Status.Parser.ParseFrom(await refused.Content.ReadAsByteArrayAsync()).Message);

        // The client retries against a daemon that has room again: all 50 arrive, none twice.
        await using var roomy = await daemon.RestartAsync();
        using var accepted = await roomy.Http.PostAsync("/v1/traces", Protobuf(body));

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(50L, roomy.Scalar("SELECT count(*) FROM logs WHERE run_id = 'run_busy'"));
    }

    /// <summary>Starts an export and waits until its rows wait in the channel (the writer is slow), so the next one finds it full.</summary>
    private static async Task<Task<T>> FillTheChannelAsync<T>(TestDaemon daemon, Func<Task<T>> export)
    {
        var channel = daemon.Services.GetRequiredService<Pipeline.Buffering.IngestChannel>();
        var task = export();
        var deadline = DateTime.UtcNow.Add(TestDaemon.Timeout);
        while (channel.DepthBytes == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }

        Assert.True(channel.DepthBytes > 0, "the first export never reached the channel");
        return task;
    }

    private static ExportTraceServiceRequest ManyLogs(string runId, int count) =>
        Traces("s", [.. Enumerable.Range(0, count).Select(i => LogSpan(runId, "INFO", $"line {i}", T0.AddMilliseconds(i)))]);
}
