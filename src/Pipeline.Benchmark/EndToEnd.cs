using System.Diagnostics;
using System.Globalization;
using DuckDB.NET.Data;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Hosting;

namespace Pipeline.Benchmark;

/// <summary>A real daemon on loopback, fed by concurrent gRPC clients that each wait for their answer.</summary>
internal static class EndToEnd
{
    public sealed record Result(double RowsPerSecond, double P50Ms, double P99Ms, int Calls, TimeSpan Elapsed, double CpuMs, TimeSpan GcPause, double AddedMiB, long Stored);

    public static async Task<Result> RunAsync(string path, List<byte[]> encoded, int totalSpans, int clients)
    {
        // What the daemon adds to the process: working set sampled while it runs, less what it was before.
        var before = Process.GetCurrentProcess().WorkingSet64;
        long peak = before;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, Process.GetCurrentProcess().WorkingSet64);
                await Task.Delay(20, CancellationToken.None);
            }
        });

        var app = PipelineApp.Build([], config => config.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Receivers:GrpcEndpoint"] = "127.0.0.1:0",
            ["Receivers:HttpEndpoint"] = "127.0.0.1:0",
            ["Storage:Path"] = path,
            ["Logging:LogLevel:Default"] = "Warning",
        }));
        await app.StartAsync();
        var (address, _) = app.ReceiverAddresses();

        // The clients send pre-encoded requests, so the load generator's own protobuf work is not measured.
        using var channel = GrpcChannel.ForAddress(address);
        var invoker = channel.CreateCallInvoker();
        var bytes = Marshallers.Create<byte[]>(b => b, b => b);
        var export = new Method<byte[], byte[]>(MethodType.Unary, "opentelemetry.proto.collector.trace.v1.TraceService", "Export", bytes, bytes);
        await invoker.AsyncUnaryCall(export, null, default, encoded[0]); // warm-up, not timed

        var latencies = new List<double>[clients];
        var next = 0;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var gcPause = GC.GetTotalPauseDuration();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
        {
            latencies[c] = [];
            int i;
            while ((i = Interlocked.Increment(ref next)) < encoded.Count)
            {
                var started = Stopwatch.GetTimestamp();
                await invoker.AsyncUnaryCall(export, null, default, encoded[i]);
                latencies[c].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }));
        var elapsed = clock.Elapsed;
        var cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
        gcPause = GC.GetTotalPauseDuration() - gcPause;
        await app.StopAsync();
        await app.DisposeAsync();
        await sampling.CancelAsync();
        await sampler;

        var all = latencies.SelectMany(l => l).Order().ToList();
        var measuredRows = totalSpans - ExportTraceServiceRequest.Parser.ParseFrom(encoded[0]).ResourceSpans[0].ScopeSpans[0].Spans.Count;
        return new Result(measuredRows / elapsed.TotalSeconds, Percentile(all, 0.50), Percentile(all, 0.99), all.Count, elapsed, cpuMs, gcPause, (peak - before) / 1048576.0, CountLogs(path));
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static long CountLogs(string path)
    {
        using var connection = new DuckDBConnection($"Data Source={path}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM logs";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}
