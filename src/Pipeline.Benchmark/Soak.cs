using System.Diagnostics;
using System.Threading.Channels;

namespace Pipeline.Benchmark;

/// <summary>
/// Soak: one daemon fed the run-heavy shape for a given number of minutes by concurrent clients that each wait for
/// their answer and retry refusals. A generator task makes fresh requests (new ids, stamped now) into a small bounded
/// queue ahead of the clients, so no export waits on generation. A line a minute: acknowledged log rows/s and runs/s,
/// the daemon's resident memory now and at peak, its data folder on disk, export latency (first send to
/// acknowledgement, retries included) and refusals; then a summary and what the file holds against what was
/// acknowledged.
/// </summary>
internal static class Soak
{
    private static readonly TimeSpan SampleEvery = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(int minutes, int clients, int perRequest, string[] daemonArgs)
    {
        var folder = Path.Combine(Path.GetTempPath(), "pipeline-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "soak.duckdb");
        var load = new RunHeavyLoad(perRequest);
        Console.WriteLine($"soak: {minutes} min, {clients} clients, {load.RunsPerRequest} runs ({load.RunsPerRequest * RunHeavyLoad.SpansPerRun} spans) "
            + $"per request, cores={Environment.ProcessorCount}, daemon args: {string.Join(' ', daemonArgs)}");

        using var daemon = DaemonProcess.Start(path, daemonArgs);
        using var exporter = new TraceExporter(daemon.GrpcPort);
        await exporter.WaitForDaemonAsync();

        using var stop = new CancellationTokenSource();
        var queue = Channel.CreateBounded<LoadRequest>(new BoundedChannelOptions(clients * 2) { SingleWriter = true });
        var generating = TimeSpan.Zero;
        var generator = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                var request = load.Next();
                generating += Stopwatch.GetElapsedTime(started);
                await queue.Writer.WriteAsync(request, stop.Token);
            }
        });

        var latencies = new Latencies();
        var (ackedLogs, ackedRuns) = (0L, 0L);
        var senders = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            try
            {
                await foreach (var request in queue.Reader.ReadAllAsync(stop.Token))
                {
                    // An export under way is seen through (not cancelled), so what was acknowledged is exact.
                    var started = Stopwatch.GetTimestamp();
                    await exporter.ExportAsync(request.Bytes);
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    Interlocked.Add(ref ackedLogs, request.Logs);
                    Interlocked.Add(ref ackedRuns, request.Runs);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The soak is over.
            }
        })).ToList();

        Console.WriteLine($"{"minute",6} {"logs/s",9} {"runs/s",8} {"rss MiB",8} {"peak MiB",8} {"folder MiB",10} {"p99 ms",8} {"max ms",8} {"refused",8}");
        var perMinute = new List<double>();
        var maxFolder = 0L;
        var (lastLogs, lastRuns, lastRefusals, lastAt) = (0L, 0L, 0L, TimeSpan.Zero);
        var clock = Stopwatch.StartNew();
        bool Going() => !senders.Any(s => s.IsCompleted) && !daemon.Process.HasExited;
        for (var minute = 1; minute <= minutes && Going(); minute++)
        {
            var end = TimeSpan.FromMinutes(minute);
            while (clock.Elapsed < end && Going())
            {
                var left = end - clock.Elapsed;
                await Task.Delay(left < SampleEvery ? left : SampleEvery);
                maxFolder = Math.Max(maxFolder, daemon.DataFolderBytes());
            }

            var (at, logs, runs, refusals) = (clock.Elapsed, Interlocked.Read(ref ackedLogs), Interlocked.Read(ref ackedRuns), exporter.Refusals);
            var seconds = (at - lastAt).TotalSeconds;
            var sorted = latencies.TakeSorted();
            var folderBytes = daemon.DataFolderBytes();
            maxFolder = Math.Max(maxFolder, folderBytes);
            perMinute.Add((logs - lastLogs) / seconds);
            Console.WriteLine($"{minute,6} {perMinute[^1],9:N0} {(runs - lastRuns) / seconds,8:N0} {daemon.ResidentMiB(),8:N0} {daemon.PeakResidentMiB(),8:N0} "
                + $"{MiB(folderBytes),10:N1} {Latencies.Percentile(sorted, 0.99),8:N1} {(sorted.Count > 0 ? sorted[^1] : 0),8:N1} {refusals - lastRefusals,8:N0}");
            (lastLogs, lastRuns, lastRefusals, lastAt) = (logs, runs, refusals, at);
        }

        await stop.CancelAsync();
        var failure = await Settle(Task.WhenAll(senders)) ?? (daemon.Process.HasExited ? "the daemon exited during the soak" : null);
        await Settle(generator);
        var peakRss = daemon.PeakResidentMiB();
        var acknowledged = new RowCounts(ackedLogs, ackedRuns);
        await daemon.StopAsync();
        var stored = RowCounts.InFile(path);
        var folderAfter = daemon.DataFolderBytes();

        Console.WriteLine();
        var baseline = perMinute.Count > 1 ? 1 : 0;
        if (perMinute.Count > 0)
        {
            Console.WriteLine($"{$"rate, last minute / minute {baseline + 1}",-30}: {perMinute[^1]:N0} / {perMinute[baseline]:N0} log rows/s ({perMinute[^1] / perMinute[baseline]:P0})");
        }

        Console.WriteLine($"daemon resident memory        : peak {peakRss:N0} MiB (VmHWM)");
        Console.WriteLine($"data folder on disk           : max {MiB(maxFolder):N1} MiB while running, {MiB(folderAfter):N1} MiB after the stop");
        Console.WriteLine($"generator, in this process    : {generating.TotalSeconds:N1} s busy ({generating / clock.Elapsed:P0} of one core)");
        Console.WriteLine($"refused and retried exports   : {exporter.Refusals:N0}; rejected spans {exporter.RejectedSpans:N0}{(exporter.FirstRejection is { } why ? $" ({why})" : string.Empty)}");
        Console.WriteLine($"stored                        : {stored.Against(acknowledged, "acknowledged")}");
        var said = (await daemon.Output).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (said.Length > 0)
        {
            Console.WriteLine($"the daemon said ({said.Length} lines, the last 20):");
            Console.WriteLine(string.Join('\n', said.TakeLast(20)));
        }

        if (failure is not null)
        {
            Console.WriteLine($"the soak stopped early: {failure}");
        }

        Directory.Delete(folder, recursive: true);
        return failure is null && stored == acknowledged ? 0 : 1;
    }

    /// <summary>Waits for a task that ends with the soak; what went wrong, or null when it ended as it should.</summary>
    private static async Task<string?> Settle(Task task)
    {
        try
        {
            await task;
            return null;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (Exception ex)
        {
            return ex.Message;
        }
    }

    private static double MiB(long bytes) => bytes / 1048576.0;
}
