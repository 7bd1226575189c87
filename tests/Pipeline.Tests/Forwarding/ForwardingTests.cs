using System.Text;
using Google.Protobuf;
using Grpc.Core;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Forwarding;

/// <summary>Forwarding between two daemons in this process: what one acknowledges arrives at the other, once.</summary>
public sealed class ForwardingTests
{
    private const string Token = "forward-token-0123456789";

    [Fact]
    public async Task Grpc_ExportsOfBothSignals_ReachTheUpstream_WithItsToken()
    {
        await using var upstream = await TestDaemon.StartAsync(new Dictionary<string, string?> { ["Security:IngestToken"] = Token });
        await using var forwarder = await TestDaemon.StartAsync(Forwarding(upstream.GrpcAddress, ("Forward:Headers:Authorization", $"Bearer {Token}")));

        var (logs, run) = SeedKoreloggerRun("run_fwd_grpc");
        await new TraceService.TraceServiceClient(forwarder.Grpc).ExportAsync(Traces("fwd", [.. logs, run]), deadline: TestDaemon.Deadline());
        // OTLP/HTTP JSON in: forwarded as protobuf.
        var json = new JsonFormatter(JsonFormatter.Settings.Default).Format(Logs("fwd", StdoutRecord("run_fwd_json", "printed line", T0)));
        using var posted = await forwarder.Http.PostAsync(new Uri("/v1/logs", UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"));
        posted.EnsureSuccessStatusCode();

        await Poll.Until(() => (long)upstream.Scalar("SELECT count(*) FROM logs WHERE run_id IN ('run_fwd_grpc', 'run_fwd_json')")! == 5);
        Assert.Equal("Success", upstream.Scalar("SELECT status FROM runs WHERE run_id = 'run_fwd_grpc'"));
    }

    [Fact]
    public async Task Http_Protocol_ReachesTheUpstream()
    {
        await using var upstream = await TestDaemon.StartAsync();
        await using var forwarder = await TestDaemon.StartAsync(Forwarding(upstream.HttpAddress, ("Forward:Protocol", "http")));

        await new TraceService.TraceServiceClient(forwarder.Grpc).ExportAsync(Traces("fwd", LogSpan("run_fwd_http", "INFO", "over http", T0)), deadline: TestDaemon.Deadline());
        await new LogsService.LogsServiceClient(forwarder.Grpc).ExportAsync(Logs("fwd", StdoutRecord("run_fwd_http", "printed", T0)), deadline: TestDaemon.Deadline());

        await Poll.Until(() => (long)upstream.Scalar("SELECT count(*) FROM logs WHERE run_id = 'run_fwd_http'")! == 2);
    }

    [Fact]
    public async Task RecordsTheSendersTokenMayNotWrite_AreNotForwarded_TheRestOfTheExportIs()
    {
        await using var upstream = await TestDaemon.StartAsync();
        await using var forwarder = await Security.TokenScopeTests.StartWithTokensFileAsync(Security.TokenScopeTests.TokensJson(), Forwarding(upstream.GrpcAddress));
        var headers = new Metadata { { "authorization", $"Bearer {Security.TokenScopeTests.TenantA}" } };

        // One export, one resource per script: tenant A may write its own, not tenant B's.
        var export = Traces("tenant-a-job", LogSpan("run_mine", "INFO", "mine", T0));
        export.ResourceSpans.Add(Traces("tenant-b-job", LogSpan("run_theirs", "INFO", "theirs", T0)).ResourceSpans);
        var answer = await new TraceService.TraceServiceClient(forwarder.Grpc).ExportAsync(export, headers, TestDaemon.Deadline());
        Assert.Equal(1, answer.PartialSuccess.RejectedSpans);
        await new TraceService.TraceServiceClient(forwarder.Grpc).ExportAsync(Traces("tenant-a-job", LogSpan("run_marker", "INFO", "after", T0)), headers, TestDaemon.Deadline());

        // Exports go upstream several at a time, so not always in order: both are waited for. run_theirs came in
        // the same export as run_mine, so it would be there by now.
        await Poll.Until(() => (long)upstream.Scalar("SELECT count(*) FROM logs WHERE run_id IN ('run_marker', 'run_mine')")! == 2);
        Assert.Equal(["run_marker", "run_mine"], upstream.Query("SELECT run_id FROM logs ORDER BY run_id").Select(r => (string)r[0]!));
    }

    [Fact]
    public async Task Repeat_IsQueuedAgain_AndTheUpstreamStoresItOnce()
    {
        await using var upstream = await TestDaemon.StartAsync();
        await using var forwarder = await TestDaemon.StartAsync(Forwarding(upstream.GrpcAddress));
        var client = new TraceService.TraceServiceClient(forwarder.Grpc);
        var export = Traces("fwd", LogSpan("run_fwd_twice", "INFO", "once", T0, logId: "l1"));

        await client.ExportAsync(export, deadline: TestDaemon.Deadline());
        await client.ExportAsync(export, deadline: TestDaemon.Deadline());
        await client.ExportAsync(Traces("fwd", LogSpan("run_fwd_twice", "INFO", "marker", T0, logId: "l2")), deadline: TestDaemon.Deadline());

        // Exports go upstream several at a time, not always in order: the first l1 and the marker are both waited for.
        await Poll.Until(() => (long)upstream.Scalar("SELECT count(*) FROM logs WHERE log_id = 'l2'")! == 1
            && (long)upstream.Scalar("SELECT count(*) FROM logs WHERE log_id = 'l1'")! >= 1);
        Assert.Equal(1L, upstream.Scalar("SELECT count(*) FROM logs WHERE log_id = 'l1'"));
    }

    [Fact]
    public async Task RefuseNew_WhenTheQueueIsFull_RefusesRetryably_BeforeStoringLocally()
    {
        // Nobody listens upstream: the queue only fills.
        await using var forwarder = await TestDaemon.StartAsync(Forwarding(
            new Uri($"http://127.0.0.1:{Pipeline.Benchmark.DaemonProcess.FreePort()}"), ("Forward:QueueBytes", "16777216"), ("Forward:WhenFull", "RefuseNew")));
        var client = new TraceService.TraceServiceClient(forwarder.Grpc);
        var message = new string('x', 1_000_000);

        RpcException? refused = null;
        var sent = 0;
        for (; sent < 40 && refused is null; sent++)
        {
            try
            {
                await client.ExportAsync(Traces("fwd", LogSpan($"run_full_{sent}", "INFO", message, T0)), deadline: TestDaemon.Deadline());
            }
            catch (RpcException ex)
            {
                refused = ex;
            }
        }

        Assert.NotNull(refused);
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Contains("forward queue is full", refused.Status.Detail);
        Assert.InRange(sent, 6, 17);
        Assert.Equal(0L, forwarder.Scalar($"SELECT count(*) FROM logs WHERE run_id = 'run_full_{sent - 1}'"));
        Assert.Equal((long)sent - 1, forwarder.Scalar("SELECT count(*) FROM logs"));
    }

    private static Dictionary<string, string?> Forwarding(Uri upstream, params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Forward:Endpoint"] = upstream.ToString().TrimEnd('/'),
            ["Forward:MinBackoff"] = "00:00:00.1",
            ["Forward:MaxBackoff"] = "00:00:01",
        };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }
}
