using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Query;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Api;

/// <summary>The heavy questions (SQL, exports) have their own slots, limits in time and bytes, and busy answers.</summary>
public sealed class QueryIsolationTests
{
    /// <summary>The runs crossed six times (40^6 rows): far more work than any limit in these tests allows.</summary>
    private const string Endless =
        "SELECT sum(a.response_time_ms * b.response_time_ms - c.response_time_ms * d.response_time_ms + e.response_time_ms / f.response_time_ms) FROM runs a, runs b, runs c, runs d, runs e, runs f";

    [Fact]
    public async Task Sql_AllSlotsBusy_Is429WithRetryAfter_AndFreeAgainAfter()
    {
        await using var daemon = await StartWithRunsAsync(new()
        {
            ["Api:MaxConcurrentSql"] = "1",
            ["Api:QueueTimeout"] = "00:00:00.200",
            ["Api:SqlTimeout"] = "00:00:03",
        });

        var holding = daemon.Api.PostAsJsonAsync("/api/sql", new { sql = Endless });
        await WaitUntilRunningAsync(daemon, QueryKind.Sql);
        using var busy = await daemon.Api.PostAsJsonAsync("/api/sql", new { sql = "SELECT count(*) AS n FROM runs" });

        Assert.Equal(HttpStatusCode.TooManyRequests, busy.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), busy.Headers.RetryAfter?.Delta);
        Assert.Contains("1 SQL queries are already running", await busy.Content.ReadAsStringAsync());

        using var held = await holding;
        Assert.Equal(HttpStatusCode.BadRequest, held.StatusCode);
        await WaitUntilRunningAsync(daemon, QueryKind.Sql, expected: 0);
        using var free = await daemon.Api.PostAsJsonAsync("/api/sql", new { sql = "SELECT count(*) AS n FROM runs" });
        Assert.Equal(HttpStatusCode.OK, free.StatusCode);
    }

    [Fact]
    public async Task Sql_Timeout_AnswersOnTime_EvenWithQueriesQueuedBehindIt()
    {
        await using var daemon = await StartWithRunsAsync(new()
        {
            ["Api:MaxConcurrentSql"] = "1",
            ["Api:QueueTimeout"] = "00:00:10",
            ["Api:SqlTimeout"] = "00:00:02",
        });

        // Three at once on one slot: each answer comes within its own 2 s, whether it ran, queued, or both.
        var clock = Stopwatch.StartNew();
        var answers = await Task.WhenAll(Enumerable.Range(0, 3).Select(async _ =>
        {
            using var response = await daemon.Api.PostAsJsonAsync("/api/sql", new { sql = Endless });
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync(), clock.Elapsed);
        }));

        Assert.All(answers, a => Assert.InRange(a.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(3)));
        Assert.Contains(answers, a => a.StatusCode == HttpStatusCode.BadRequest && a.Body.Contains("ran longer than 2 s", StringComparison.Ordinal));
        Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.BadRequest, HttpStatusCode.TooManyRequests }));
    }

    [Fact]
    public async Task HeavySql_HoldingDuckDbsMemory_IsStoppedWhenIngestCommits_AndToldToAskAgain()
    {
        await using var daemon = await StartWithRunsAsync(new()
        {
            ["Storage:MemoryLimit"] = "64MB",
            ["Api:SqlTimeout"] = "00:00:25",
        }, runs: 400);
        var client = new TraceService.TraceServiceClient(daemon.Grpc);

        // A distinct count over the runs crossed with themselves three times: a hash table that grows past a quarter
        // of DuckDB's 64 MB while exports keep committing.
        var heavy = daemon.Api.PostAsJsonAsync("/api/sql", new
        {
            sql = "SELECT count(DISTINCT a.run_id || b.run_id || c.run_id || a.input) AS n FROM runs a, runs b, runs c",
        });
        var sent = 0;
        while (!heavy.IsCompleted && sent < 500)
        {
            await client.ExportAsync(Traces("s", RunSpan($"more{sent++}", T0.AddHours(1).AddSeconds(sent), TimeSpan.FromMilliseconds(5))), deadline: TestDaemon.Deadline());
            await Task.Delay(20);
        }

        using var answer = await heavy;
        var body = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == HttpStatusCode.ServiceUnavailable, $"{answer.StatusCode}: {body}");
        Assert.Contains("stopped to let ingest commit", body);
        Assert.NotNull(answer.Headers.RetryAfter);
        Assert.Equal(sent + 400L, daemon.Scalar("SELECT count(*) FROM runs"));
    }

    [Fact]
    public async Task ListQueries_AreStoppedAtQueryTimeout()
    {
        await using var daemon = await StartWithRunsAsync(new() { ["Api:QueryTimeout"] = "00:00:01" });
        var store = daemon.Services.GetRequiredService<ReadStore>();

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => store.ListAsync(Endless, [], r => r.GetValue(0), CancellationToken.None));

        Assert.IsType<QueryTimeoutException>(error);
        Assert.Contains("ran longer than 1 s", error.Message);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(4)); // Generous: the suite runs tests side by side on two cores.
    }

    [Fact]
    public async Task Export_AllSlotsBusy_Is429_WhileADownloadHoldsItsSlot()
    {
        await using var daemon = await StartWithRunsAsync(new()
        {
            ["Api:MaxConcurrentExports"] = "1",
            ["Api:QueueTimeout"] = "00:00:00.200",
        });

        // 16 MB of CSV: more than loopback's socket buffers hold, so the download lasts as long as the client lets it.
        var client = new TraceService.TraceServiceClient(daemon.Grpc);
        for (var batch = 0; batch < 4; batch++)
        {
            var runs = Enumerable.Range(0, 400).Select(i =>
            {
                var run = RunSpan($"big{batch}-{i}", T0.AddMinutes(batch).AddMilliseconds(i), TimeSpan.FromMilliseconds(5), failed: true);
                run.Status.Message = new string('e', 10_000);
                return run;
            });
            await client.ExportAsync(Traces("s", [.. runs]), deadline: TestDaemon.Deadline());
        }

        var export = $"/api/runs/export?script=s&from={T0.AddDays(-1):O}&to={T0.AddDays(1):O}";

        var first = await daemon.Api.GetAsync(export, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using (var busy = await daemon.Api.GetAsync(export))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, busy.StatusCode);
            Assert.NotNull(busy.Headers.RetryAfter);
            Assert.Contains("1 exports are already running", await busy.Content.ReadAsStringAsync());
        }

        await first.Content.ReadAsByteArrayAsync();
        first.Dispose();
        await WaitUntilRunningAsync(daemon, QueryKind.Export, expected: 0);
        using var again = await daemon.Api.GetAsync(export);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task Export_RefusedForItsOwnSake_NeverHoldsASlot()
    {
        await using var daemon = await StartWithRunsAsync(new()
        {
            ["Api:MaxConcurrentExports"] = "1",
            ["Api:QueueTimeout"] = "00:00:00.200",
        });
        var range = $"script=s&from={T0.AddDays(-1):O}&to={T0.AddDays(1):O}";

        for (var i = 0; i < 3; i++)
        {
            using var refused = await daemon.Api.GetAsync($"/api/runs/export?{range}&format=xlsx");
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            using var badFilter = await daemon.Api.GetAsync($"/api/logs/export?{range}&filter=nonsense");
            Assert.Equal(HttpStatusCode.BadRequest, badFilter.StatusCode);
        }

        Assert.Equal(0, daemon.Services.GetRequiredService<QueryAdmission>().Running(QueryKind.Export));
        using var export = await daemon.Api.GetAsync($"/api/runs/export?{range}");
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
    }

    [Fact]
    public async Task Export_PassingTheFolderCap_IsRefusedWithItsReason_AndLeavesNoFile()
    {
        await using var daemon = await StartWithRunsAsync(new() { ["Api:ExportFolderMaxBytes"] = "2048" }, runs: 300);
        var range = $"script=s&from={T0.AddDays(-1):O}&to={T0.AddDays(1):O}";

        using var refused = await daemon.Api.GetAsync($"/api/runs/export?{range}");
        var oneRun = Uri.EscapeDataString("""{"op":"and","conditions":[{"column":"runId","operator":"eq","values":["r7"]}]}""");
        using var small = await daemon.Api.GetAsync($"/api/runs/export?{range}&filter={oneRun}");

        Assert.True(HttpStatusCode.BadRequest == refused.StatusCode, await refused.Content.ReadAsStringAsync());
        Assert.True(HttpStatusCode.OK == small.StatusCode, await small.Content.ReadAsStringAsync());
        Assert.Contains("passed the export folder's cap of 2048 bytes (Api:ExportFolderMaxBytes)", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
        Assert.Contains("r7", await small.Content.ReadAsStringAsync());
        // The served file goes when its response has ended on the server, a moment after the client has read it.
        var exports = Path.Combine(daemon.Folder.Path, "exports");
        var until = DateTime.UtcNow + TestDaemon.Timeout;
        while (Directory.GetFiles(exports).Length > 0 && DateTime.UtcNow < until)
        {
            await Task.Delay(20);
        }

        Assert.Empty(Directory.GetFiles(exports));
    }

    [Fact]
    public async Task Spill_IsCappedByMaxTempBytes_InTheFolderBesideTheDatabase()
    {
        await using var daemon = await StartWithRunsAsync(new()
        {
            ["Storage:MemoryLimit"] = "100MB",
            ["Storage:MaxTempBytes"] = "1MiB",
        });
        var store = daemon.Services.GetRequiredService<ReadStore>();

        var error = await Assert.ThrowsAsync<DuckDBException>(() => store.ListAsync(
            "SELECT count(*) FROM (SELECT h FROM (SELECT md5(range::VARCHAR) || md5((range + 1)::VARCHAR) AS h FROM range(10000000)) ORDER BY h)",
            [], r => r.GetValue(0), CancellationToken.None));

        Assert.True(error.Message.Contains("failed to offload data block", StringComparison.Ordinal), error.Message);
        Assert.Equal("1.0 MiB", daemon.Scalar("SELECT current_setting('max_temp_directory_size')"));
        Assert.Equal(daemon.DatabasePath + ".tmp", daemon.Scalar("SELECT current_setting('temp_directory')"));
    }

    [Fact]
    public async Task ApiBody_OverTheLimit_Is413WithItsReason_DeclaredOrChunked()
    {
        await using var daemon = await TestDaemon.StartAsync(new Dictionary<string, string?> { ["Api:MaxRequestBodyBytes"] = "4096" });
        var big = JsonSerializer.Serialize(new { sql = "SELECT 1 -- " + new string('x', 10_000) });

        using var declared = await daemon.Api.PostAsync("/api/sql", new StringContent(big, Encoding.UTF8, "application/json"));
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        chunked.Headers.ContentType = new("application/json");
        using var streamed = await daemon.Api.PostAsync("/api/sql", chunked);
        using var fits = await daemon.Api.PostAsJsonAsync("/api/sql", new { sql = "SELECT 1 AS one" });

        foreach (var response in new[] { declared, streamed })
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Contains("exceeds the API's 4096-byte limit (Api:MaxRequestBodyBytes)", await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(HttpStatusCode.OK, fits.StatusCode);
    }

    private static async Task<TestDaemon> StartWithRunsAsync(Dictionary<string, string?> settings, int runs = 40)
    {
        var daemon = await TestDaemon.StartAsync(settings);
        var client = new TraceService.TraceServiceClient(daemon.Grpc);
        await client.ExportAsync(
            Traces("s", [.. Enumerable.Range(0, runs).Select(i => RunSpan($"r{i}", T0.AddSeconds(i), TimeSpan.FromMilliseconds(10 + i)))]),
            deadline: TestDaemon.Deadline());
        return daemon;
    }

    /// <summary>Waits until as many heavy queries of this kind hold a slot as <paramref name="expected"/>.</summary>
    private static async Task WaitUntilRunningAsync(TestDaemon daemon, QueryKind kind, int expected = 1)
    {
        var admission = daemon.Services.GetRequiredService<QueryAdmission>();
        var deadline = DateTime.UtcNow + TestDaemon.Timeout;
        while (admission.Running(kind) != expected)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{kind} running: {admission.Running(kind)}, expected {expected}");
            await Task.Delay(20);
        }
    }
}
