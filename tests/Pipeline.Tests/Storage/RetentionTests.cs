using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Storage;

/// <summary>Retention on real files: by age and by disk, runs with their logs and spans, and a restart after it.</summary>
public sealed class RetentionTests
{
    private static readonly DateTime Now = DateTime.UtcNow;

    [Fact]
    public async Task Export_OlderThanMaxAge_IsRefusedInPartialSuccess_TheRestStored()
    {
        await using var daemon = await TestDaemon.StartAsync(new Dictionary<string, string?> { ["Retention:MaxAge"] = "1.00:00:00" });

        var answer = await new TraceService.TraceServiceClient(daemon.Grpc).ExportAsync(
            Traces("s", LogSpan("run_old", "INFO", "too old", Now.AddDays(-2)), LogSpan("run_new", "INFO", "fresh", Now)), deadline: TestDaemon.Deadline());

        Assert.Equal(1, answer.PartialSuccess.RejectedSpans);
        Assert.Contains("is older than Retention:MaxAge allows", answer.PartialSuccess.ErrorMessage);
        Assert.Equal(["run_new"], daemon.Query("SELECT run_id FROM runs").Select(r => (string)r[0]!));
    }

    [Fact]
    public async Task ByAge_DeletesOldRunsWithTheirLogsAndSpans_AndTheTrimmedFileTakesMore()
    {
        var daemon = await TestDaemon.StartAsync();
        var client = new TraceService.TraceServiceClient(daemon.Grpc);
        await client.ExportAsync(Run("run_old", Now.AddDays(-3)), deadline: TestDaemon.Deadline());
        await client.ExportAsync(Run("run_new", Now.AddMinutes(-5)), deadline: TestDaemon.Deadline());
        Assert.Equal(2L, daemon.Scalar("SELECT count(*) FROM runs"));

        // Restarted with a one-day retention: the first check runs before the first commit.
        await using var trimmed = await daemon.RestartAsync(new Dictionary<string, string?> { ["Retention:MaxAge"] = "1.00:00:00" });
        await new TraceService.TraceServiceClient(trimmed.Grpc).ExportAsync(Run("run_after", Now), deadline: TestDaemon.Deadline());

        Assert.Equal(["run_after", "run_new"], trimmed.Query("SELECT run_id FROM runs ORDER BY run_id").Select(r => (string)r[0]!));
        Assert.Equal([("run_after", 3L), ("run_new", 3L)], trimmed.Query("SELECT run_id, count(*) FROM logs GROUP BY ALL ORDER BY ALL").Select(r => ((string)r[0]!, (long)r[1]!)));
        Assert.Equal(0L, trimmed.Scalar("SELECT count(*) FROM spans WHERE run_id = 'run_old'"));
        Assert.Equal(0L, trimmed.Scalar("SELECT count(*) FROM log_lines WHERE run_id = 'run_old'"));
    }

    [Fact]
    public async Task ByDisk_OldestRunsGoFirst_NewestAllKept_NoLogWithoutItsRun()
    {
        const long Cap = 12L * 1024 * 1024;
        var settings = new Dictionary<string, string?>
        {
            ["Retention:MaxDiskBytes"] = Cap.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Retention:Interval"] = "00:00:01",
            ["Storage:CheckpointThreshold"] = "1MB",
        };
        var daemon = await TestDaemon.StartAsync(settings);
        var client = new TraceService.TraceServiceClient(daemon.Grpc);

        // 120 exports of 20 runs with 11 KB of random output each, a minute apart: about 25 MB, twice the cap.
        for (var minute = 0; minute < 120; minute++)
        {
            var at = Now.AddMinutes(-120 + minute);
            await client.ExportAsync(Traces("s", [.. Enumerable.Range(0, 20).SelectMany(i => Run($"run_{minute:D3}_{i:D2}", at.AddSeconds(i)).ResourceSpans[0].ScopeSpans[0].Spans)]),
                deadline: TestDaemon.Deadline());
        }

        // Retention runs between commits and, when idle, on its own: give it the time to delete down to the target.
        var deadline = DateTime.UtcNow.Add(TestDaemon.Timeout);
        long stored;
        while ((stored = (long)daemon.Scalar("SELECT count(*) FROM runs")!) > 2400 * 0.5 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        var newest = daemon.Query("SELECT run_id FROM runs ORDER BY executed_on DESC LIMIT 20").Select(r => (string)r[0]!).ToList();
        Assert.True(stored is >= 20 and <= 1200, $"{stored} runs kept of 2400");
        Assert.Equal([.. Enumerable.Range(0, 20).Select(i => $"run_119_{19 - i:D2}")], newest);
        Assert.Equal(0L, daemon.Scalar("SELECT count(*) FROM log_lines l ANTI JOIN runs r USING (script, run_id)"));
        Assert.Equal(0L, daemon.Scalar("SELECT count(*) FROM runs r WHERE r.status <> 'In Progress' AND NOT EXISTS (SELECT 1 FROM logs l WHERE l.script = r.script AND l.run_id = r.run_id)"));

        // Deleting never went past the target while the space was not yet reclaimed (readers, as this test's own
        // queries, hold back the checkpoint's vacuum). The trimmed file opens again with the newest runs. That the file
        // stops growing at the cap is shown at scale by the soak (README): this store is one row group per table,
        // which DuckDB reclaims only when it rewrites it.
        await using var restarted = await daemon.RestartAsync(settings);
        Assert.Equal(newest, restarted.Query("SELECT run_id FROM runs ORDER BY executed_on DESC LIMIT 20").Select(r => (string)r[0]!));
    }

    private static ExportTraceServiceRequest Run(string runId, DateTime at)
    {
        var trace = NewTraceId();
        var output = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8192));
        var run = RunSpan(runId, at, TimeSpan.FromSeconds(1), traceId: trace, stdout: "INFO :: a\nprinted\n", extra: [Attr("output", output)]);
        var child = ChildSpan(run, runId);
        return Traces("s", LogSpan(runId, "INFO", "a", at, trace), LogSpan(runId, "DEBUG", "b", at.AddMilliseconds(1), trace), run, child);
    }
}
