using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Net.Client;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Benchmark;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Lake;

/// <summary>
/// The fleet end to end, as real processes on loopback: three sidecars fed different and overlapping scripts publish
/// into one lake, and a lake-mode daemon over it answers as DuckDB does over the union of the three stores.
/// </summary>
public sealed class FleetTests
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(30);
    private static readonly string[] Nodes = ["node-a", "node-b", "node-c"];
    private static readonly string[][] ScriptsOf = [["alpha", "shared"], ["beta", "shared"], ["shared", "gamma"]];
    private const int RunsPerScript = 40;
    private const string Period = "from=2025-05-14T00:00:00Z&to=2025-05-15T00:00:00Z";

    [Fact]
    public async Task ThreeSidecars_PublishIntoOneLake_AndALakeModeDaemon_AnswersAsDuckDbOverTheUnionOfTheirStores()
    {
        var folder = new TempFolder();
        var lake = Path.Combine(folder.Path, "lake");
        var stores = Nodes.Select(n => Path.Combine(folder.Path, n, "pipeline.duckdb")).ToArray();
        var sidecars = Nodes.Select((node, i) => DaemonProcess.Start(stores[i],
            $"--Lake:Path={lake}", $"--Lake:Node={node}", "--Lake:Delay=00:00:00", "--Lake:Interval=00:00:00.2",
            "--Retention:MaxAge=3650.00:00:00")).ToList();
        try
        {
            await Task.WhenAll(sidecars.Select(s => s.WaitReadyAsync(Ready)));
            await Task.WhenAll(sidecars.Select((s, i) => FeedAsync(s.GrpcPort, Nodes[i], ScriptsOf[i])));

            // Every run of the three reached the lake (the slices are long closed: the next pass takes them).
            var runs = Nodes.Length * 2 * RunsPerScript;
            await Until(() => (long)LakePublishingTests.Lake(lake, "SELECT count(DISTINCT (script, run_id)) FROM read_parquet('{lake}/runs/*/*/*.parquet')").Single()[0]! == runs
                && (long)LakePublishingTests.Lake(lake, "SELECT count(*) FROM read_parquet('{lake}/logs/*/*/*.parquet')").Single()[0]! == runs * 2);
            await Task.WhenAll(sidecars.Select(s => s.StopAsync()));
        }
        finally
        {
            sidecars.ForEach(s => s.Dispose());
        }

        using var fleet = DaemonProcess.Start(Path.Combine(folder.Path, "unused.duckdb"), "--Mode=lake", $"--Lake:Path={lake}");
        await fleet.WaitReadyAsync(Ready);
        using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{fleet.ApiPort}"), Timeout = TestDaemon.Timeout };
        using var union = Union(stores);

        foreach (var script in new[] { "shared", "alpha", "gamma" })
        {
            // The All Runs metrics: totals, failure rate, P90/P99, first and last run.
            var summary = await api.GetFromJsonAsync<JsonElement>($"/api/runs/summary?script={script}&{Period}");
            var expected = Row(union, $"""
                SELECT count(*), count(*) FILTER (WHERE status = 'Failed'),
                       round(100.0 * count(*) FILTER (WHERE status = 'Failed') / NULLIF(count(*) FILTER (WHERE status IN ('Success', 'Failed')), 0), 2),
                       quantile_cont(response_time_ms, 0.9), quantile_cont(response_time_ms, 0.99), min(executed_on), max(executed_on)
                FROM runs WHERE script = '{script}'
                """);
            Assert.Equal((long)expected[0]!, summary.GetProperty("totalRuns").GetInt64());
            Assert.Equal((long)expected[1]!, summary.GetProperty("failedRuns").GetInt64());
            Assert.Equal(Convert.ToDouble(expected[2], CultureInfo.InvariantCulture), summary.GetProperty("failureRate").GetDouble(), 9);
            Assert.Equal((double)expected[3]!, summary.GetProperty("p90Ms").GetDouble(), 9);
            Assert.Equal((double)expected[4]!, summary.GetProperty("p99Ms").GetDouble(), 9);
            Assert.Equal(DateTime.SpecifyKind((DateTime)expected[5]!, DateTimeKind.Utc), summary.GetProperty("firstRunAt").GetDateTime().ToUniversalTime());
            Assert.Equal(DateTime.SpecifyKind((DateTime)expected[6]!, DateTimeKind.Utc), summary.GetProperty("lastRunAt").GetDateTime().ToUniversalTime());

            // The hourly trend: runs, failures and P90/P99 per hour.
            var trend = (await api.GetFromJsonAsync<JsonElement>($"/api/runs/trend?script={script}&bucket=hour&{Period}")).EnumerateArray()
                .Where(p => p.GetProperty("runs").GetInt64() > 0)
                .Select(p => (p.GetProperty("bucketStart").GetDateTime().ToUniversalTime(), p.GetProperty("runs").GetInt64(), p.GetProperty("failed").GetInt64(),
                    Math.Round(p.GetProperty("p90Ms").GetDouble(), 6), Math.Round(p.GetProperty("p99Ms").GetDouble(), 6)))
                .ToList();
            var hours = union.Query($"""
                SELECT date_trunc('hour', executed_on), count(*), count(*) FILTER (WHERE status = 'Failed'),
                       round(quantile_cont(response_time_ms, 0.9), 6), round(quantile_cont(response_time_ms, 0.99), 6)
                FROM runs WHERE script = '{script}' GROUP BY 1 ORDER BY 1
                """).Select(r => (DateTime.SpecifyKind((DateTime)r[0]!, DateTimeKind.Utc), (long)r[1]!, (long)r[2]!, (double)r[3]!, (double)r[4]!)).ToList();
            Assert.Equal(hours, trend);

            // The logs' metrics: total and per level.
            var logs = await api.GetFromJsonAsync<JsonElement>($"/api/logs/summary?script={script}&{Period}");
            Assert.Equal((long)Row(union, $"SELECT count(*) FROM logs WHERE script = '{script}'")[0]!, logs.GetProperty("totalLogs").GetInt64());
            Assert.Equal(
                union.Query($"SELECT level, count(*) FROM logs WHERE script = '{script}' GROUP BY 1 ORDER BY 1").Select(r => ((string)r[0]!, (long)r[1]!)),
                logs.GetProperty("byLevel").EnumerateObject().Select(l => (l.Name, l.Value.GetInt64())).OrderBy(l => l.Name, StringComparer.Ordinal));

            // The exports: the same rows as the union's, with the node that published each.
            var runsFile = await DownloadAsync(api, $"/api/runs/export?script={script}&format=parquet&{Period}", folder);
            Assert.Equal(
                union.Query($"SELECT run_id, status, response_time_ms, executed_on, node FROM runs WHERE script = '{script}' ORDER BY run_id"),
                Database.Query(":memory:", $"SELECT runId, status, responseTimeMs, executedOn, node FROM read_parquet('{runsFile}') ORDER BY runId"));
            var logsFile = await DownloadAsync(api, $"/api/logs/export?script={script}&format=parquet&{Period}", folder);
            Assert.Equal(
                union.Query($"SELECT run_id, log_id, level, message, timestamp, node FROM logs WHERE script = '{script}' ORDER BY ALL"),
                Database.Query(":memory:", $"SELECT runId, logId, level, message, timestamp, node FROM read_parquet('{logsFile}') ORDER BY ALL"));
        }

        // The shared script's runs came from all three nodes, and the node filter narrows to one.
        var fromB = await api.GetFromJsonAsync<JsonElement>($"/api/runs/summary?script=shared&{Period}&filter=" + Uri.EscapeDataString("""{"op":"and","conditions":[{"column":"node","operator":"eq","values":["node-b"]}]}"""));
        Assert.Equal(RunsPerScript, fromB.GetProperty("totalRuns").GetInt64());
    }

    [Fact]
    public async Task ASidecarKilledMidPublish_RestartsWithoutLosingOrRepeatingARow()
    {
        var folder = new TempFolder();
        var lake = Path.Combine(folder.Path, "lake");
        var store = Path.Combine(folder.Path, "node", "pipeline.duckdb");
        string[] settings = ["--Logging:LogLevel:Pipeline.Lake=Information", $"--Lake:Path={lake}", "--Lake:Node=node-k", "--Lake:Delay=00:00:00", "--Lake:Interval=00:00:00.2", "--Retention:MaxAge=3650.00:00:00"];

        // Two days of runs, fed while stopped from publishing: the first pass has many slices to write.
        using (var seeding = DaemonProcess.Start(store, "--Retention:MaxAge=3650.00:00:00"))
        {
            await seeding.WaitReadyAsync(Ready);
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{seeding.GrpcPort}");
            var client = new TraceService.TraceServiceClient(channel);
            for (var i = 0; i < 96; i++)
            {
                var start = T0.AddMinutes(30 * i);
                var trace = NewTraceId();
                await client.ExportAsync(Traces(i % 2 == 0 ? "even" : "odd",
                    LogSpan($"run-{i:D3}", "INFO", "one", start.AddMilliseconds(1), trace),
                    LogSpan($"run-{i:D3}", "INFO", "two", start.AddMilliseconds(2), trace),
                    RunSpan($"run-{i:D3}", start, TimeSpan.FromMilliseconds(100 + i), traceId: trace)), deadline: TestDaemon.Deadline());
            }

            await seeding.StopAsync();
        }

        // Publishing starts, and the process is killed as soon as its first files appear: mid-pass, or just after.
        using (var killed = DaemonProcess.Start(store, settings))
        {
            await Until(() => Directory.Exists(lake) && Directory.EnumerateFiles(lake, "*", SearchOption.AllDirectories).Any());
            killed.Process.Kill();
            await killed.Process.WaitForExitAsync().WaitAsync(TestDaemon.Timeout);
        }

        using (var restarted = DaemonProcess.Start(store, settings))
        {
            await restarted.WaitReadyAsync(Ready);
            try
            {
                await Until(() => LakePublishingTests.Files(lake) is { Count: > 0 } files && files.Exists(f => f.StartsWith("logs/", StringComparison.Ordinal))
                    && (long)LakePublishingTests.Lake(lake, "SELECT count(*) FROM read_parquet('{lake}/runs/*/*/*.parquet')").Single()[0]! >= 96
                    && (long)LakePublishingTests.Lake(lake, "SELECT count(*) FROM read_parquet('{lake}/logs/*/*/*.parquet')").Single()[0]! >= 192);
            }
            catch (Xunit.Sdk.XunitException)
            {
                await restarted.StopAsync();
                throw new InvalidOperationException($"the lake holds {LakePublishingTests.Files(lake).Count} files; the daemon said: {await restarted.Output} {await restarted.Errors}");
            }

            await Task.Delay(1000); // A pass that might still repeat something would have run by now.
            await restarted.StopAsync();
        }

        // Every row once: as many rows in the lake as in the store, the same ones, no half-written file left.
        Assert.Empty(Directory.EnumerateFiles(lake, "*.partial", SearchOption.AllDirectories));
        Assert.Equal(
            Database.Query(store, "SELECT script, run_id, status FROM runs ORDER BY ALL"),
            LakePublishingTests.Lake(lake, "SELECT script, run_id, status FROM read_parquet('{lake}/runs/*/*/*.parquet', hive_partitioning = true) ORDER BY ALL"));
        Assert.Equal(
            Database.Query(store, "SELECT script, run_id, log_id, message FROM log_lines ORDER BY ALL"),
            LakePublishingTests.Lake(lake, "SELECT script, run_id, log_id, message FROM read_parquet('{lake}/logs/*/*/*.parquet', hive_partitioning = true) ORDER BY ALL"));
        Assert.Equal(0L, Database.Query(store, "SELECT count(*) FROM lake_files WHERE state <> 'published'").Single()[0]);
    }

    /// <summary>Runs of each script at seven-minute steps from T0 (several hourly slices), one in six failed, two logs and a child span each.</summary>
    private static async Task FeedAsync(int grpcPort, string node, string[] scripts)
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        var client = new TraceService.TraceServiceClient(channel);
        var random = new Random(node.GetHashCode(StringComparison.Ordinal) & 0xffff);
        foreach (var script in scripts)
        {
            for (var i = 0; i < RunsPerScript; i++)
            {
                var runId = $"{node}-{script}-{i:D3}";
                var start = T0.AddMinutes(7 * i).AddSeconds(random.Next(0, 60));
                var trace = NewTraceId();
                var run = RunSpan(runId, start, TimeSpan.FromMilliseconds(50 + random.Next(0, 2000)), failed: i % 6 == 5, traceId: trace);
                await client.ExportAsync(Traces(script,
                    LogSpan(runId, "INFO", $"step one of {runId}", start.AddMilliseconds(5), trace),
                    LogSpan(runId, i % 6 == 5 ? "ERROR" : "WARNING", "step two", start.AddMilliseconds(9), trace),
                    run,
                    ChildSpan(run, runId)), deadline: TestDaemon.Deadline());
            }
        }
    }

    /// <summary>DuckDB over the three stores (attached read-only once their daemons stopped), as one store holding all their data, with the node of each.</summary>
    private static UnionStore Union(string[] stores) => new(stores.Select((path, i) => (path, Nodes[i])).ToArray());

    private static object?[] Row(UnionStore union, string sql) => union.Query(sql).Single();

    private static async Task<string> DownloadAsync(HttpClient api, string uri, TempFolder folder)
    {
        var path = Path.Combine(folder.Path, $"{Guid.NewGuid():N}.parquet");
        using var response = await api.GetAsync(new Uri(uri, UriKind.Relative));
        Assert.True(response.IsSuccessStatusCode, $"{uri}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        await File.WriteAllBytesAsync(path, await response.Content.ReadAsByteArrayAsync());
        return path;
    }

    private static Task Until(Func<bool> condition) => Poll.Until(condition, TimeSpan.FromSeconds(60));

    /// <summary>An in-memory DuckDB with the stores attached and runs/logs views over their union.</summary>
    private sealed class UnionStore : IDisposable
    {
        private readonly DuckDB.NET.Data.DuckDBConnection _connection = new("Data Source=:memory:");

        public UnionStore((string Path, string Node)[] stores)
        {
            _connection.Open();
            var attach = string.Join("\n", stores.Select((s, i) => $"ATTACH '{s.Path}' AS s{i} (READ_ONLY);"));
            string UnionOf(string table) => string.Join(" UNION ALL ", stores.Select((s, i) => $"SELECT *, '{s.Node}' AS node FROM s{i}.{table}"));
            Query($"{attach}\nCREATE VIEW runs AS {UnionOf("runs")};\nCREATE VIEW logs AS {UnionOf("logs")};");
        }

        public List<object?[]> Query(string sql) => Database.Query(_connection, sql);

        public void Dispose() => _connection.Dispose();
    }
}
