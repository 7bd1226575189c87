using Grpc.Core;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Storage;

/// <summary>
/// A log is identified within its script and run, a run within its script: what one sandbox sends can never drop or
/// move what another sent. Each case a hostile client tried, through a real daemon.
/// </summary>
public sealed class IdentityTests
{
    [Fact]
    public async Task LogId_ReusedByAnotherRun_BothLogsKept_AndBothRunsHaveTheirLog()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var client = new TraceService.TraceServiceClient(daemon.Grpc);

        await client.ExportAsync(Traces("s", LogSpan("run_a", "INFO", "from a", T0, logId: "L1")), deadline: TestDaemon.Deadline());
        var answer = await client.ExportAsync(Traces("s", LogSpan("run_b", "INFO", "from b", T0.AddSeconds(1), logId: "L1")), deadline: TestDaemon.Deadline());

        Assert.Null(answer.PartialSuccess);
        Assert.Equal([("run_a", "from a"), ("run_b", "from b")],
            daemon.Query("SELECT run_id, message FROM logs WHERE log_id = 'L1' ORDER BY run_id").Select(r => ((string)r[0]!, (string)r[1]!)));
    }

    [Fact]
    public async Task LogId_ReusedByAnotherScript_BothKept()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var client = new TraceService.TraceServiceClient(daemon.Grpc);

        await client.ExportAsync(Traces("script_one", LogSpan("run_a", "INFO", "one", T0, logId: "L1")), deadline: TestDaemon.Deadline());
        await client.ExportAsync(Traces("script_two", LogSpan("run_a", "INFO", "two", T0, logId: "L1")), deadline: TestDaemon.Deadline());

        Assert.Equal([("script_one", "one"), ("script_two", "two")],
            daemon.Query("SELECT script, message FROM logs ORDER BY script").Select(r => ((string)r[0]!, (string)r[1]!)));
    }

    [Fact]
    public async Task LogId_TwiceInOneExport_SameRecordOnce_DifferentRecordRefusedWithTheReason()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var client = new TraceService.TraceServiceClient(daemon.Grpc);
        var same = LogSpan("run_d", "INFO", "once", T0, logId: "L2");

        var repeated = await client.ExportAsync(Traces("s", same, same.Clone()), deadline: TestDaemon.Deadline());
        var clash = await client.ExportAsync(
            Traces("s", LogSpan("run_d", "INFO", "first", T0.AddSeconds(1), logId: "L3"), LogSpan("run_d", "INFO", "second", T0.AddSeconds(2), logId: "L3")),
            deadline: TestDaemon.Deadline());

        Assert.Null(repeated.PartialSuccess);
        Assert.Equal(1, clash.PartialSuccess.RejectedSpans);
        Assert.Contains("log id 'L3' of run 'run_d' repeats in this export with a different record", clash.PartialSuccess.ErrorMessage);
        Assert.Equal([("L2", "once"), ("L3", "first")], daemon.Query("SELECT log_id, message FROM logs ORDER BY log_id").Select(r => ((string)r[0]!, (string)r[1]!)));
    }

    [Fact]
    public async Task DerivedStdoutIds_TakenFirstByAnotherRun_DoNotHideThePrintedLines()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var client = new TraceService.TraceServiceClient(daemon.Grpc);
        var run = RunSpan("run_victim", T0, TimeSpan.FromSeconds(1), stdout: "printed by the victim\n");
        var derived = $"{Convert.ToHexStringLower(run.TraceId.Span)}-{Convert.ToHexStringLower(run.SpanId.Span)}-stdout-0";

        await client.ExportAsync(Traces("s", LogSpan("run_evil", "INFO", "squatting", T0, logId: derived)), deadline: TestDaemon.Deadline());
        await client.ExportAsync(Traces("s", run), deadline: TestDaemon.Deadline());

        Assert.Equal("printed by the victim", daemon.Scalar($"SELECT message FROM logs WHERE run_id = 'run_victim' AND log_id = '{derived}'"));
        Assert.Equal("Success", daemon.Scalar("SELECT status FROM runs WHERE run_id = 'run_victim'"));
    }

    [Fact]
    public async Task RunId_SentByTwoScripts_IsTwoRuns_EachWithItsOwnLogs()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var client = new TraceService.TraceServiceClient(daemon.Grpc);

        await client.ExportAsync(Traces("script_one", LogSpan("run_shared", "INFO", "one", T0)), deadline: TestDaemon.Deadline());
        await client.ExportAsync(Traces("script_two", LogSpan("run_shared", "INFO", "two", T0), RunSpan("run_shared", T0, TimeSpan.FromSeconds(1))), deadline: TestDaemon.Deadline());

        Assert.Equal([("script_one", "In Progress", 1L), ("script_two", "Success", 1L)], daemon.Query("""
            SELECT r.script, r.status, (SELECT count(*) FROM logs l WHERE l.script = r.script AND l.run_id = r.run_id)
            FROM runs r ORDER BY r.script
            """).Select(r => ((string)r[0]!, (string)r[1]!, (long)r[2]!)));
        using var record = await daemon.Api.GetAsync("/api/runs/run_shared?script=script_two&from=2025-01-01T00:00:00Z");
        Assert.Contains("\"two\"", await record.Content.ReadAsStringAsync());
        Assert.DoesNotContain("\"one\"", await record.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Ids_OverTheCap_AreRefusedNamingTheField()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var client = new TraceService.TraceServiceClient(daemon.Grpc);

        var answer = await client.ExportAsync(Traces("s",
            LogSpan(new string('r', 257), "INFO", "long run id", T0),
            LogSpan("run_ok", "INFO", "long log id", T0, logId: new string('l', 300)),
            LogSpan("run_ok", "INFO", "fine", T0)), deadline: TestDaemon.Deadline());

        Assert.Equal(2, answer.PartialSuccess.RejectedSpans);
        Assert.Contains("run_id is 257 characters long; the limit is 256", answer.PartialSuccess.ErrorMessage);
        Assert.Contains("log id is 300 characters long; the limit is 256", answer.PartialSuccess.ErrorMessage);
        Assert.Equal("fine", daemon.Scalar("SELECT message FROM logs"));
    }
}
