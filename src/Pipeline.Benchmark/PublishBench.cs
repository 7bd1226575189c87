using System.Diagnostics;
using System.Globalization;
using DuckDB.NET.Data;

namespace Pipeline.Benchmark;

/// <summary>
/// The lake publisher's cost and speed. First, the run-heavy ingest rate with publishing off and on, alternating in
/// one run (medians, as a ratio): the load is stamped when it is made and the rounds start once its one-minute slice
/// has ended, so with a one-second interval and no delay every pass publishes, as late rows of a published slice,
/// what the last second committed: publishing runs all through ingest, the worst case of the hourly default. Then
/// publish throughput: a daemon started with publishing on over the store of an off round, timed from ready until its
/// first pass has published every row (runs, log lines with the stdout mirrors, spans), read from /metrics.
/// </summary>
internal static class PublishBench
{
    public static async Task<int> RunAsync(int spans, int perRequest, int clients, int rounds, string[] daemonArgs)
    {
        var folder = Path.Combine(Path.GetTempPath(), "pipeline-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        Console.WriteLine($"publish: run-heavy spans={spans:N0} perRequest={perRequest} clients={clients} rounds={rounds} cores={Environment.ProcessorCount}");
        var requests = RunHeavyLoad.EncodedRequests(spans, perRequest);
        var made = DateTime.UtcNow;
        var closed = made.AddTicks(TimeSpan.TicksPerMinute - (made.Ticks % TimeSpan.TicksPerMinute)).AddSeconds(1);
        Console.WriteLine($"{requests.Count:N0} requests; waiting {(closed - DateTime.UtcNow).TotalSeconds:N0} s for their minute to end");
        await Task.Delay(closed - DateTime.UtcNow);

        var off = new List<double>();
        var on = new List<double>();
        string? store = null;
        for (var round = 1; round <= rounds; round++)
        {
            store = Path.Combine(folder, $"off{round}.duckdb");
            var plain = await EndToEnd.RunAsync(store, requests, clients, daemonArgs);
            off.Add(plain.RunsPerSecond);
            var lake = Path.Combine(folder, $"lake{round}");
            var publishing = await EndToEnd.RunAsync(Path.Combine(folder, $"on{round}.duckdb"), requests, clients,
                [.. daemonArgs, $"--Lake:Path={lake}", "--Lake:SliceLength=00:01:00", "--Lake:Delay=00:00:00", "--Lake:Interval=00:00:01"]);
            on.Add(publishing.RunsPerSecond);
            Console.WriteLine($"round {round}: lake off {plain.RunsPerSecond:N0} runs/s, lake on {publishing.RunsPerSecond:N0} runs/s ({publishing.RunsPerSecond / plain.RunsPerSecond:P0}); "
                + $"{Directory.EnumerateFiles(lake, "*.parquet", SearchOption.AllDirectories).Count():N0} files published while it ran");
        }

        var (rows, bytes) = StoreRows(store!);
        var lakeFolder = Path.Combine(folder, "publish");
        using var daemon = DaemonProcess.Start(store!, [.. daemonArgs, $"--Lake:Path={lakeFolder}", "--Lake:SliceLength=00:01:00", "--Lake:Delay=00:00:00", "--Lake:Interval=00:00:01"]);
        await daemon.WaitReadyAsync(TimeSpan.FromSeconds(60));
        var clock = Stopwatch.StartNew();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{daemon.ApiPort}") };
        long published;
        while ((published = PrometheusText.Sum(await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)), "pipeline_lake_rows_total")) < rows && clock.Elapsed < TimeSpan.FromMinutes(10))
        {
            await Task.Delay(50);
        }

        var elapsed = clock.Elapsed;
        var lakeBytes = DaemonProcess.FolderBytes(lakeFolder);
        await daemon.StopAsync();

        Console.WriteLine();
        Console.WriteLine($"medians of {rounds} rounds, run-heavy, runs/s acknowledged end to end");
        Console.WriteLine($"ingest, lake off                   : {Latencies.Median(off),10:N0} runs/s  (100%)");
        Console.WriteLine($"ingest, lake on (a pass a second)  : {Latencies.Median(on),10:N0} runs/s  ({Latencies.Median(on) / Latencies.Median(off):P0})");
        Console.WriteLine($"publish throughput, first pass     : {published / elapsed.TotalSeconds,10:N0} rows/s  ({published:N0} of {rows:N0} rows in {elapsed.TotalSeconds:N1} s; "
            + $"{lakeBytes / 1048576.0:N1} MiB of Parquet for a {bytes / 1048576.0:N1} MiB store)");
        Directory.Delete(folder, recursive: true);
        return published >= rows ? 0 : 1;
    }

    /// <summary>Rows the publisher will take from a stopped daemon's file: runs, every log line, spans; and the file's size.</summary>
    private static (long Rows, long Bytes) StoreRows(string path)
    {
        using (var connection = new DuckDBConnection($"Data Source={path}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT (SELECT count(*) FROM runs) + (SELECT count(*) FROM log_lines) + (SELECT count(*) FROM spans)";
            return (Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture), new FileInfo(path).Length);
        }
    }

}
