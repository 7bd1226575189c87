using System.Diagnostics;
using System.Globalization;
using System.Net;
using DuckDB.NET.Data;
using Pipeline.Storage;

namespace Pipeline.Benchmark;

/// <summary>
/// Query benchmark: a generated store (by default 1 M runs and 10 M logs of one script over 90 days), a real daemon on
/// it in its own process, and the monitoring page's questions asked over HTTP: median and p99 latency of each.
/// </summary>
internal static class QueryBench
{
    public static async Task<int> RunAsync(int runs, int logsPerRun, int repeats)
    {
        var folder = Path.Combine(Path.GetTempPath(), "pipeline-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "queries.duckdb");
        var clock = Stopwatch.StartNew();
        Generate(path, runs, logsPerRun);
        Console.WriteLine($"generated {runs:N0} runs and {(long)runs * logsPerRun:N0} logs in {clock.Elapsed.TotalSeconds:N0} s ({new FileInfo(path).Length / 1048576.0:N0} MiB)");

        // The generated history is 90 days, from the start of 2026: retention must not take it away.
        using var daemon = DaemonProcess.Start(path, "--Retention:MaxAge=3650.00:00:00");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{daemon.ApiPort}"), Timeout = TimeSpan.FromMinutes(5) };
        await WaitReadyAsync(http);

        var range = $"script=bench&from={Start:O}&to={Start.AddDays(91):O}";
        var filter = Uri.EscapeDataString("""{"op":"or","conditions":[{"column":"status","operator":"eq","values":["Failed","In Progress"]}]}""");
        var middle = runs / 2;
        var questions = new (string Name, string Path, int Times)[]
        {
            ("summary (total, failure rate, P90/P99)", $"/api/runs/summary?{range}", repeats),
            ("trend, daily over 90 days", $"/api/runs/trend?{range}&bucket=day", repeats),
            ("filtered list (OR of two statuses), page 1", $"/api/runs?{range}&filter={filter}", repeats),
            ("search list (q=run_12345)", $"/api/runs?{range}&q=run_12345", repeats),
            ("record view (run, logs, neighbours)", $"/api/runs/run_{middle}?{range}", repeats),
            ("logs of one run", $"/api/logs?{range}&runId=run_{middle}", repeats),
            ($"Parquet export of all {runs:N0} runs", $"/api/runs/export?format=parquet&{range}", Math.Max(3, repeats / 10)),
        };

        Console.WriteLine($"{"question",-45} {"median",10} {"p99",10}  (ms, {repeats} times each; exports fewer)");
        foreach (var (name, url, times) in questions)
        {
            var latencies = new List<double>();
            for (var i = 0; i < times; i++)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await http.GetAsync(url);
                var bytes = await response.Content.ReadAsByteArrayAsync();
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (!response.IsSuccessStatusCode || bytes.Length == 0)
                {
                    throw new InvalidOperationException($"{url}: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(bytes)}");
                }
            }

            latencies.Sort();
            Console.WriteLine($"{name,-45} {Latencies.Percentile(latencies, 0.50),10:N1} {Latencies.Percentile(latencies, 0.99),10:N1}");
        }

        await daemon.StopAsync();
        Directory.Delete(folder, recursive: true);
        return 0;
    }

    private static readonly DateTime Start = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>Fills the daemon's own schema with SQL (much faster than through OTLP): runs every 7.8 s over 90 days.</summary>
    private static void Generate(string path, int runs, int logsPerRun)
    {
        using var connection = new DuckDBConnection(new StorageOptions { Path = path, MemoryLimit = "8GB" }.ConnectionString());
        connection.Open();
        DuckDbSchema.Apply(connection);
        var step = 90 * 86_400_000_000L / runs;
        Execute(connection, $"""
            INSERT INTO runs
            SELECT 'run_' || i, 'bench',
                   CASE WHEN i % 10 = 3 THEN 'Failed' WHEN i % 1000 = 7 THEN 'In Progress' ELSE 'Success' END,
                   'dep_' || (i // 100000), (i // 100000) + 1,
                   CASE WHEN i % 10 <> 3 AND i % 1000 <> 7 THEN 50 + (i * 7919) % 5000 END,
                   50 + (i * 7919) % 5000, 'handler_' || (i % 7),
                   TIMESTAMP '2026-01-01' + to_microseconds(i * {step}),
                   TIMESTAMP '2026-01-01' + to_microseconds(i * {step}) + INTERVAL 1 SECOND,
                   CASE WHEN i % 2 = 0 THEN 'API' ELSE 'Tool' END, 'flow_' || (i % 13),
                   CASE WHEN i % 10 = 3 THEN 'ValueError: bad input ' || i END,
                   json_object('item', i)::VARCHAR, json_object('ok', true)::VARCHAR, md5(i::VARCHAR), substr(md5(i::VARCHAR), 1, 16), NULL, NULL,
                   time_bucket(INTERVAL 10 SECOND, TIMESTAMP '2026-01-01' + to_microseconds(i * {step})),
                   time_bucket(INTERVAL 10 SECOND, TIMESTAMP '2026-01-01' + to_microseconds(i * {step}) + INTERVAL 1 SECOND) + INTERVAL 10 SECOND,
                   false, true, now()::TIMESTAMP
            FROM range({runs}) t(i);
            """);
        Execute(connection, $"""
            INSERT INTO log_lines
            SELECT 'log_' || j, 'run_' || (j // {logsPerRun}), 'bench',
                   ['Debug', 'Info', 'Warning', 'Error'][(j % 4) + 1], 'step ' || (j % {logsPerRun}) || ' of run ' || (j // {logsPerRun}),
                   TIMESTAMP '2026-01-01' + to_microseconds((j // {logsPerRun}) * {step} + (j % {logsPerRun}) * 1000),
                   0, 'korelogger', false, 'dep_' || ((j // {logsPerRun}) // 100000), 'flow', 'API', '41',
                   md5((j // {logsPerRun})::VARCHAR), substr(md5(j::VARCHAR), 1, 16), NULL
            FROM range({(long)runs * logsPerRun}) t(j);
            """);
        Execute(connection, "CHECKPOINT");
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static async Task WaitReadyAsync(HttpClient http)
    {
        for (var attempt = 0; attempt < 600; attempt++)
        {
            try
            {
                using var ready = await http.GetAsync("/readyz");
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException("the daemon did not become ready");
    }

}
