using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Parsing;
using Pipeline.Storage;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Storage;

/// <summary>The storage rules, on a real DuckDB file, through the real parsers and the one writer.</summary>
public sealed class DuckDbWriterTests : IDisposable
{
    private readonly string _path = Path.Combine(new TempFolder().Path, "store.duckdb");
    private readonly DuckDbWriter _writer;

    public DuckDbWriterTests() => _writer = new DuckDbWriter(new StorageOptions { Path = _path, MemoryLimit = "256MB" });

    public void Dispose() => _writer.Dispose();

    [Fact]
    public void Write_SeedKoreloggerRun_StoresExactlyFourLeveledLogs()
    {
        var (logs, run) = SeedKoreloggerRun("run_k");

        Write(Traces("gvisor-py-normal", logs));
        Write(Traces("gvisor-py-normal", run));

        Assert.Equal(
            [("Debug", "Debug log using korelogger", "korelogger"), ("Info", "Info log using korelogger", "korelogger"),
             ("Warning", "Warning log using korelogger", "korelogger"), ("Error", "Error log using korelogger", "korelogger")],
            Query("SELECT level, message, origin FROM logs WHERE run_id = 'run_k' ORDER BY timestamp, seq")
                .Select(r => ((string)r[0]!, (string)r[1]!, (string)r[2]!)));
        Assert.Equal(8L, Scalar("SELECT count(*) FROM log_lines WHERE run_id = 'run_k'"));
    }

    [Fact]
    public void Write_StdoutBeforeKoreloggerSpans_StillNoDoubles()
    {
        var (logs, run) = SeedKoreloggerRun("run_late");

        Write(Traces("s", run));
        Assert.Equal(4L, Scalar("SELECT count(*) FROM logs WHERE run_id = 'run_late' AND origin = 'stdout'"));
        Write(Traces("s", logs[0], logs[1]));
        Write(Traces("s", logs[2], logs[3]));

        Assert.Equal(4L, Scalar("SELECT count(*) FROM logs WHERE run_id = 'run_late'"));
        Assert.Equal(0L, Scalar("SELECT count(*) FROM logs WHERE run_id = 'run_late' AND origin = 'stdout'"));
    }

    [Fact]
    public void Write_MirrorsMatchAsAMultiset()
    {
        var trace = NewTraceId();
        // Two identical korelogger lines and three identical stdout lines: two logs plus one extra print.
        var k1 = LogSpan("run_m", "INFO", "tick", T0.AddMilliseconds(1), trace);
        var k2 = LogSpan("run_m", "INFO", "tick", T0.AddMilliseconds(2), trace);
        var run = RunSpan("run_m", T0, TimeSpan.FromSeconds(1), traceId: trace, stdout: "INFO :: tick\nINFO :: tick\nINFO :: tick\nINFO :: tock\n");

        Write(Traces("s", k1, run));
        Write(Traces("s", k2));

        Assert.Equal(
            [("Info", "tick", "korelogger", 2L), ("Info", "tick", "stdout", 1L), ("Info", "tock", "stdout", 1L)],
            Query("SELECT level, message, origin, count(*) FROM logs WHERE run_id = 'run_m' GROUP BY ALL ORDER BY ALL")
                .Select(r => ((string)r[0]!, (string)r[1]!, (string)r[2]!, (long)r[3]!)));
    }

    [Fact]
    public void Write_StdoutWithoutKoreloggerTwin_IsKeptWithItsLevel()
    {
        Write(Traces("s", RunSpan("run_s", T0, TimeSpan.FromSeconds(1), stdout: "ERROR :: only printed\n")));

        Assert.Equal(("Error", "only printed"), Query("SELECT level, message FROM logs WHERE run_id = 'run_s'").Select(r => ((string)r[0]!, (string)r[1]!)).Single());
    }

    [Fact]
    public void Write_LogBeforeRunSpan_RunIsInProgressThenCompleted()
    {
        Write(Traces("s", LogSpan("run_p", "INFO", "started", T0.AddMilliseconds(5))));

        Assert.Equal(["In Progress", T0.AddMilliseconds(5), null], RunRow("run_p", "status, executed_on, response_time_ms"));

        Write(Traces("s", RunSpan("run_p", T0, TimeSpan.FromMilliseconds(800))));

        Assert.Equal(["Success", T0, 800.0, "call_openai_chat", "API"], RunRow("run_p", "status, executed_on, response_time_ms, function, source_type"));
    }

    [Fact]
    public void Write_LateLog_NeverRevertsCompletedRun()
    {
        Write(Traces("s", RunSpan("run_l", T0, TimeSpan.FromMilliseconds(800))));
        Write(Traces("s", LogSpan("run_l", "INFO", "late", T0.AddSeconds(-10))));

        Assert.Equal(["Success", T0, 800.0], RunRow("run_l", "status, executed_on, response_time_ms"));
        Assert.Equal(1L, Scalar("SELECT count(*) FROM logs WHERE run_id = 'run_l'"));
    }

    [Fact]
    public void Write_FailedRun_HasNoResponseTimeButKeepsErrorAndDuration()
    {
        Write(Traces("s", RunSpan("run_f", T0, TimeSpan.FromMilliseconds(300), failed: true)));

        Assert.Equal(["Failed", null, 300.0, "ZeroDivisionError: division by zero"], RunRow("run_f", "status, response_time_ms, duration_ms, error"));
    }

    [Fact]
    public void Write_DeploymentVersions_IntegerTakenElseNumberedPerScriptInOrderSeen()
    {
        Write(Traces("alpha", RunSpan("a1", T0, TimeSpan.FromSeconds(1), deploymentId: "dep-x")));
        Write(Traces("alpha", RunSpan("a2", T0.AddHours(1), TimeSpan.FromSeconds(1), deploymentId: "dep-y"), RunSpan("a3", T0.AddHours(2), TimeSpan.FromSeconds(1), deploymentId: "dep-x")));
        Write(Traces("beta", LogSpan("b1", "INFO", "m", T0, deploymentId: "dep-z")));
        Write(Traces("beta", RunSpan("b2", T0, TimeSpan.FromSeconds(1), deploymentId: "dep-w", extra: Attr("deployment.version", 41))));

        Assert.Equal(
            [("a1", 1), ("a2", 2), ("a3", 1), ("b1", 1), ("b2", 41)],
            Query("SELECT run_id, deployment_version FROM runs ORDER BY run_id").Select(r => ((string)r[0]!, (int)r[1]!)));
    }

    [Fact]
    public void Write_SpansTable_KeepsTheRunsOtherSpans()
    {
        var run = RunSpan("run_t", T0, TimeSpan.FromSeconds(1));
        var child = new OpenTelemetry.Proto.Trace.V1.Span
        {
            TraceId = run.TraceId, SpanId = NewSpanId(), ParentSpanId = run.SpanId, Name = "fetch",
            StartTimeUnixNano = Nanos(T0.AddMilliseconds(1)), EndTimeUnixNano = Nanos(T0.AddMilliseconds(21)),
            Attributes = { Attr("run_id", "run_t"), Attr("url", "https://example.test") },
        };

        Write(Traces("s", run, child));

        Assert.Equal(["fetch", 20.0, "https://example.test"], Query("SELECT name, duration_ms, attributes->>'url' FROM spans WHERE run_id = 'run_t'").Single());
    }

    [Fact]
    public void Schema_ReopenedFile_KeepsVersionAndRows()
    {
        Write(Traces("s", RunSpan("run_r", T0, TimeSpan.FromSeconds(1))));
        _writer.Dispose();

        using var reopened = new DuckDbWriter(new StorageOptions { Path = _path, MemoryLimit = "256MB" });

        Assert.Equal(1L, Scalar("SELECT count(*) FROM runs"));
        Assert.Equal(Enumerable.Range(1, DuckDbSchema.Version), Query("SELECT version FROM schema_info ORDER BY version").Select(r => (int)r[0]!));
    }

    [Fact]
    public void Schema_VersionOneFile_IsUpgraded_RowsKept_KeysGone()
    {
        _writer.Dispose();
        var path = Path.Combine(new TempFolder().Path, "v1.duckdb");
        Database.Query(path, $"""
            CREATE TABLE schema_info (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL);
            {SqlText.Get("schema_v1")}
            INSERT INTO schema_info VALUES (1, now()::TIMESTAMP);
            INSERT INTO runs (run_id, script, status, executed_on, updated_at) VALUES ('run_v1', 's', 'Success', TIMESTAMP '2025-05-14 06:07:27', now()::TIMESTAMP);
            INSERT INTO log_lines VALUES ('L1', 'run_v1', 's', 'Info', 'kept', TIMESTAMP '2025-05-14 06:07:27', 0, 'korelogger', false, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
            """);

        using (var upgraded = new DuckDbWriter(new StorageOptions { Path = path, MemoryLimit = "256MB" }))
        {
            upgraded.Write(Parsers.Traces().Parse(Traces("s", LogSpan("run_v1", "INFO", "another L1", T0.AddSeconds(1), logId: "L1"))).RowsToStore());
        }

        Assert.Equal(Enumerable.Range(1, DuckDbSchema.Version), Database.Query(path, "SELECT version FROM schema_info ORDER BY version").Select(r => (int)r[0]!));
        Assert.Equal(["kept", "another L1"], Database.Query(path, "SELECT message FROM logs ORDER BY timestamp").Select(r => (string)r[0]!));
        Assert.Equal(0L, Database.Query(path, "SELECT count(*) FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY' AND table_name IN ('runs', 'log_lines', 'spans')").Single()[0]);
    }

    [Fact]
    public void Schema_NewerFile_IsRefused()
    {
        Query($"INSERT INTO schema_info VALUES ({DuckDbSchema.Version + 1}, now()::TIMESTAMP)");
        _writer.Dispose();

        var error = Assert.Throws<InvalidOperationException>(() => new DuckDbWriter(new StorageOptions { Path = _path }));

        Assert.Contains("newer Pipeline", error.Message);
    }

    [Fact]
    public void Write_RunSeenBeforeARestart_GetsMoreLogsWithoutDoublesOrLoss()
    {
        var trace = NewTraceId();
        Write(Traces("s", LogSpan("run_x", "INFO", "before restart", T0, trace)));
        _writer.Dispose();

        using var reopened = new DuckDbWriter(new StorageOptions { Path = _path, MemoryLimit = "256MB" });
        reopened.Write(Parsers.Traces().Parse(Traces("s", LogSpan("run_x", "INFO", "after restart", T0.AddMinutes(5), trace))).RowsToStore());
        reopened.Write(Parsers.Traces().Parse(Traces("s", RunSpan("run_x", T0, TimeSpan.FromMinutes(6), traceId: trace,
            stdout: "INFO :: before restart\nINFO :: after restart\n"))).RowsToStore());

        Assert.Equal(1L, Scalar("SELECT count(*) FROM runs"));
        Assert.Equal(["before restart", "after restart"], Query("SELECT message FROM logs ORDER BY timestamp").Select(r => (string)r[0]!));
        Assert.Equal(2L, Scalar("SELECT count(*) FROM log_lines WHERE mirrored"));
    }

    [Fact]
    public void Write_MirrorsFarApartInTime_AreStillMatched()
    {
        var trace = NewTraceId();
        Write(Traces("s", LogSpan("run_w", "INFO", "early", T0, trace)));
        Write(Traces("s", LogSpan("run_w", "INFO", "late", T0.AddHours(2), trace)));
        Write(Traces("s", RunSpan("run_w", T0, TimeSpan.FromHours(2), traceId: trace, stdout: "INFO :: early\nINFO :: late\n")));
        // A second korelogger "late" after the stdout: both stdout lines are already matched, nothing else changes.
        Write(Traces("s", LogSpan("run_w", "INFO", "late", T0.AddHours(2).AddSeconds(1), trace)));

        Assert.Equal([("early", "korelogger"), ("late", "korelogger"), ("late", "korelogger")],
            Query("SELECT message, origin FROM logs WHERE run_id = 'run_w' ORDER BY timestamp").Select(r => ((string)r[0]!, (string)r[1]!)));
    }

    [Fact]
    public void Write_StdoutInPiecesAcrossGroups_MatchesWithinTheKnownWindow()
    {
        var trace = NewTraceId();
        Write(Traces("s", LogSpan("run_c", "INFO", "a", T0, trace), LogSpan("run_c", "INFO", "a", T0.AddMilliseconds(1), trace)));
        Write(Logs("s", StdoutRecord("run_c", "INFO :: a", T0.AddMilliseconds(2))));
        Write(Logs("s", StdoutRecord("run_c", "INFO :: a", T0.AddMilliseconds(3))));
        Write(Logs("s", StdoutRecord("run_c", "INFO :: a", T0.AddMilliseconds(4))));

        Assert.Equal([("korelogger", 2L), ("stdout", 1L)],
            Query("SELECT origin, count(*) FROM logs WHERE run_id = 'run_c' GROUP BY ALL ORDER BY ALL").Select(r => ((string)r[0]!, (long)r[1]!)));
    }

    [Fact]
    public void Write_OnlyTheFirstRowsOfAnExport_StillHaveTheirRun()
    {
        var rows = Parsers.Traces().Parse(Traces("s", LogSpan("run_s2", "INFO", "a", T0), LogSpan("run_s2", "INFO", "b", T0.AddSeconds(1)))).RowsToStore();

        _writer.Write(rows.Take(2).ToList());

        Assert.Equal(1L, Scalar("SELECT count(*) FROM runs WHERE run_id = 'run_s2'"));
        Assert.Equal(0L, Scalar("SELECT count(*) FROM log_lines WHERE run_id NOT IN (SELECT run_id FROM runs)"));
    }

    [Fact]
    public void Write_TwoIdenticalPrintsInTheSameMillisecond_AreTwoLogs()
    {
        Write(Logs("s", StdoutRecord("run_p", "hello", T0), StdoutRecord("run_p", "hello", T0)));

        Assert.Equal(2L, Scalar("SELECT count(*) FROM logs WHERE run_id = 'run_p'"));
    }

    [Fact]
    public void Write_EarlierLogOfAnInProgressRun_MovesItsStart()
    {
        Write(Traces("s", LogSpan("run_e", "INFO", "second", T0.AddSeconds(8))));
        Write(Traces("s", LogSpan("run_e", "INFO", "first", T0.AddSeconds(4))));

        Assert.Equal(T0.AddSeconds(4), Scalar("SELECT executed_on FROM runs WHERE run_id = 'run_e'"));
    }

    [Fact]
    public void Write_LaterLogsFillInWhatTheFirstDidNotSay()
    {
        var first = LogSpan("run_d", "INFO", "a", T0.AddSeconds(3));
        first.Attributes.Remove(first.Attributes.Single(a => a.Key == "deployment_id"));
        first.Attributes.Remove(first.Attributes.Single(a => a.Key == "source"));
        Write(Traces("s", first));
        Write(Traces("s", LogSpan("run_d", "INFO", "b", T0.AddSeconds(4), deploymentId: "dep_q")));

        Assert.Equal(["dep_q", 1, "api_call"], RunRow("run_d", "deployment_id, deployment_version, source"));
    }

    [Fact]
    public void Write_RunSpanFirstThenKoreloggerThenStdoutRecords_NoDoubles()
    {
        var trace = NewTraceId();
        Write(Traces("s", RunSpan("run_n", T0, TimeSpan.FromSeconds(1), traceId: trace)));
        Write(Traces("s", LogSpan("run_n", "INFO", "x", T0.AddMilliseconds(3), trace)));
        Write(Logs("s", StdoutRecord("run_n", "INFO :: x", T0.AddMilliseconds(4))));

        Assert.Equal(1L, Scalar("SELECT count(*) FROM logs WHERE run_id = 'run_n'"));
    }

    [Fact]
    public void Write_StrayRootSpanUnderAResourceRunId_DoesNotOverwriteTheRun()
    {
        var stray = new OpenTelemetry.Proto.Trace.V1.Span
        {
            TraceId = NewTraceId(), SpanId = NewSpanId(), Name = "GET /x",
            StartTimeUnixNano = Nanos(T0.AddSeconds(2)), EndTimeUnixNano = Nanos(T0.AddSeconds(3)),
        };
        var withResourceRunId = Traces("s", stray);
        withResourceRunId.ResourceSpans[0].Resource.Attributes.Add(Attr("run_id", "run_r"));

        Write(Traces("s", RunSpan("run_r", T0, TimeSpan.FromSeconds(1))));
        Write(withResourceRunId);

        Assert.Equal(["call_openai_chat", 1000.0], RunRow("run_r", "function, response_time_ms"));
        Assert.Equal("GET /x", Scalar("SELECT name FROM spans WHERE run_id = 'run_r'"));
    }

    [Fact]
    public void Write_LateLogAfterARestart_DoesNotRevertTheRun()
    {
        Write(Traces("s", RunSpan("run_l2", T0, TimeSpan.FromMilliseconds(800))));
        _writer.Dispose();

        using var reopened = new DuckDbWriter(new StorageOptions { Path = _path, MemoryLimit = "256MB" });
        reopened.Write(Parsers.Traces().Parse(Traces("s", LogSpan("run_l2", "INFO", "late", T0.AddSeconds(-10)))).RowsToStore());

        Assert.Equal(["Success", T0], RunRow("run_l2", "status, executed_on"));
    }

    [Fact]
    public void Write_UpdatedAt_IsUtc()
    {
        Write(Traces("s", LogSpan("run_u", "INFO", "m", T0)));
        Write(Traces("s", RunSpan("run_u", T0, TimeSpan.FromSeconds(1))));

        var updatedAt = (DateTime)Scalar("SELECT updated_at FROM runs WHERE run_id = 'run_u'")!;
        Assert.InRange(updatedAt, DateTime.UtcNow.AddMinutes(-5), DateTime.UtcNow.AddMinutes(1));
    }

    private void Write(ExportTraceServiceRequest request) => _writer.Write(Parsers.Traces().Parse(request).RowsToStore());

    private void Write(ExportLogsServiceRequest request) => _writer.Write(Parsers.Logs().Parse(request, T0).RowsToStore());

    private List<object?[]> Query(string sql) => Database.Query(_path, sql);

    private object? Scalar(string sql) => Query(sql).Single()[0];

    private object?[] RunRow(string runId, string columns) => Query($"SELECT {columns} FROM runs WHERE run_id = '{runId}'").Single();
}
