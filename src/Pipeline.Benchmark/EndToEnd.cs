using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Pipeline.Benchmark;

/// <summary>
/// The daemon in its own process, as in production, fed a load shape's requests by concurrent gRPC clients that
/// each wait for their answer. Its peak resident memory and CPU time are read from the process itself; what it
/// stored is counted in its file once it has stopped.
/// </summary>
internal static partial class EndToEnd
{
    public sealed record Result(double LogsPerSecond, double RunsPerSecond, double P50Ms, double P99Ms, int Calls, TimeSpan Elapsed,
        double DaemonCores, double PeakRssMiB, long Commits, long CommittedRows, long Refusals, long RejectedSpans,
        RowCounts Sent, RowCounts Stored);

    public static async Task<Result> RunAsync(string path, List<LoadRequest> requests, int clients, string[] daemonArgs)
    {
        using var daemonProcess = DaemonProcess.Start(path, ["--Logging:LogLevel:Pipeline.Storage=Information", .. daemonArgs]);
        var daemon = daemonProcess.Process;
        using var exporter = new TraceExporter(daemonProcess.GrpcPort);
        await exporter.WaitForDaemonAsync();

        // A daemon runs for weeks: the first tenth of the requests warms it up (JIT tiers) and is not timed.
        var warmUp = Math.Max(1, requests.Count / 10);
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < warmUp)
            {
                await exporter.ExportAsync(requests[i].Bytes);
            }
        }));
        next = warmUp - 1;

        var latencies = new Latencies();
        var cpu = daemon.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests.Count)
            {
                var started = Stopwatch.GetTimestamp();
                await exporter.ExportAsync(requests[i].Bytes);
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }));
        var elapsed = clock.Elapsed;
        daemon.Refresh();
        var cores = (daemon.TotalProcessorTime - cpu).TotalMilliseconds / elapsed.TotalMilliseconds;
        var peakRss = daemonProcess.PeakResidentMiB();

        // A graceful stop: the daemon drains and says how many commits it made.
        await daemonProcess.StopAsync();
        var drained = DrainedLine().Match(await daemonProcess.Output);

        var all = latencies.TakeSorted();
        var timed = RowCounts.Of(requests.Skip(warmUp));
        return new Result(timed.Logs / elapsed.TotalSeconds, timed.Runs / elapsed.TotalSeconds,
            Latencies.Percentile(all, 0.50), Latencies.Percentile(all, 0.99), all.Count, elapsed, cores, peakRss,
            drained.Success ? long.Parse(drained.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            drained.Success ? long.Parse(drained.Groups[2].Value, CultureInfo.InvariantCulture) : 0,
            exporter.Refusals, exporter.RejectedSpans,
            RowCounts.Of(requests), RowCounts.InFile(path));
    }

    [GeneratedRegex(@"after (\d+) commits of (\d+) rows")]
    private static partial Regex DrainedLine();
}
