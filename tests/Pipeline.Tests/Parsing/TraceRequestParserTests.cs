using System.Text.Json;
using OpenTelemetry.Proto.Resource.V1;
using OpenTelemetry.Proto.Trace.V1;
using Pipeline.Parsing;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Parsing;

public sealed class TraceRequestParserTests
{
    private readonly TraceRequestParser _parser = Parsers.Traces();

    [Theory]
    [InlineData("DEBUG", "Debug")]
    [InlineData("debug", "Debug")]
    [InlineData("INFO", "Info")]
    [InlineData("Information", "Info")]
    [InlineData("WARN", "Warning")]
    [InlineData("WARNING", "Warning")]
    [InlineData("ERROR", "Error")]
    [InlineData("CRITICAL", "Error")]
    [InlineData("FATAL", "Error")]
    [InlineData("NOTICE", "NOTICE")]
    public void Parse_LogSpanLevel_IsNormalized(string sent, string stored)
    {
        var result = _parser.Parse(Traces("svc", LogSpan("run_1", sent, "hello", T0)));

        var log = Assert.IsType<LogRow>(Assert.Single(result.Rows));
        Assert.Equal(stored, log.Level);
    }

    [Fact]
    public void Parse_SeedLogSpan_MapsEveryField()
    {
        var span = LogSpan("run_12345", "INFO", "Using korelogger to log", T0, logId: "4f5e-logid");
        var result = _parser.Parse(Traces("gvisor-py-normal", span));

        Assert.Equal(0, result.Rejected);
        var log = Assert.IsType<LogRow>(Assert.Single(result.Rows));
        Assert.Equal("4f5e-logid", log.LogId);
        Assert.Equal("run_12345", log.Run.RunId);
        Assert.Equal("gvisor-py-normal", log.Run.Script);
        Assert.Equal("deploy_67890", log.Run.DeploymentId);
        Assert.Equal("api_call", log.Run.Source);
        Assert.Equal("test", log.Run.SourceType);
        Assert.Equal("Info", log.Level);
        Assert.Equal("Using korelogger to log", log.Message);
        Assert.Equal(T0, log.Timestamp);
        Assert.Equal("41", log.Pid);
        Assert.Equal(LogOrigin.Korelogger, log.Origin);
        Assert.Equal(OtlpValues.Hex(span.TraceId), log.TraceId);
        Assert.Equal(OtlpValues.Hex(span.SpanId), log.SpanId);
        using var attributes = JsonDocument.Parse(log.AttributesJson!);
        Assert.Equal("Using korelogger to log", attributes.RootElement.GetProperty("log.meta.msg").GetString());
        Assert.True(attributes.RootElement.TryGetProperty("traceparent", out _));
        Assert.False(attributes.RootElement.TryGetProperty("run_id", out _));
        Assert.False(attributes.RootElement.TryGetProperty("log.message", out _));
    }

    [Fact]
    public void Parse_LogSpanWithoutLogId_DerivesIdFromTraceAndSpan()
    {
        var span = LogSpan("run_1", "INFO", "m", T0);
        var log = Assert.IsType<LogRow>(Assert.Single(_parser.Parse(Traces("svc", span)).Rows));

        Assert.Equal($"{OtlpValues.Hex(span.TraceId)}-{OtlpValues.Hex(span.SpanId)}", log.LogId);
    }

    [Fact]
    public void Parse_ScriptName_SpanAttributeBeatsResourceBeatsServiceName()
    {
        var onSpan = LogSpan("r", "INFO", "m", T0, extra: Attr("script.name", "from-span"));
        var plain = LogSpan("r", "INFO", "m", T0);
        var request = Traces("from-service", onSpan, plain);
        var withResourceScript = Traces("from-service", LogSpan("r", "INFO", "m", T0));
        withResourceScript.ResourceSpans[0].Resource.Attributes.Add(Attr("script.name", "from-resource"));

        var rows = _parser.Parse(request).Rows.Cast<LogRow>().ToList();
        var fromResource = Assert.IsType<LogRow>(Assert.Single(_parser.Parse(withResourceScript).Rows));

        Assert.Equal("from-span", rows[0].Run.Script);
        Assert.Equal("from-service", rows[1].Run.Script);
        Assert.Equal("from-resource", fromResource.Run.Script);
    }

    [Fact]
    public void Parse_NoScriptName_IsRejectedWithReason()
    {
        var request = Traces("svc", LogSpan("r", "INFO", "m", T0));
        request.ResourceSpans[0].Resource = new Resource();

        var result = _parser.Parse(request);

        Assert.Empty(result.Rows);
        Assert.Equal(1, result.Rejected);
        Assert.Contains("no script name", result.ErrorMessage("spans"));
    }

    [Fact]
    public void Parse_RunSpan_MapsRunFields()
    {
        var span = RunSpan("run_1", T0, TimeSpan.FromMilliseconds(1500), extra: Attr("deployment.version", 7));
        var result = _parser.Parse(Traces("Qbalance", span));

        var run = Assert.IsType<RunRow>(Assert.Single(result.Rows));
        Assert.Equal("run_1", run.Run.RunId);
        Assert.Equal("Qbalance", run.Run.Script);
        Assert.Equal(RunStatus.Success, run.Status);
        Assert.Equal("call_openai_chat", run.Function);
        Assert.Equal("deploy_67890", run.Run.DeploymentId);
        Assert.Equal(7, run.Run.DeploymentVersion);
        Assert.Equal("API", run.Run.SourceType);
        Assert.Equal("Qbalance flow", run.Run.Source);
        Assert.Equal("""{"prompt":"hello"}""", run.Input);
        Assert.Equal("""{"answer":42}""", run.Output);
        Assert.Equal(T0, run.ExecutedOn);
        Assert.Equal(1500, run.DurationMs, 3);
        Assert.Null(run.Error);
    }

    [Fact]
    public void Parse_FailedRunSpan_KeepsStatusMessageAsError()
    {
        var run = Assert.IsType<RunRow>(Assert.Single(_parser.Parse(Traces("s", RunSpan("r", T0, TimeSpan.FromSeconds(1), failed: true))).Rows));

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal("ZeroDivisionError: division by zero", run.Error);
    }

    [Theory]
    [InlineData("code.function", "handler")]
    [InlineData("code.function.name", "handler")]
    public void Parse_RunSpanWithoutFunction_UsesCodeFunction(string key, string value)
    {
        var span = RunSpan("r", T0, TimeSpan.FromSeconds(1));
        span.Attributes.Remove(span.Attributes.Single(a => a.Key == "function"));
        span.Attributes.Add(Attr(key, value));

        var run = Assert.IsType<RunRow>(Assert.Single(_parser.Parse(Traces("s", span)).Rows));

        Assert.Equal(value, run.Function);
    }

    [Theory]
    [InlineData("api", "API")]
    [InlineData("Api", "API")]
    [InlineData("tool", "Tool")]
    [InlineData("TOOL", "Tool")]
    [InlineData("Workflow", "Workflow")]
    public void Parse_SourceType_ObviousSpellingsNormalized(string sent, string stored)
    {
        var span = RunSpan("r", T0, TimeSpan.FromSeconds(1));
        span.Attributes.Single(a => a.Key == "source_type").Value.StringValue = sent;

        var run = Assert.IsType<RunRow>(Assert.Single(_parser.Parse(Traces("s", span)).Rows));

        Assert.Equal(stored, run.Run.SourceType);
    }

    [Fact]
    public void Parse_SeedPrintRun_GivesTwoStdoutLogs()
    {
        var span = RunSpan("r", T0, TimeSpan.FromSeconds(1), stdout: "Checking print function...\nPrint function is working!\n");

        var logs = _parser.Parse(Traces("s", span)).Rows.OfType<LogRow>().ToList();

        Assert.Equal(2, logs.Count);
        Assert.All(logs, l => Assert.Equal("Stdout", l.Level));
        Assert.Equal(["Checking print function...", "Print function is working!"], logs.Select(l => l.Message));
        Assert.Equal([0, 1], logs.Select(l => l.Seq));
        Assert.All(logs, l => Assert.Equal(T0.AddSeconds(1), l.Timestamp));
    }

    [Fact]
    public void Parse_RunSpanStdoutAndStderr_LevelsFromPatternOrStream()
    {
        var span = RunSpan("r", T0, TimeSpan.FromSeconds(1), stdout: "INFO :: ready\r\nplain line", stderr: "Traceback (most recent call last):\nERROR :: not parsed on stderr");

        var logs = _parser.Parse(Traces("s", span)).Rows.OfType<LogRow>().ToList();

        Assert.Equal(
            [("Info", "ready", LogOrigin.Stdout), ("Stdout", "plain line", LogOrigin.Stdout),
             ("Stderr", "Traceback (most recent call last):", LogOrigin.Stderr), ("Stderr", "ERROR :: not parsed on stderr", LogOrigin.Stderr)],
            logs.Select(l => (l.Level, l.Message, l.Origin)));
        Assert.Equal(4, logs.Select(l => l.LogId).Distinct().Count());
    }

    [Fact]
    public void Parse_ChildSpanWithRunId_IsKeptAsTraceSpan()
    {
        var run = RunSpan("r", T0, TimeSpan.FromSeconds(1));
        var child = new Span
        {
            TraceId = run.TraceId, SpanId = NewSpanId(), ParentSpanId = run.SpanId, Name = "http GET",
            StartTimeUnixNano = Nanos(T0.AddMilliseconds(10)), EndTimeUnixNano = Nanos(T0.AddMilliseconds(60)),
            Attributes = { Attr("run_id", "r"), Attr("http.method", "GET") },
        };

        var rows = _parser.Parse(Traces("s", run, child)).Rows;

        var span = Assert.Single(rows.OfType<SpanRow>());
        Assert.Equal(OtlpValues.Hex(run.SpanId), span.ParentSpanId);
        Assert.Equal(50, span.DurationMs, 3);
        Assert.Contains("http.method", span.AttributesJson);
    }

    [Fact]
    public void Parse_SpanWithoutRunId_InheritsFromItsTraceInTheSameExport()
    {
        var run = RunSpan("r", T0, TimeSpan.FromSeconds(1));
        var child = new Span
        {
            TraceId = run.TraceId, SpanId = NewSpanId(), ParentSpanId = run.SpanId, Name = "db query",
            StartTimeUnixNano = Nanos(T0), EndTimeUnixNano = Nanos(T0.AddMilliseconds(5)),
        };

        // The child comes first: inheritance must not depend on order.
        var result = _parser.Parse(Traces("s", child, run));

        Assert.Equal(0, result.Rejected);
        Assert.Equal("r", Assert.Single(result.Rows.OfType<SpanRow>()).Run.RunId);
    }

    [Fact]
    public void Parse_BadSpans_AreRejectedOneByOneAndTheRestKept()
    {
        var noRunId = new Span { TraceId = NewTraceId(), SpanId = NewSpanId(), Name = "orphan", StartTimeUnixNano = Nanos(T0), EndTimeUnixNano = Nanos(T0) };
        var badTrace = LogSpan("r", "INFO", "m", T0);
        badTrace.TraceId = Google.Protobuf.ByteString.CopyFrom(1, 2, 3);
        var noStart = LogSpan("r", "INFO", "m", T0);
        noStart.StartTimeUnixNano = 0;
        var backwards = RunSpan("r2", T0, TimeSpan.FromSeconds(1));
        backwards.EndTimeUnixNano = backwards.StartTimeUnixNano - 1;
        var good = LogSpan("r", "INFO", "kept", T0);

        var result = _parser.Parse(Traces("s", noRunId, badTrace, good, noStart, backwards));

        Assert.Equal(4, result.Rejected);
        Assert.Equal("kept", Assert.IsType<LogRow>(Assert.Single(result.Rows)).Message);
        var message = result.ErrorMessage("spans")!;
        Assert.StartsWith("4 spans rejected: ", message);
        Assert.Contains("trace_id must be 16 bytes (got 3)", message);
        Assert.Contains("start_time_unix_nano is 0", message);
        Assert.Contains("; ...", message);
    }

    [Fact]
    public void Parse_OrphanSpan_ReasonSaysRunIdIsMissing()
    {
        var orphan = new Span { TraceId = NewTraceId(), SpanId = NewSpanId(), Name = "orphan", StartTimeUnixNano = Nanos(T0), EndTimeUnixNano = Nanos(T0) };

        var result = _parser.Parse(Traces("s", orphan));

        Assert.Contains("span 'orphan'", result.ErrorMessage("spans"));
        Assert.Contains("no run_id attribute", result.ErrorMessage("spans"));
    }

    [Fact]
    public void Parse_DeploymentVersion_OnlyIntegersCount()
    {
        var numeric = RunSpan("a", T0, TimeSpan.FromSeconds(1), extra: Attr("deployment.version", "12"));
        var text = RunSpan("b", T0, TimeSpan.FromSeconds(1), extra: Attr("deployment.version", "v1.2"));

        var runs = _parser.Parse(Traces("s", numeric, text)).Rows.Cast<RunRow>().ToList();

        Assert.Equal(12, runs[0].Run.DeploymentVersion);
        Assert.Null(runs[1].Run.DeploymentVersion);
    }
}
