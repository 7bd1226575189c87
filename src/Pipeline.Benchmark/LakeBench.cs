using System.Diagnostics;
using System.Globalization;
using DuckDB.NET.Data;
using Pipeline.Lake;

namespace Pipeline.Benchmark;

/// <summary>
/// Lake-mode benchmark: for each size, a generated store (<see cref="QueryBench.Generate"/>: one run per 100 logs, over
/// 90 days, plus a run of 100,000 logs), the same rows written as a lake in the publisher's layout (three nodes, one
/// file per table, script, node and hour slice, with a republished older version of 1 run in 100 and a revision row
/// for 1 log in 1000), a lake-mode daemon and a store daemon on them, each in its own process, and the console's main
/// questions asked of both: p50 and p95 latency, and the lake's over the store's.
/// </summary>
internal static class LakeBench
{
    private const int LogsPerRun = 100;
    private static readonly string[] Nodes = ["node-a", "node-b", "node-c"];

    public static async Task<int> RunAsync(IReadOnlyList<int> sizes, int repeats, string[] daemonArgs)
    {
        Console.WriteLine($"{"logs",10} {"question",-34} {"lake p50",9} {"lake p95",9} {"store p50",9} {"store p95",9} {"lake/store",10}  (ms, p50 ratio; {repeats} rounds after a warm-up one)");
        foreach (var logs in sizes)
        {
            var folder = Path.Combine(Path.GetTempPath(), "pipeline-bench", Guid.NewGuid().ToString("N"));
            var (store, lake) = (Path.Combine(folder, "store", "pipeline.duckdb"), Path.Combine(folder, "lake"));
            Directory.CreateDirectory(Path.GetDirectoryName(store)!);
            var clock = Stopwatch.StartNew();
            QueryBench.Generate(store, logs / LogsPerRun, LogsPerRun);
            var files = WriteLake(store, lake);
            Console.WriteLine($"{logs,10:N0} logs ({logs / LogsPerRun:N0} runs, +{QueryBench.BigRunLogs:N0} logs of one run): store {new FileInfo(store).Length / 1048576.0:N0} MiB, "
                + $"lake {files:N0} files {DaemonProcess.FolderBytes(lake) / 1048576.0:N0} MiB, written in {clock.Elapsed.TotalSeconds:N0} s");

            var questions = Questions(logs / LogsPerRun);
            var lakeTimes = await AskAsync(Path.Combine(folder, "reader", "pipeline.duckdb"), questions, repeats, ["--Mode=lake", $"--Lake:Path={lake}", .. daemonArgs]);
            var storeTimes = await AskAsync(store, questions, repeats, ["--Retention:MaxAge=3650.00:00:00", .. daemonArgs]);
            for (var q = 0; q < questions.Length; q++)
            {
                var (l50, l95) = (Latencies.Percentile(lakeTimes[q], 0.5), Latencies.Percentile(lakeTimes[q], 0.95));
                var (s50, s95) = (Latencies.Percentile(storeTimes[q], 0.5), Latencies.Percentile(storeTimes[q], 0.95));
                Console.WriteLine($"{logs,10:N0} {questions[q].Name,-34} {l50,9:N1} {l95,9:N1} {s50,9:N1} {s95,9:N1} {l50 / s50,10:N1}");
            }

            Directory.Delete(folder, recursive: true);
        }

        return 0;
    }

    /// <summary>Where <see cref="QueryBench.Generate"/>'s 90 days begin.</summary>
    private static readonly DateTime Start = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static (string Name, string Path)[] Questions(int runs)
    {
        var range = $"script=bench&from={Start:O}&to={Start.AddDays(91):O}";
        var week = $"script=bench&from={Start.AddDays(83):O}&to={Start.AddDays(90):O}";
        return
        [
            ("runs list, page 1 (90 days)", $"/api/runs?{range}"),
            ("runs summary (90 days)", $"/api/runs/summary?{range}"),
            ("runs trend, daily (90 days)", $"/api/runs/trend?{range}&bucket=day"),
            ("runs values: status", $"/api/runs/values?{range}&column=status"),
            ("runs list, page 1 (last 7 days)", $"/api/runs?{week}"),
            ("runs summary (last 7 days)", $"/api/runs/summary?{week}"),
            ("logs summary (last 7 days)", $"/api/logs/summary?{week}"),
            ("logs list, page 1 (last 7 days)", $"/api/logs?{week}"),
            ("logs list, page 1 (90 days)", $"/api/logs?{range}"),
            ("logs summary (90 days)", $"/api/logs/summary?{range}"),
            ("record view (run, logs, spans)", $"/api/runs/run_{runs / 2}?{range}"),
            ("logs of one run", $"/api/logs?{range}&runId=run_{runs / 2}"),
        ];
    }

    /// <summary>Starts a daemon on <paramref name="database"/>, asks every question once per round, and stops it.</summary>
    private static async Task<List<double>[]> AskAsync(string database, (string Name, string Path)[] questions, int repeats, string[] settings)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(database)!);
        using var daemon = DaemonProcess.Start(database, settings);
        await daemon.WaitReadyAsync(TimeSpan.FromMinutes(5));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{daemon.ApiPort}"), Timeout = TimeSpan.FromMinutes(5) };
        var latencies = questions.Select(_ => new List<double>()).ToArray();
        for (var round = -1; round < repeats; round++)
        {
            for (var q = 0; q < questions.Length; q++)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await http.GetAsync(new Uri(questions[q].Path, UriKind.Relative));
                var body = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"{questions[q].Path}: {(int)response.StatusCode} {body}");
                }

                if (round >= 0)
                {
                    latencies[q].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }
        }

        await daemon.StopAsync();
        foreach (var list in latencies)
        {
            list.Sort();
        }

        return latencies;
    }

    /// <summary>
    /// Writes the store's rows as a lake: DuckDB writes each table partitioned by script, day, node and hour, and each
    /// partition's file is moved to its place in the publisher's layout (<see cref="LakeLayout"/>). The extra columns
    /// the partitioning leaves in the files are not read by the reader views. Returns the number of files.
    /// </summary>
    private static int WriteLake(string store, string lake)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:;memory_limit=4GB");
        connection.Open();
        Execute(connection, $"ATTACH '{store}' AS store (READ_ONLY)");
        var node = $"['{string.Join("', '", Nodes)}'][(hash(run_id) % {Nodes.Length})::BIGINT + 1]";
        var committed = "TIMESTAMP '2026-06-01'";
        var tables = new (string Table, string Select, string Time)[]
        {
            ("runs", $"""
                SELECT *, {node} AS node FROM store.runs
                UNION ALL
                SELECT * REPLACE ('In Progress' AS status, NULL AS response_time_ms, updated_at - INTERVAL 1 MINUTE AS updated_at), {node} AS node
                FROM store.runs WHERE hash(run_id) % 100 = 0
                """, "executed_on"),
            ("logs", $"""
                SELECT * REPLACE ({committed} AS committed_at), false AS revision, {node} AS node FROM store.log_lines
                UNION ALL
                SELECT * REPLACE ({committed} + INTERVAL 1 MINUTE AS committed_at), true AS revision, {node} AS node FROM store.log_lines WHERE hash(log_id) % 1000 = 0
                """, "timestamp"),
            ("spans", $"SELECT * REPLACE ({committed} AS committed_at), {node} AS node FROM store.spans", "start_time"),
        };

        var files = 0;
        Directory.CreateDirectory(lake);
        foreach (var (table, select, time) in tables)
        {
            // A day at a time: one open Parquet writer per partition, 72 at most (24 hours, 3 nodes).
            for (var day = Start; day < Start.AddDays(91); day = day.AddDays(1))
            {
                var staging = Path.Combine(lake, $".{table}-{day:yyyyMMdd}");
                Execute(connection, $"""
                    COPY (SELECT *, script AS part_script, node AS part_node, date_trunc('hour', {time}) AS part_slice FROM ({select})
                          WHERE {time} >= TIMESTAMP '{day:yyyy-MM-dd}' AND {time} < TIMESTAMP '{day.AddDays(1):yyyy-MM-dd}')
                    TO '{staging}' (FORMAT parquet, PARTITION_BY (part_script, part_node, part_slice), WRITE_PARTITION_COLUMNS true)
                    """);
                if (!Directory.Exists(staging))
                {
                    continue; // No rows that day (the generated store has no spans).
                }

                foreach (var file in Directory.EnumerateFiles(staging, "*.parquet", SearchOption.AllDirectories))
                {
                    // .../part_script=bench/part_node=node-a/part_slice=2026-01-01 01%3A00%3A00/data_0.parquet
                    var parts = Path.GetRelativePath(staging, file).Split(Path.DirectorySeparatorChar)[..3].Select(p => Uri.UnescapeDataString(p[(p.IndexOf('=') + 1)..])).ToArray();
                    var slice = DateTime.SpecifyKind(DateTime.Parse(parts[2], CultureInfo.InvariantCulture), DateTimeKind.Utc);

                    // DuckDB may write a partition in several files (data_0, data_1...): the slice's first, second... file.
                    var seq = 1 + int.Parse(Path.GetFileNameWithoutExtension(file).Split('_')[^1], CultureInfo.InvariantCulture);
                    var target = Path.Combine(lake, LakeLayout.RelativePath(table, parts[0], slice, parts[1], seq));
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    File.Move(file, target);
                    files++;
                }

                Directory.Delete(staging, recursive: true);
            }
        }

        return files;
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
