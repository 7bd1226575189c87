using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Storage;

/// <summary>A retried export is stored once while it is in the dedup window, across restarts too; after it, again.</summary>
public sealed class DedupTests
{
    [Fact]
    public async Task SameExport_Twice_IsStoredOnce_OverGrpcAndHttp()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var export = KoreloggerRunWithTrace("run_i");
        var client = new TraceService.TraceServiceClient(daemon.Grpc);

        for (var i = 0; i < 2; i++)
        {
            await client.ExportAsync(export, deadline: TestDaemon.Deadline());
            using var http = await daemon.Http.PostAsync("/v1/traces", Protobuf(export.ToByteArray()));
            http.EnsureSuccessStatusCode();
        }

        Assert.Equal([1L, 4L, 1L], daemon.Query("SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM logs), (SELECT count(*) FROM spans)").Single());
    }

    [Fact]
    public async Task SameExport_Concurrently_IsStoredOnce()
    {
        await using var daemon = await TestDaemon.StartAsync(new Dictionary<string, string?> { ["Storage:BatchDelay"] = "00:00:00.200" });
        var export = KoreloggerRunWithTrace("run_c");
        var client = new TraceService.TraceServiceClient(daemon.Grpc);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => client.ExportAsync(export, deadline: TestDaemon.Deadline()).ResponseAsync));

        Assert.Equal([1L, 4L], daemon.Query("SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM logs)").Single());
    }

    [Fact]
    public async Task SameExport_AfterARestart_IsStillStoredOnce()
    {
        var daemon = await TestDaemon.StartAsync();
        var export = KoreloggerRunWithTrace("run_r");
        await new TraceService.TraceServiceClient(daemon.Grpc).ExportAsync(export, deadline: TestDaemon.Deadline());

        await using var restarted = await daemon.RestartAsync();
        await new TraceService.TraceServiceClient(restarted.Grpc).ExportAsync(export, deadline: TestDaemon.Deadline());

        Assert.Equal([1L, 4L], restarted.Query("SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM logs)").Single());
    }

    [Fact]
    public async Task SameExport_AfterTheWindow_IsStoredAgain_AsDocumented()
    {
        var daemon = await TestDaemon.StartAsync();
        var export = Traces("s", LogSpan("run_w", "INFO", "once", T0, logId: "L1"));
        await new TraceService.TraceServiceClient(daemon.Grpc).ExportAsync(export, deadline: TestDaemon.Deadline());
        await daemon.StopAsync();

        // Two hours pass (the default window is one): the stored digest is older than the window.
        Database.Query(daemon.DatabasePath, "UPDATE export_digests SET committed_at = committed_at - INTERVAL 2 HOUR");
        await using var later = await TestDaemon.StartAsync(folder: daemon.Folder);
        await new TraceService.TraceServiceClient(later.Grpc).ExportAsync(export, deadline: TestDaemon.Deadline());

        Assert.Equal([1L, 2L], later.Query("SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM logs WHERE log_id = 'L1')").Single());
    }

    private static ExportTraceServiceRequest KoreloggerRunWithTrace(string runId)
    {
        var trace = NewTraceId();
        var run = RunSpan(runId, T0, TimeSpan.FromSeconds(1), traceId: trace, stdout: "INFO :: a\nINFO :: b\nprinted\n");
        var child = ChildSpan(run, runId);
        return Traces("s", LogSpan(runId, "INFO", "a", T0, trace), LogSpan(runId, "INFO", "b", T0.AddMilliseconds(1), trace),
            LogSpan(runId, "DEBUG", "c", T0.AddMilliseconds(2), trace), run, child);
    }
}
