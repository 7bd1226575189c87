using System.Diagnostics;
using Microsoft.Extensions.Options;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Parsing;

namespace Pipeline.Benchmark;

/// <summary>
/// Ingest benchmark: pushes a load shape through OTLP/gRPC into a real daemon in its own process (end to end: an
/// export counts once its rows are committed) and, in the same run, writes the same rows (log lines and run rows) with
/// bare DuckDB Appenders into the same tables: the floor to compare against. The two alternate for a few rounds and the
/// medians are reported, as ratios to the floor, since the machines here are shared and noisy. The figure is log
/// rows per second: rows of the <c>logs</c> view, so a run-heavy run counts 10 (its 9 korelogger logs and its one
/// printed line; the stdout mirrors are not rows there), and its run row is counted apart, as runs per second.
/// </summary>
internal static class IngestBench
{
    public static readonly string[] Shapes = ["logsonly", "runheavy"];

    public static async Task<int> RunAsync(string shape, int spans, int perRequest, int clients, int rounds, string[] daemonArgs)
    {
        var folder = Path.Combine(Path.GetTempPath(), "pipeline-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        Console.WriteLine($"shape={shape} spans={spans:N0} perRequest={perRequest} clients={clients} rounds={rounds} cores={Environment.ProcessorCount}");

        var generation = Stopwatch.StartNew();
        var requests = shape == "runheavy" ? RunHeavyLoad.EncodedRequests(spans, perRequest) : KoreloggerLoad.EncodedRequests(spans, perRequest);
        var sent = RowCounts.Of(requests);
        generation.Stop();
        var parser = new TraceRequestParser(new PrintedText(Options.Create(new MappingOptions())));
        List<IngestRow> Rows() => [.. requests.SelectMany(r => parser.Parse(ExportTraceServiceRequest.Parser.ParseFrom(r.Bytes)).Rows)];
        List<IngestRow> Stored() => [.. Rows().Where(r => r is LogRow or RunRow)];
        Console.WriteLine($"{requests.Count:N0} requests, generated in {generation.Elapsed.TotalSeconds:N1} s: {sent.Logs:N0} logs and {sent.Runs:N0} runs to store");

        var bares = new List<double>();
        var decodes = new List<double>();
        var runs = new List<EndToEnd.Result>();
        var lines = 0;
        for (var round = 1; round <= rounds; round++)
        {
            // What the daemon does per request before the channel: protobuf decode and mapping, on one thread.
            var clock = Stopwatch.StartNew();
            var rows = Rows();
            decodes.Add(sent.Logs / clock.Elapsed.TotalSeconds);
            var stored = rows.Where(r => r is LogRow or RunRow).ToList();
            rows = null;
            lines = stored.Count;
            bares.Add(sent.Logs / Baselines.BareAppender(Path.Combine(folder, $"bare{round}.duckdb"), stored, groupRows: stored.Count).TotalSeconds);
            stored = null;
            GC.Collect();

            var run = await EndToEnd.RunAsync(Path.Combine(folder, $"pipeline{round}.duckdb"), requests, clients, daemonArgs);
            runs.Add(run);
            Console.WriteLine($"round {round}: bare {bares[^1]:N0} logs/s, end to end {run.LogsPerSecond:N0} logs/s ({run.LogsPerSecond / bares[^1]:P0}) "
                + $"and {run.RunsPerSecond:N0} runs/s; stored {run.Stored.Against(run.Sent, "sent")}");
        }

        var groupRows = (int)Math.Max(1, runs.Sum(r => r.CommittedRows) / Math.Max(1, runs.Sum(r => r.Commits)));
        var grouped = sent.Logs / Baselines.BareAppender(Path.Combine(folder, "grouped.duckdb"), Stored(), groupRows).TotalSeconds;
        var bare = Latencies.Median(bares);
        var e2e = runs.OrderBy(r => r.LogsPerSecond).ElementAt(runs.Count / 2);
        Console.WriteLine();
        Console.WriteLine($"medians of {rounds} rounds, in log rows/s (rows of the logs view)");
        Console.WriteLine($"bare appender, one transaction     : {bare,10:N0} logs/s  (the floor; 100%: the shape's {lines:N0} rows, log lines with the stdout mirrors, and run rows)");
        Console.WriteLine($"bare appender, commit per group    : {grouped,10:N0} logs/s  ({grouped / bare:P0}; one commit per {groupRows:N0} rows, as the daemon's groups)");
        Console.WriteLine($"decode + map, one thread           : {Latencies.Median(decodes),10:N0} logs/s  ({Latencies.Median(decodes) / bare:P0})");
        Console.WriteLine($"end to end, OTLP/gRPC, acknowledged: {e2e.LogsPerSecond,10:N0} logs/s  ({e2e.LogsPerSecond / bare:P0}), {e2e.RunsPerSecond:N0} runs/s");
        Console.WriteLine($"export latency                     : p50 {e2e.P50Ms:N1} ms, p99 {e2e.P99Ms:N1} ms over {e2e.Calls} calls of up to {perRequest} spans, {clients} at a time");
        Console.WriteLine($"daemon process                     : {e2e.DaemonCores:N2} cores busy; peak resident memory {runs.Max(r => r.PeakRssMiB):N0} MiB; {e2e.Commits:N0} commits");
        Console.WriteLine($"refused and retried exports        : {runs.Sum(r => r.Refusals):N0}; rejected spans {runs.Sum(r => r.RejectedSpans):N0} (all rounds)");
        Directory.Delete(folder, recursive: true);
        return runs.All(r => r.Stored == r.Sent) ? 0 : 1;
    }
}
