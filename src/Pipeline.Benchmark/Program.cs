using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Benchmark;
using Pipeline.Parsing;

// Ingest benchmark (not a test). Pushes N korelogger spans through OTLP/gRPC into a real daemon running in its own
// process (end to end: an export counts once its rows are committed) and, in the same run, writes the same rows with
// a bare DuckDB Appender loop into the same table: the floor to compare against. The two alternate for a few rounds
// and the medians are reported, as ratios to the floor, since the machines here are shared and noisy.
// Usage: dotnet run -c Release --project src/Pipeline.Benchmark -- [spans=200000] [perRequest=512] [clients=8] [rounds=3]
//        dotnet run -c Release --project src/Pipeline.Benchmark -- queries [runs=1000000] [logsPerRun=10] [repeats=30]
if (args.Length > 0 && args[0] == "queries")
{
    return await QueryBench.RunAsync(ArgOr(1, 1_000_000), ArgOr(2, 10), ArgOr(3, 30));
}

var spans = ArgOr(0, 200_000);
var perRequest = ArgOr(1, 512);
var clients = ArgOr(2, 8);
var rounds = ArgOr(3, 3);
var folder = Path.Combine(Path.GetTempPath(), "pipeline-bench", Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(folder);
Console.WriteLine($"spans={spans:N0} perRequest={perRequest} clients={clients} rounds={rounds} cores={Environment.ProcessorCount}");

var encoded = KoreloggerLoad.EncodedRequests(spans, perRequest);
var parser = new TraceRequestParser(new PrintedText(Options.Create(new MappingOptions())));
List<LogRow> Rows() => [.. encoded.SelectMany(bytes => parser.Parse(ExportTraceServiceRequest.Parser.ParseFrom(bytes)).Rows).Cast<LogRow>()];

var bares = new List<double>();
var decodes = new List<double>();
var runs = new List<EndToEnd.Result>();
for (var round = 1; round <= rounds; round++)
{
    // What the daemon does per row before the channel: protobuf decode and mapping, on one thread.
    var clock = Stopwatch.StartNew();
    var rows = Rows();
    decodes.Add(rows.Count / clock.Elapsed.TotalSeconds);
    bares.Add(Baselines.BareAppender(Path.Combine(folder, $"bare{round}.duckdb"), rows, groupRows: rows.Count));
    rows = null;
    GC.Collect();

    var run = await EndToEnd.RunAsync(Path.Combine(folder, $"pipeline{round}.duckdb"), encoded, spans, clients);
    runs.Add(run);
    Console.WriteLine($"round {round}: bare {bares[^1]:N0} rows/s, end to end {run.RowsPerSecond:N0} rows/s ({run.RowsPerSecond / bares[^1]:P0}), stored {run.Stored:N0}");
}

var groupRows = (int)Math.Max(1, runs.Sum(r => r.CommittedRows) / Math.Max(1, runs.Sum(r => r.Commits)));
var grouped = Baselines.BareAppender(Path.Combine(folder, "grouped.duckdb"), Rows(), groupRows);
var bare = Median(bares);
var e2e = runs.OrderBy(r => r.RowsPerSecond).ElementAt(runs.Count / 2);
Console.WriteLine();
Console.WriteLine($"medians of {rounds} rounds");
Console.WriteLine($"bare appender, one transaction     : {bare,10:N0} rows/s  (the floor; 100%)");
Console.WriteLine($"bare appender, commit per group    : {grouped,10:N0} rows/s  ({grouped / bare:P0}; one commit per {groupRows:N0} rows, as the daemon's groups)");
Console.WriteLine($"decode + map, one thread           : {Median(decodes),10:N0} rows/s  ({Median(decodes) / bare:P0})");
Console.WriteLine($"end to end, OTLP/gRPC, acknowledged: {e2e.RowsPerSecond,10:N0} rows/s  ({e2e.RowsPerSecond / bare:P0})");
Console.WriteLine($"export latency                     : p50 {e2e.P50Ms:N1} ms, p99 {e2e.P99Ms:N1} ms over {e2e.Calls} calls of {perRequest} spans, {clients} at a time");
Console.WriteLine($"daemon process                     : {e2e.DaemonCores:N2} cores busy; peak resident memory {runs.Max(r => r.PeakRssMiB):N0} MiB; {e2e.Commits:N0} commits");
Directory.Delete(folder, recursive: true);
return runs.All(r => r.Stored == spans) ? 0 : 1;

int ArgOr(int index, int fallback) =>
    args.Length > index ? int.Parse(args[index], CultureInfo.InvariantCulture) : fallback;

static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
