using Grpc.Core;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Storage;

/// <summary>How the writer's groups cut exports, through a real daemon: no line without its run, no doubles.</summary>
public sealed class WriterServiceTests
{
    [Fact]
    public async Task Export_LargerThanTheChannel_IsStoredWhole()
    {
        await using var daemon = await TestDaemon.StartAsync(new Dictionary<string, string?> { ["Channel:CapacityBytes"] = "1024", ["Channel:FullWait"] = "00:00:10" });

        await new TraceService.TraceServiceClient(daemon.Grpc).ExportAsync(KoreloggerRun("run_big", 300), deadline: TestDaemon.Deadline());

        Assert.Equal([300L, 1L], daemon.Query("SELECT (SELECT count(*) FROM logs), (SELECT count(*) FROM runs)").Single());
    }

    [Fact]
    public async Task Groups_OfOneRow_StillTrackEveryRunAndHideEveryMirror()
    {
        await using var daemon = await TestDaemon.StartAsync(new Dictionary<string, string?> { ["Storage:BatchRows"] = "1" });

        await new TraceService.TraceServiceClient(daemon.Grpc).ExportAsync(KoreloggerRun("run_one", 5), deadline: TestDaemon.Deadline());

        Assert.Equal([5L, 1L, "Success"], daemon.Query("SELECT (SELECT count(*) FROM logs), (SELECT count(*) FROM runs), (SELECT status FROM runs)").Single());
    }

    [Fact]
    public async Task ManySmallConcurrentExports_EveryLineHasItsRun()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var client = new TraceService.TraceServiceClient(daemon.Grpc);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(async c =>
        {
            for (var i = 0; i < 100; i++)
            {
                await client.ExportAsync(Traces("s", [.. Enumerable.Range(0, 1 + (i % 3)).Select(k => LogSpan($"r{c}_{i}", "INFO", $"m{k}", T0.AddMilliseconds(k)))]), deadline: TestDaemon.Deadline());
            }
        }));

        Assert.Equal([800L, 0L], daemon.Query("SELECT (SELECT count(*) FROM runs), (SELECT count(DISTINCT run_id) FROM log_lines WHERE run_id NOT IN (SELECT run_id FROM runs))").Single());
    }

    private static ExportTraceServiceRequest KoreloggerRun(string runId, int lines)
    {
        var trace = NewTraceId();
        var logs = Enumerable.Range(0, lines).Select(i => LogSpan(runId, "INFO", $"line {i}", T0.AddMilliseconds(i), trace));
        var stdout = string.Concat(Enumerable.Range(0, lines).Select(i => $"INFO :: line {i}\n"));
        return Traces("s", [.. logs, RunSpan(runId, T0, TimeSpan.FromSeconds(5), traceId: trace, stdout: stdout)]);
    }
}
