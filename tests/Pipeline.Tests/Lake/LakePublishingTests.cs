using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Lake;

/// <summary>Publishing closed slices as Parquet files, read back with DuckDB as any engine would read the lake.</summary>
public sealed class LakePublishingTests
{
    /// <summary>A daemon publishing hourly slices as soon as they end, checking every 200 ms.</summary>
    internal static Dictionary<string, string?> Publishing(string lake, string node = "node-a") => new()
    {
        ["Lake:Path"] = lake,
        ["Lake:Node"] = node,
        ["Lake:Delay"] = "00:00:00",
        ["Lake:Interval"] = "00:00:00.2",
    };

    [Fact]
    public async Task ClosedSlices_OfRunsLogsAndSpans_ArePublishedInTheHiveLayout_WithTheStoresRows_AndOpenOnesWait()
    {
        var folder = new TempFolder();
        var lake = Path.Combine(folder.Path, "lake");
        await using var daemon = await TestDaemon.StartAsync(Publishing(lake), folder);
        var client = new TraceService.TraceServiceClient(daemon.Grpc);
        var (logs, run) = SeedKoreloggerRun("run_1");
        await client.ExportAsync(Traces("billing/nightly's", [.. logs, run, ChildSpan(run, "run_1")]), deadline: TestDaemon.Deadline());
        await client.ExportAsync(Traces("other", LogSpan("run_2", "INFO", "an hour later", T0.AddHours(1))), deadline: TestDaemon.Deadline());
        // Now: its slice has not ended, so it waits.
        await client.ExportAsync(Traces("other", LogSpan("run_now", "INFO", "still going", DateTime.UtcNow)), deadline: TestDaemon.Deadline());

        var files = await WaitForFilesAsync(lake, 5);

        // Log spans are logs: the second script has no spans.
        Assert.Equal(
            [
                "logs/script=billing%2Fnightly%27s/date=2025-05-14/node-a-20250514T0600Z-0001.parquet",
                "logs/script=other/date=2025-05-14/node-a-20250514T0700Z-0001.parquet",
                "runs/script=billing%2Fnightly%27s/date=2025-05-14/node-a-20250514T0600Z-0001.parquet",
                "runs/script=other/date=2025-05-14/node-a-20250514T0700Z-0001.parquet",
                "spans/script=billing%2Fnightly%27s/date=2025-05-14/node-a-20250514T0600Z-0001.parquet",
            ],
            files);
        Assert.Empty(Directory.EnumerateFiles(lake, "*.partial", SearchOption.AllDirectories));

        // The files hold the store's rows, every column, with the node; the script comes from the file, as stored.
        var stored = daemon.Query("SELECT run_id, script, status FROM runs WHERE run_id <> 'run_now' ORDER BY run_id");
        var published = Lake(lake, "SELECT run_id, script, status FROM read_parquet('{lake}/runs/*/*/*.parquet', hive_partitioning = true) ORDER BY run_id");
        Assert.Equal(stored, published);
        Assert.Equal(
            daemon.Query("SELECT log_id, level, message, timestamp, mirrored FROM log_lines WHERE run_id <> 'run_now' ORDER BY ALL"),
            Lake(lake, "SELECT log_id, level, message, timestamp, mirrored FROM read_parquet('{lake}/logs/*/*/*.parquet') ORDER BY ALL"));
        Assert.Equal(
            daemon.Query("SELECT span_id, name, start_time FROM spans ORDER BY ALL"),
            Lake(lake, "SELECT span_id, name, start_time FROM read_parquet('{lake}/spans/*/*/*.parquet') ORDER BY ALL"));
        Assert.Equal(["node-a"], Lake(lake, "SELECT DISTINCT node FROM read_parquet('{lake}/*/*/*/*.parquet', union_by_name = true)").Select(r => r[0]));
        Assert.Equal(
            [false],
            Lake(lake, "SELECT DISTINCT revision FROM read_parquet('{lake}/logs/*/*/*.parquet')").Select(r => r[0]));
    }

    [Fact]
    public async Task LateRows_GoToANewFileOfTheirSlice_AndAChangedRunIsPublishedAgain_ReadersKeepTheLatest()
    {
        var folder = new TempFolder();
        var lake = Path.Combine(folder.Path, "lake");
        await using var daemon = await TestDaemon.StartAsync(Publishing(lake), folder);
        var client = new TraceService.TraceServiceClient(daemon.Grpc);
        var trace = NewTraceId();
        await client.ExportAsync(Traces("s", LogSpan("run_late", "INFO", "started", T0.AddSeconds(1), trace)), deadline: TestDaemon.Deadline());
        await WaitForFilesAsync(lake, 2);
        Assert.Equal(["In Progress"], Lake(lake, "SELECT status FROM read_parquet('{lake}/runs/*/*/*.parquet')").Select(r => r[0]));

        // The run ends, and a line of it arrives late: both after the slice was published.
        await client.ExportAsync(
            Traces("s", LogSpan("run_late", "INFO", "late line", T0.AddSeconds(2), trace), RunSpan("run_late", T0, TimeSpan.FromSeconds(3), traceId: trace)),
            deadline: TestDaemon.Deadline());
        var files = await WaitForFilesAsync(lake, 4);

        Assert.Contains("logs/script=s/date=2025-05-14/node-a-20250514T0600Z-0002.parquet", files);
        Assert.Contains("runs/script=s/date=2025-05-14/node-a-20250514T0600Z-0002.parquet", files);
        // Both versions of the run are in the lake; the latest by updated_at is the store's.
        Assert.Equal(2L, Lake(lake, "SELECT count(*) FROM read_parquet('{lake}/runs/*/*/*.parquet')").Single()[0]);
        Assert.Equal(
            daemon.Query("SELECT run_id, status, response_time_ms FROM runs"),
            Lake(lake, """
                SELECT run_id, status, response_time_ms FROM read_parquet('{lake}/runs/*/*/*.parquet')
                QUALIFY row_number() OVER (PARTITION BY script, run_id ORDER BY updated_at DESC) = 1
                """));
        // The late file holds only what was new or changed, and says it revises the slice.
        Assert.Equal(
            [("late line", true)],
            Lake(lake, "SELECT message, revision FROM read_parquet('{lake}/logs/*/*/*-0002.parquet')").Select(r => ((string)r[0]!, (bool)r[1]!)));
        Assert.Equal(2L, Lake(lake, "SELECT count(*) FROM read_parquet('{lake}/logs/*/*/*.parquet')").Single()[0]);
    }

    [Fact]
    public async Task ARestart_NeitherLosesNorRepeatsASlice_AndAPassCutShortIsDoneAgain()
    {
        var folder = new TempFolder();
        var lake = Path.Combine(folder.Path, "lake");
        var daemon = await TestDaemon.StartAsync(Publishing(lake), folder);
        await new TraceService.TraceServiceClient(daemon.Grpc).ExportAsync(Run("run_1", T0), deadline: TestDaemon.Deadline());
        var before = await WaitForFilesAsync(lake, 3);
        await daemon.StopAsync();

        // As a crash in the middle of a pass leaves it: a file recorded as being written, whole, and another half-written.
        const string Unfinished = "runs/script=s/date=2025-05-14/node-a-20250514T0800Z-0001.parquet";
        const string Half = "logs/script=s/date=2025-05-14/node-a-20250514T0800Z-0001.parquet";
        foreach (var path in new[] { Unfinished, Half })
        {
            Database.Query(daemon.DatabasePath, $"""
                INSERT INTO lake_files VALUES ('{path.Split('/')[0]}', 's', TIMESTAMP '2025-05-14 08:00:00', 1, 'node-a', '{path}', 1, NULL, 'writing', now(), NULL)
                """);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(lake, Unfinished))!);
        File.Copy(Path.Combine(lake, before.First(f => f.StartsWith("runs/", StringComparison.Ordinal))), Path.Combine(lake, Unfinished));
        File.WriteAllText(Path.Combine(lake, Half + ".partial"), "half a file");

        await using var restarted = await daemon.RestartAsync(Publishing(lake));
        await new TraceService.TraceServiceClient(restarted.Grpc).ExportAsync(Run("run_2", T0.AddHours(3)), deadline: TestDaemon.Deadline());
        var after = await WaitForFilesAsync(lake, 6);

        // The first slice's files are the same ones; the next slice has its own; the unfinished pass left nothing.
        Assert.Equal(before, after.Where(f => f.Contains("T0600Z", StringComparison.Ordinal)));
        Assert.Equal(3, after.Count(f => f.Contains("T0900Z", StringComparison.Ordinal)));
        Assert.DoesNotContain(Unfinished, after);
        Assert.Empty(Directory.EnumerateFiles(lake, "*.partial", SearchOption.AllDirectories));
        Assert.Equal(0L, restarted.Scalar("SELECT count(*) FROM lake_files WHERE state <> 'published'"));
        Assert.Equal(after, restarted.Query("SELECT path FROM lake_files ORDER BY path").Select(r => (string)r[0]!));
        Assert.Equal(2L, Lake(lake, "SELECT count(*) FROM read_parquet('{lake}/runs/*/*/*.parquet')").Single()[0]);
    }

    [Fact]
    public async Task AScriptNameTooLongForAFolder_IsPublishedUnderItsShortenedName_AndTheOthersAsAlways()
    {
        var folder = new TempFolder();
        var lake = Path.Combine(folder.Path, "lake");
        await using var daemon = await TestDaemon.StartAsync(Publishing(lake), folder);
        var client = new TraceService.TraceServiceClient(daemon.Grpc);
        var longName = string.Concat(Enumerable.Repeat("ночной отчёт ", 19)).Trim();
        await client.ExportAsync(Traces(longName, LogSpan("run_long", "INFO", "a long name", T0)), deadline: TestDaemon.Deadline());
        await client.ExportAsync(Traces("short", LogSpan("run_short", "INFO", "a short name", T0)), deadline: TestDaemon.Deadline());

        var files = await WaitForFilesAsync(lake, 4);

        var escaped = Pipeline.Lake.LakeLayout.Escape(longName);
        Assert.Contains($"runs/script={escaped}/date=2025-05-14/node-a-20250514T0600Z-0001.parquet", files);
        Assert.Contains("runs/script=short/date=2025-05-14/node-a-20250514T0600Z-0001.parquet", files);
        // As stored in the file; under the folder's shortened name for a reader with Hive partitioning.
        Assert.Equal(longName, Lake(lake, $"SELECT script FROM read_parquet('{{lake}}/runs/script={escaped}/*/*.parquet', hive_partitioning = false)").Single()[0]);
        Assert.EndsWith(escaped[^17..], (string)Lake(lake, "SELECT script FROM read_parquet('{lake}/runs/*/*/*.parquet', hive_partitioning = true) WHERE run_id = 'run_long'").Single()[0]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDocs_QuoteTheReaderViewsAsTheDaemonRunsThem_AndAnyDuckDbReadsAPublishedLakeWithThem()
    {
        var views = Pipeline.Lake.LakeCatalog.ReaderViews().TrimEnd('\n');
        foreach (var page in new[] { "docs/fleet.md", "docs/lake-mode.md" })
        {
            Assert.Contains(views, await File.ReadAllTextAsync(Path.Combine(Hosting.Repository.Root(), page)), StringComparison.Ordinal);
        }

        var folder = new TempFolder();
        var lake = Path.Combine(folder.Path, "lake");
        await using var daemon = await TestDaemon.StartAsync(Publishing(lake), folder);
        var (logs, run) = SeedKoreloggerRun("run_1");
        await new TraceService.TraceServiceClient(daemon.Grpc).ExportAsync(Traces("s", [.. logs, run, ChildSpan(run, "run_1")]), deadline: TestDaemon.Deadline());
        await WaitForFilesAsync(lake, 3);

        // As a user of the DuckDB CLI would: the views, then questions; the answers are the store's, with the node.
        using var duck = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        duck.Open();
        Database.Query(duck, Pipeline.Lake.LakeCatalog.Views(lake) + "\nSELECT 1");
        Assert.Equal(daemon.Query("SELECT run_id, status, 'node-a' FROM runs"), Database.Query(duck, "SELECT run_id, status, node FROM runs"));
        Assert.Equal(
            daemon.Query("SELECT log_id, level, message FROM logs ORDER BY ALL"),
            Database.Query(duck, "SELECT log_id, level, message FROM logs ORDER BY ALL"));
        Assert.Equal(daemon.Scalar("SELECT count(*) FROM spans"), Database.Query(duck, "SELECT count(*) FROM spans").Single()[0]);
    }

    /// <summary>A run of script s at <paramref name="start"/>: three logs, its run span and a child span.</summary>
    internal static ExportTraceServiceRequest Run(string runId, DateTime start)
    {
        var trace = NewTraceId();
        var run = RunSpan(runId, start, TimeSpan.FromMilliseconds(50), traceId: trace);
        return Traces("s",
            LogSpan(runId, "INFO", "one", start.AddMilliseconds(1), trace),
            LogSpan(runId, "WARNING", "two", start.AddMilliseconds(2), trace),
            LogSpan(runId, "ERROR", "three", start.AddMilliseconds(3), trace),
            run,
            ChildSpan(run, runId));
    }

    /// <summary>Queries the lake with an in-memory DuckDB, as an engine outside the daemon would; <c>{lake}</c> stands for its folder.</summary>
    internal static List<object?[]> Lake(string lake, string sql) => Database.Query(":memory:", sql.Replace("{lake}", lake, StringComparison.Ordinal));

    /// <summary>Waits until the lake holds <paramref name="count"/> Parquet files (and no more arrive for a moment); their paths, relative, sorted.</summary>
    internal static async Task<List<string>> WaitForFilesAsync(string lake, int count)
    {
        var deadline = DateTime.UtcNow + TestDaemon.Timeout;
        while (true)
        {
            var files = Files(lake);
            if (files.Count >= count)
            {
                await Task.Delay(500);
                return Files(lake);
            }

            Assert.True(DateTime.UtcNow < deadline, $"The lake holds {files.Count} files after {TestDaemon.Timeout.TotalSeconds} s, not {count}: {string.Join(", ", files)}");
            await Task.Delay(100);
        }
    }

    internal static List<string> Files(string lake) => Directory.Exists(lake)
        ? Directory.EnumerateFiles(lake, "*.parquet", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(lake, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList()
        : [];
}
