using Pipeline.Parsing;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Parsing;

public sealed class ParsedExportTests
{
    [Fact]
    public void RowsToStore_AddsOneSummaryPerRunOfTheLogs()
    {
        var trace = NewTraceId();
        var request = Traces("s",
            LogSpan("run_a", "INFO", "one", T0.AddSeconds(3), trace),
            LogSpan("run_a", "INFO", "two", T0.AddSeconds(1), trace),
            LogSpan("run_b", "INFO", "three", T0, deploymentId: "dep_b"),
            RunSpan("run_a", T0, TimeSpan.FromSeconds(5), traceId: trace, stdout: "printed\n"));

        var parsed = Parsers.Traces().Parse(request);
        var summaries = parsed.RowsToStore().OfType<RunLogSummary>().OrderBy(s => s.Run.RunId).ToList();

        Assert.Equal(parsed.Rows.Count + 2, parsed.RowsToStore().Count);
        Assert.Equal(
            [("run_a", T0.AddSeconds(1), T0.AddSeconds(5), true, true), ("run_b", T0, T0, false, true)],
            summaries.Select(s => (s.Run.RunId, s.First, s.Last, s.HasStdout, s.HasKorelogger)));
        Assert.Equal("dep_b", summaries[1].Run.DeploymentId);
    }

    [Fact]
    public void ErrorMessage_NoRejections_IsNull() => Assert.Null(new ParsedExport().ErrorMessage("spans"));
}
