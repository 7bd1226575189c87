using System.Diagnostics;
using System.Globalization;
using DuckDB.NET.Data;
using Microsoft.Extensions.Options;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Benchmark;
using Pipeline.Parsing;
using Pipeline.Storage;

// Ingest benchmark (not a test). Pushes N korelogger spans through OTLP/gRPC into a real daemon (end to end: an
// export counts once its rows are committed) and, in the same process and run, writes the same rows with a bare
// DuckDB Appender loop into the same table: the floor to compare against. Figures are ratios to that floor,
// since machines here are shared and noisy.
// Usage: dotnet run -c Release --project src/Pipeline.Benchmark -- [spans=200000] [perRequest=512] [clients=8]
var spans = ArgOr(0, 200_000);
var perRequest = ArgOr(1, 512);
var clients = ArgOr(2, 8);
var folder = Path.Combine(Path.GetTempPath(), "pipeline-bench", Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(folder);
Console.WriteLine($"spans={spans:N0} perRequest={perRequest} clients={clients} cores={Environment.ProcessorCount}");

var encoded = KoreloggerLoad.EncodedRequests(spans, perRequest);

// What the daemon does per row before the channel: protobuf decode and mapping, on one thread.
var parser = new TraceRequestParser(new PrintedText(Options.Create(new MappingOptions())));
var clock = Stopwatch.StartNew();
var rows = encoded.SelectMany(bytes => parser.Parse(ExportTraceServiceRequest.Parser.ParseFrom(bytes)).Rows).Cast<LogRow>().ToList();
var decodeRate = rows.Count / clock.Elapsed.TotalSeconds;

var bare = Baselines.BareAppender(Path.Combine(folder, "bare.duckdb"), rows, groupRows: rows.Count);
rows.Clear();
GC.Collect();

var writer = WriterStats.Listen();
var run = await EndToEnd.RunAsync(Path.Combine(folder, "pipeline.duckdb"), encoded, spans, clients);
var grouped = Baselines.BareAppender(Path.Combine(folder, "grouped.duckdb"),
    encoded.SelectMany(bytes => parser.Parse(ExportTraceServiceRequest.Parser.ParseFrom(bytes)).Rows).Cast<LogRow>().ToList(),
    groupRows: (int)Math.Max(1, writer.Rows / Math.Max(1, writer.Commits)));

Console.WriteLine($"bare appender, one transaction     : {bare,10:N0} rows/s  (the floor; 100%)");
Console.WriteLine($"bare appender, commit per group    : {grouped,10:N0} rows/s  ({grouped / bare:P0}; groups as large as the daemon's)");
Console.WriteLine($"decode + map, one thread           : {decodeRate,10:N0} rows/s  ({decodeRate / bare:P0})");
Console.WriteLine($"end to end, OTLP/gRPC, acknowledged: {run.RowsPerSecond,10:N0} rows/s  ({run.RowsPerSecond / bare:P0})");
Console.WriteLine($"export latency                     : p50 {run.P50Ms:N1} ms, p99 {run.P99Ms:N1} ms over {run.Calls} calls of {perRequest} spans");
Console.WriteLine($"writer                             : busy {writer.BusyMs / run.Elapsed.TotalMilliseconds:P0} of the run, {writer.Commits:N0} commits of {writer.Rows / Math.Max(1, writer.Commits):N0} rows on average");
Console.WriteLine($"process                            : {run.CpuMs / run.Elapsed.TotalMilliseconds:N2} cores busy; peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:N0} MiB (whole process)");
Console.WriteLine($"stored                             : {run.Stored:N0} of {spans:N0} logs");
Directory.Delete(folder, recursive: true);
return run.Stored == spans ? 0 : 1;

int ArgOr(int index, int fallback) =>
    args.Length > index ? int.Parse(args[index], CultureInfo.InvariantCulture) : fallback;
