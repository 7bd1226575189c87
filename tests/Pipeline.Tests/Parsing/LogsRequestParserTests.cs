using OpenTelemetry.Proto.Common.V1;
using Pipeline.Parsing;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Parsing;

public sealed class LogsRequestParserTests
{
    private static readonly DateTime Received = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private readonly LogsRequestParser _parser = Parsers.Logs();

    [Fact]
    public void Parse_Body_SplitsIntoOneLogPerLine()
    {
        var request = Logs("svc", StdoutRecord("run_1", "Checking print function...\nPrint function is working!\n", T0));

        var logs = _parser.Parse(request, Received).Rows.Cast<LogRow>().ToList();

        Assert.Equal(["Checking print function...", "Print function is working!"], logs.Select(l => l.Message));
        Assert.All(logs, l => Assert.Equal(("Stdout", LogOrigin.Stdout, "run_1", "svc", T0), (l.Level, l.Origin, l.Run.RunId, l.Run.Script, l.Timestamp)));
    }

    [Fact]
    public void Parse_Stderr_AllLinesAreStderr()
    {
        var request = Logs("svc", StdoutRecord("r", "ERROR :: boom\nline 2", T0, stream: "stderr", severityText: "INFO"));

        var logs = _parser.Parse(request, Received).Rows.Cast<LogRow>().ToList();

        Assert.All(logs, l => Assert.Equal(("Stderr", LogOrigin.Stderr), (l.Level, l.Origin)));
        Assert.Equal("ERROR :: boom", logs[0].Message);
    }

    [Fact]
    public void Parse_StdoutLevel_PatternThenSeverityTextThenStdout()
    {
        var withSeverity = StdoutRecord("r", "WARNING :: disk low\nplain", T0, severityText: "error");
        var without = StdoutRecord("r", "plain", T0.AddSeconds(1));

        var logs = _parser.Parse(Logs("svc", withSeverity, without), Received).Rows.Cast<LogRow>().ToList();

        Assert.Equal([("Warning", "disk low"), ("Error", "plain"), ("Stdout", "plain")], logs.Select(l => (l.Level, l.Message)));
    }

    [Fact]
    public void Parse_CustomPattern_TakesLevelAndMessageGroups()
    {
        var parser = Parsers.Logs(@"^\[(?<level>\w+)\] (?<message>.*)$");

        var log = Assert.IsType<LogRow>(Assert.Single(parser.Parse(Logs("s", StdoutRecord("r", "[warn] careful", T0)), Received).Rows));

        Assert.Equal(("Warning", "careful"), (log.Level, log.Message));
    }

    [Fact]
    public void Parse_RunIdOnResource_IsUsed()
    {
        var record = StdoutRecord("x", "hello", T0);
        record.Attributes.Clear();
        var request = Logs("svc", record);
        request.ResourceLogs[0].Resource.Attributes.Add(Attr("run_id", "from-resource"));

        var log = Assert.IsType<LogRow>(Assert.Single(_parser.Parse(request, Received).Rows));

        Assert.Equal("from-resource", log.Run.RunId);
    }

    [Fact]
    public void Parse_BadRecords_RejectedWithReasonsAndTheRestKept()
    {
        var noRun = StdoutRecord("r", "x", T0);
        noRun.Attributes.Clear();
        var empty = StdoutRecord("r", "", T0);
        var good = StdoutRecord("r", "kept", T0);

        var result = _parser.Parse(Logs("svc", noRun, good, empty), Received);

        Assert.Equal(2, result.Rejected);
        Assert.Equal("kept", Assert.IsType<LogRow>(Assert.Single(result.Rows)).Message);
        Assert.Equal("2 log records rejected: log record #0: no run_id attribute (on the record or its resource); log record #2 (run r): empty body", result.ErrorMessage("log records"));
    }

    [Fact]
    public void Parse_SameRecordTwice_GivesSameIds()
    {
        var request = Logs("svc", StdoutRecord("r", "a\nb", T0));

        var first = _parser.Parse(request, Received).Rows.Cast<LogRow>().Select(l => l.LogId);
        var second = _parser.Parse(request.Clone(), Received.AddHours(1)).Rows.Cast<LogRow>().Select(l => l.LogId);

        Assert.Equal(first, second);
    }

    [Fact]
    public void Parse_IdenticalPrintsWithoutTimestamps_StayTwoLogs()
    {
        var a = StdoutRecord("r", "same", T0);
        var b = StdoutRecord("r", "same", T0);
        a.TimeUnixNano = a.ObservedTimeUnixNano = b.TimeUnixNano = b.ObservedTimeUnixNano = 0;

        var logs = _parser.Parse(Logs("svc", a, b), Received).Rows.Cast<LogRow>().ToList();

        Assert.Equal(2, logs.Select(l => l.LogId).Distinct().Count());
        Assert.All(logs, l => Assert.Equal(Received, l.Timestamp));
    }

    [Fact]
    public void Parse_NonStringBody_IsStoredAsJsonText()
    {
        var record = StdoutRecord("r", "x", T0);
        record.Body = new AnyValue { KvlistValue = new KeyValueList { Values = { Attr("k", 1) } } };

        var log = Assert.IsType<LogRow>(Assert.Single(_parser.Parse(Logs("svc", record), Received).Rows));

        Assert.Equal("""{"k":1}""", log.Message);
    }
}
