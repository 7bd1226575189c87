using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using DuckDB.NET.Data;
using Grpc.Core;
using Grpc.Net.Client;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace Pipeline.Benchmark;

/// <summary>
/// The daemon in its own process, as in production, fed by concurrent gRPC clients that each wait for their
/// answer. Its peak resident memory and CPU time are read from the process itself.
/// </summary>
internal static partial class EndToEnd
{
    public sealed record Result(double RowsPerSecond, double P50Ms, double P99Ms, int Calls, TimeSpan Elapsed,
        double DaemonCores, double PeakRssMiB, long Commits, long CommittedRows, long Stored);

    public static async Task<Result> RunAsync(string path, List<byte[]> encoded, int totalSpans, int clients)
    {
        using var daemonProcess = DaemonProcess.Start(path, "--Logging:LogLevel:Pipeline.Storage=Information");
        var daemon = daemonProcess.Process;
        var grpcPort = daemonProcess.GrpcPort;

        // The clients send pre-encoded requests, so the load generator's own protobuf work is not measured.
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        var invoker = channel.CreateCallInvoker();
        var bytes = Marshallers.Create<byte[]>(b => b, b => b);
        var export = new Method<byte[], byte[]>(MethodType.Unary, "opentelemetry.proto.collector.trace.v1.TraceService", "Export", bytes, bytes);
        await WarmUpAsync(invoker, export, encoded[0]);

        // A daemon runs for weeks: the first tenth of the requests warms it up (JIT tiers) and is not timed.
        var warmUp = Math.Max(1, encoded.Count / 10);
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < warmUp)
            {
                await invoker.AsyncUnaryCall(export, null, default, encoded[i]);
            }
        }));
        next = warmUp - 1;

        var latencies = new List<double>[clients];
        var cpu = daemon.TotalProcessorTime;
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
        daemon.Refresh();
        var cores = (daemon.TotalProcessorTime - cpu).TotalMilliseconds / elapsed.TotalMilliseconds;
        var peakRss = PeakRssMiB(daemon.Id);

        // A graceful stop: the daemon drains and says how many commits it made.
        await daemonProcess.StopAsync();
        var drained = DrainedLine().Match(await daemonProcess.Output);

        var all = latencies.SelectMany(l => l).Order().ToList();
        var measuredRows = totalSpans - encoded.Take(warmUp).Sum(r => ExportTraceServiceRequest.Parser.ParseFrom(r).ResourceSpans[0].ScopeSpans[0].Spans.Count);
        return new Result(measuredRows / elapsed.TotalSeconds, Percentile(all, 0.50), Percentile(all, 0.99), all.Count, elapsed, cores, peakRss,
            drained.Success ? long.Parse(drained.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            drained.Success ? long.Parse(drained.Groups[2].Value, CultureInfo.InvariantCulture) : 0,
            CountLogs(path));
    }

    /// <summary>Waits for the daemon to listen, then sends the first request, untimed.</summary>
    private static async Task WarmUpAsync(CallInvoker invoker, Method<byte[], byte[]> export, byte[] request)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await invoker.AsyncUnaryCall(export, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)), request);
                return;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && attempt < 300)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>The process's peak resident set (VmHWM) from /proc, in MiB; 0 where /proc is not there.</summary>
    private static double PeakRssMiB(int pid)
    {
        var status = $"/proc/{pid}/status";
        if (!File.Exists(status))
        {
            return 0;
        }

        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
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

    [GeneratedRegex(@"after (\d+) commits of (\d+) rows")]
    private static partial Regex DrainedLine();
}
