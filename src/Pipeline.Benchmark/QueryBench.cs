using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using DuckDB.NET.Data;
using Pipeline.Storage;

namespace Pipeline.Benchmark;

/// <summary>
/// Query benchmark: a generated store (by default 1 M runs and 10 M logs of one script over 90 days, and a run of
/// 100,000 logs), a real daemon on it in its own process, and the console's questions asked over HTTP: p50 and p95
/// latency of each, and the size of its answer.
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
        Console.WriteLine($"generated {runs:N0} runs and {(long)runs * logsPerRun + BigRunLogs:N0} logs in {clock.Elapsed.TotalSeconds:N0} s ({new FileInfo(path).Length / 1048576.0:N0} MiB)");

        // The generated history is 90 days, from the start of 2026: retention must not take it away.
        using var daemon = DaemonProcess.Start(path, "--Retention:MaxAge=3650.00:00:00");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{daemon.ApiPort}"), Timeout = TimeSpan.FromMinutes(5) };
        await WaitReadyAsync(http);
        Console.WriteLine($"load average at the start: {LoadAverage()}");

        var range = $"script=bench&from={Start:O}&to={Start.AddDays(91):O}";
        var week = $"script=bench&from={Start.AddDays(83):O}&to={Start.AddDays(90):O}";
        var allTime = "script=bench&from=2000-01-01T00:00:00Z&to=2030-01-01T00:00:00Z";
        var filter = Filter("or", ("status", "eq", ["Failed", "In Progress"]));
        var middle = runs / 2;
        var bigRun = $"script=bench&runId={BigRun}&sort=timestamp:asc&limit=1000";
        var record = await GetJsonAsync(http, $"/api/runs/{BigRun}?script=bench");
        var secondPage = Uri.EscapeDataString(record.GetProperty("logsNextCursor").GetString()!);
        var errors = await GetJsonAsync(http, $"/api/runs/errors?{range}");
        var group = errors[0].GetProperty("group").GetString()!;
        var questions = new (string Name, string Path, int Times)[]
        {
            ("summary (total, failure rate, P90/P99, bounds)", $"/api/runs/summary?{range}", repeats),
            ("trend, daily over 90 days", $"/api/runs/trend?{range}&bucket=day", repeats),
            ("trend, all time (clamped, default bucket)", $"/api/runs/trend?{allTime}", repeats),
            ("filtered list (OR of two statuses), page 1", $"/api/runs?{range}&filter={filter}", repeats),
            ("filtered list, status eq 'failed' (any case)", $"/api/runs?{range}&filter={Filter("and", ("status", "eq", ["failed"]))}", repeats),
            ("search list (q=run_12345)", $"/api/runs?{range}&q=run_12345", repeats),
            ("values: status", $"/api/runs/values?{range}&column=status", repeats),
            ("values: deploymentVersion", $"/api/runs/values?{range}&column=deploymentVersion", repeats),
            ("values: deploymentId", $"/api/runs/values?{range}&column=deploymentId", repeats),
            ("versions (deploy comparison)", $"/api/runs/versions?{range}", repeats),
            ("errors (top 50 groups)", $"/api/runs/errors?{range}", repeats),
            ("errors, last 7 days", $"/api/runs/errors?{week}", repeats),
            ("list of one error group (click-through)", $"/api/runs?{range}&filter={Filter("and", ("errorGroup", "eq", [group]))}", repeats),
            ("record view (run, logs, neighbours)", $"/api/runs/run_{middle}?{range}", repeats),
            ("logs of one run", $"/api/logs?{range}&runId=run_{middle}", repeats),
            ($"record view of a run with {BigRunLogs:N0} logs", $"/api/runs/{BigRun}?script=bench", repeats),
            ("  its logs, page 2 (1000, cursor)", $"/api/logs?{bigRun}&cursor={secondPage}", repeats),
            ("  its logs, newest first (1000)", $"/api/logs?script=bench&runId={BigRun}&sort=timestamp:desc&limit=1000", repeats),
            ("  its logs, q=checkpoint", $"/api/logs?{bigRun}&q=checkpoint", repeats),
            ("logs values: level, 90 days", $"/api/logs/values?{range}&column=level", repeats),
            ("logs values: level, last 7 days", $"/api/logs/values?{week}&column=level", repeats),
            ("logs summary (with bounds), 90 days", $"/api/logs/summary?{range}", repeats),
            ("logs summary (with bounds), last 7 days", $"/api/logs/summary?{week}", repeats),
            ("logs trend, all time (daily)", $"/api/logs/trend?{allTime}", repeats),
            ("logs trend, last 7 days (daily)", $"/api/logs/trend?{week}", repeats),
            ("logs trend, last 7 days, bucket=hour", $"/api/logs/trend?{week}&bucket=hour", repeats),
            ($"Parquet export of all {runs:N0} runs", $"/api/runs/export?format=parquet&{range}", Math.Max(3, repeats / 10)),
        };

        // One warm-up round, then rounds that ask every question once, so that whatever else the machine does at some
        // moment weighs on all questions alike; the export, far slower, comes last on its own.
        var latencies = questions.Select(_ => new List<double>()).ToArray();
        var sizes = new int[questions.Length];
        async Task AskAsync(int q, bool measured)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await http.GetAsync(questions[q].Path);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (!response.IsSuccessStatusCode || bytes.Length == 0)
            {
                throw new InvalidOperationException($"{questions[q].Path}: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(bytes)}");
            }

            if (measured)
            {
                latencies[q].Add(elapsed);
                sizes[q] = bytes.Length;
            }
        }

        var rounds = Enumerable.Range(0, questions.Length).Where(q => questions[q].Times == repeats).ToList();
        for (var round = -1; round < repeats; round++)
        {
            foreach (var q in rounds)
            {
                await AskAsync(q, measured: round >= 0);
            }
        }

        foreach (var q in Enumerable.Range(0, questions.Length).Except(rounds))
        {
            for (var i = -1; i < questions[q].Times; i++)
            {
                await AskAsync(q, measured: i >= 0);
            }
        }

        Console.WriteLine($"{"question",-48} {"p50",9} {"p95",9} {"KiB",8}  (ms; {repeats} rounds of every question after a warm-up one; exports fewer)");
        for (var q = 0; q < questions.Length; q++)
        {
            latencies[q].Sort();
            Console.WriteLine($"{questions[q].Name,-48} {Latencies.Percentile(latencies[q], 0.50),9:N1} {Latencies.Percentile(latencies[q], 0.95),9:N1} {sizes[q] / 1024.0,8:N1}");
        }

        Console.WriteLine($"load average at the end: {LoadAverage()}");
        await daemon.StopAsync();
        Directory.Delete(folder, recursive: true);
        return 0;
    }

    /// <summary>The 1, 5 and 15 minute load averages (Linux), to tell a quiet machine's figures from a busy one's.</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>A filter set as the query string carries it.</summary>
    private static string Filter(string op, params (string Column, string Operator, string[] Values)[] conditions) =>
        Uri.EscapeDataString(JsonSerializer.Serialize(new { op, conditions = conditions.Select(c => new { column = c.Column, @operator = c.Operator, values = c.Values }) }));

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, string url)
    {
        using var response = await http.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode
            ? JsonDocument.Parse(body).RootElement.Clone()
            : throw new InvalidOperationException($"{url}: {(int)response.StatusCode} {body}");
    }

    private static readonly DateTime Start = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>The run with <see cref="BigRunLogs"/> korelogger logs (in the middle of the period), for the record view and its log pages.</summary>
    public const string BigRun = "run_big";

    public const int BigRunLogs = 100_000;

    /// <summary>
    /// Fills the daemon's own schema with SQL (much faster than through OTLP): runs every 7.8 s over 90 days (for 1 M
    /// runs), over 12 deployment versions with their own failure rates and response times, 1 run in 50 without a
    /// deployment; failed runs carry one of eight kinds of error message (with ids, UUIDs, numbers and line breaks in
    /// them, about a dozen groups once normalised). Plus <see cref="BigRun"/>, with <see cref="BigRunLogs"/> logs 1 ms
    /// apart (every 1000th says "checkpoint"), appended after the rest as a late export would be.
    /// </summary>
    public static void Generate(string path, int runs, int logsPerRun)
    {
        using var connection = new DuckDBConnection(new StorageOptions { Path = path, MemoryLimit = "8GB" }.ConnectionString());
        connection.Open();
        DuckDbSchema.Apply(connection);
        var step = 90 * 86_400_000_000L / runs;
        Execute(connection, $"""
            INSERT INTO runs
            SELECT 'run_' || i, 'bench', status,
                   CASE WHEN version IS NOT NULL THEN 'dep_' || version END, version,
                   CASE WHEN status = 'Success' THEN took END, took, 'handler_' || (i % 7), started, started + INTERVAL 1 SECOND,
                   CASE WHEN i % 2 = 0 THEN 'API' ELSE 'Tool' END, 'flow_' || (i % 13),
                   CASE WHEN status = 'Failed' THEN CASE (i // 10) % 8
                       WHEN 0 THEN 'ValueError: bad input ' || i
                       WHEN 1 THEN 'TimeoutError: request ' || substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-' || substr(h, 13, 4) || '-'
                                   || substr(h, 17, 4) || '-' || substr(h, 21, 12) || ' timed out after ' || (i % 30 + 1) || ' s'
                       WHEN 2 THEN 'KeyError: ''customer_' || (i % 5000) || ''''
                       WHEN 3 THEN 'HTTPError: 502 Bad Gateway from upstream while handling run_' || i
                       WHEN 4 THEN 'ConnectionError: could not reach 10.0.' || (i % 256) || '.' || (i % 7) || ':5432, trace ' || h
                       WHEN 5 THEN 'ZeroDivisionError: division by zero'
                       WHEN 6 THEN 'Traceback (most recent call last):' || chr(10) || '  File "main.py", line ' || (40 + i % 300) || ', in run'
                                   || chr(10) || 'RuntimeError: step ' || (i % 9) || ' failed'
                       ELSE 'PermissionError: token ' || substr(h, 1, 12) || ' lacks scope read:' || ['orders', 'users', 'billing'][i % 3 + 1]
                   END END,
                   json_object('item', i)::VARCHAR, json_object('ok', true)::VARCHAR, h, substr(h, 1, 16), NULL, NULL,
                   time_bucket(INTERVAL 10 SECOND, started), time_bucket(INTERVAL 10 SECOND, started + INTERVAL 1 SECOND) + INTERVAL 10 SECOND,
                   false, true, now()::TIMESTAMP
            FROM (
                SELECT i, version, md5(i::VARCHAR) AS h, TIMESTAMP '2026-01-01' + to_microseconds(i * {step}) AS started,
                       CASE WHEN (i * 37) % 100 < 4 + 3 * (COALESCE(version, 0) % 4) THEN 'Failed' WHEN i % 1000 = 7 THEN 'In Progress' ELSE 'Success' END AS status,
                       (50 + (i * 7919) % 5000) * (1 + 0.2 * (COALESCE(version, 0) % 3)) AS took
                FROM (SELECT i, CASE WHEN i % 50 <> 17 THEN i * 12 // {runs} + 1 END AS version FROM range({runs}) t(i))
            );
            """);
        Execute(connection, $"""
            INSERT INTO log_lines
            SELECT 'log_' || j, 'run_' || (j // {logsPerRun}), 'bench',
                   ['Debug', 'Info', 'Warning', 'Error'][(j % 4) + 1], 'step ' || (j % {logsPerRun}) || ' of run ' || (j // {logsPerRun}),
                   TIMESTAMP '2026-01-01' + to_microseconds((j // {logsPerRun}) * {step} + (j % {logsPerRun}) * 1000),
                   0, 'korelogger', false, 'dep_' || ((j // {logsPerRun}) * 12 // {runs} + 1), 'flow', 'API', '41',
                   md5((j // {logsPerRun})::VARCHAR), substr(md5(j::VARCHAR), 1, 16), NULL, now()::TIMESTAMP
            FROM range({(long)runs * logsPerRun}) t(j);
            """);
        Execute(connection, $"""
            INSERT INTO runs
            SELECT '{BigRun}', 'bench', 'Success', 'dep_7', 7, 100000, 100000, 'handler_big', started, started + INTERVAL 100 SECOND, 'API', 'flow_big', NULL,
                   json_object('item', 'big')::VARCHAR, json_object('ok', true)::VARCHAR, md5('big'), substr(md5('big'), 1, 16), NULL, NULL,
                   time_bucket(INTERVAL 10 SECOND, started), time_bucket(INTERVAL 10 SECOND, started + INTERVAL 100 SECOND) + INTERVAL 10 SECOND,
                   false, true, now()::TIMESTAMP
            FROM (SELECT {BigRunStart} AS started);
            INSERT INTO log_lines
            SELECT 'big_' || k, '{BigRun}', 'bench', ['Debug', 'Info', 'Warning', 'Error'][(k % 4) + 1],
                   'item ' || k || ' of the big run' || CASE WHEN k % 1000 = 0 THEN ' checkpoint' ELSE '' END,
                   {BigRunStart} + to_microseconds(k * 1000), 0, 'korelogger', false, 'dep_7', 'flow_big', 'API', '41',
                   md5('big'), substr(md5(k::VARCHAR), 1, 16), NULL, now()::TIMESTAMP
            FROM range({BigRunLogs}) t(k);
            """);
        Execute(connection, "CHECKPOINT");
    }

    private const string BigRunStart = "TIMESTAMP '2026-02-15 00:00:03'";

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
