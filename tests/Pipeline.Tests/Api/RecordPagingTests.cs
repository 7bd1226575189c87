using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Api;

/// <summary>
/// A run with 100,000 korelogger logs (two to a millisecond, over 50 s, every 1000th a "checkpoint"), sent over gRPC
/// in batches of 20,000 while another run logs in the same seconds; and a run with 1,005 spans. Read by the tests below.
/// </summary>
#pragma warning disable CA1515 // xunit needs the fixture public
public sealed class BigRunFixture : IAsyncLifetime
{
    public const int Logs = 100_000;

    public const int Spans = 1_005;

    internal TestDaemon Daemon { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Daemon = await TestDaemon.StartAsync(new Dictionary<string, string?> { ["Storage:MemoryLimit"] = "512MB" });
        var client = new TraceService.TraceServiceClient(Daemon.Grpc);
        var trace = NewTraceId();
        var traced = RunSpan("traced", T0.AddMinutes(-5), TimeSpan.FromSeconds(1));
        await client.ExportAsync(Traces("paging", [RunSpan("big", T0, TimeSpan.FromSeconds(60), traceId: trace), traced,
            .. Enumerable.Range(0, Spans).Select(i => Step(traced, i))]), deadline: TestDaemon.Deadline());
        for (var batch = 0; batch < Logs; batch += 20_000)
        {
            var spans = Enumerable.Range(batch, 20_000).Select(k => LogSpan(
                "big", (k % 4) switch { 0 => "DEBUG", 1 => "INFO", 2 => "WARNING", _ => "ERROR" }, Message(k), At(k), trace, logId: LogId(k)));
            var other = Enumerable.Range(batch / 1000, 20).Select(k => LogSpan("other", "INFO", $"other {k} checkpoint", At(k * 1000 + 1)));
            await client.ExportAsync(Traces("paging", [.. spans, .. other]), deadline: DateTime.UtcNow.AddMinutes(2));
        }
    }

    public async Task DisposeAsync() => await Daemon.DisposeAsync();

    /// <summary>A span of the run's trace, the i-th to start.</summary>
    private static Span Step(Span run, int i)
    {
        var span = ChildSpan(run, "traced", $"step {i:0000}");
        span.StartTimeUnixNano += (ulong)i * 100_000;
        return span;
    }

    public static string Message(int k) => k % 1000 == 0 ? $"item {k} checkpoint" : $"item {k}";

    public static string LogId(int k) => $"big-{k:000000}";

    /// <summary>Two logs to a millisecond: order within one is by log id.</summary>
    private static DateTime At(int k) => T0.AddTicks(k / 2 * TimeSpan.TicksPerMillisecond);
}

/// <summary>
/// Writing 100,000 logs keeps both cores busy for seconds: these tests run on their own, after the others, so that
/// the tests with a time limit (the console in Chromium) do not run beside them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BigRunAlone
{
    public const string Name = "a run with 100,000 logs";
}

[Collection(BigRunAlone.Name)]
public sealed class RecordPagingTests(BigRunFixture fixture) : IClassFixture<BigRunFixture>
{
    private readonly HttpClient _api = fixture.Daemon.Api;

    [Fact]
    public async Task Record_HoldsTheFirstPageOfLogs_TheTotalAndACursor_AndIsSmall()
    {
        using var response = await _api.GetAsync("/api/runs/big?script=paging");
        var body = await response.Content.ReadAsByteArrayAsync();
        var record = JsonDocument.Parse(body).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(body.Length < 200_000, $"the record is {body.Length} bytes");
        Assert.Equal(Enumerable.Range(0, 200).Select(BigRunFixture.LogId), record.GetProperty("logs").EnumerateArray().Select(l => l.GetProperty("logId").GetString()));
        Assert.Equal(BigRunFixture.Logs, record.GetProperty("logsTotal").GetInt32());
        Assert.NotNull(record.GetProperty("logsNextCursor").GetString());
    }

    [Fact]
    public async Task Record_HoldsTheFirst1000Spans_AndTheirTotal()
    {
        var record = await Get("/api/runs/traced?script=paging");

        Assert.Equal(1000, record.GetProperty("spans").GetArrayLength());
        Assert.Equal(BigRunFixture.Spans, record.GetProperty("spansTotal").GetInt32());
        Assert.Equal("step 0000", record.GetProperty("spans")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task Record_LogsLimit_IsAPageSize()
    {
        var record = await Get("/api/runs/big?script=paging&logsLimit=1000");

        Assert.Equal(1000, record.GetProperty("logs").GetArrayLength());
        await AssertRefused("/api/runs/big?script=paging&logsLimit=0", "logsLimit must be a whole number from 1 to 1000 (got '0')");
        await AssertRefused("/api/runs/big?script=paging&logsLimit=1001", "logsLimit must be a whole number from 1 to 1000 (got '1001')");
    }

    [Fact]
    public async Task Paging_FromTheRecordsCursor_WalksEveryLogOnceInOrder()
    {
        var record = await Get("/api/runs/big?script=paging");
        var seen = record.GetProperty("logs").EnumerateArray().Select(l => l.GetProperty("logId").GetString()!).ToList();
        var cursor = record.GetProperty("logsNextCursor").GetString();
        var pages = 0;
        while (cursor is not null)
        {
            // No period: the run's logs, whenever they were written (these are from 2025).
            var page = await Get($"/api/logs?script=paging&runId=big&sort=timestamp:asc&limit=1000&cursor={cursor}");
            var items = page.GetProperty("items").EnumerateArray().ToList();
            Assert.Equal(BigRunFixture.Logs, page.GetProperty("total").GetInt32());
            Assert.True(items.Count == 1000 || page.GetProperty("nextCursor").ValueKind == JsonValueKind.Null, $"page {pages} has {items.Count} logs");
            seen.AddRange(items.Select(l => l.GetProperty("logId").GetString()!));
            cursor = page.GetProperty("nextCursor").GetString();
            pages++;
        }

        Assert.Equal(100, pages);
        Assert.Equal(Enumerable.Range(0, BigRunFixture.Logs).Select(BigRunFixture.LogId), seen);
    }

    [Fact]
    public async Task Paging_NewestFirst()
    {
        var first = await Get("/api/logs?script=paging&runId=big&sort=timestamp:desc&limit=1000");
        var second = await Get($"/api/logs?script=paging&runId=big&sort=timestamp:desc&limit=1000&cursor={first.GetProperty("nextCursor").GetString()}");

        var ids = first.GetProperty("items").EnumerateArray().Concat(second.GetProperty("items").EnumerateArray()).Select(l => l.GetProperty("logId").GetString());
        Assert.Equal(Enumerable.Range(0, 2000).Select(i => BigRunFixture.LogId(BigRunFixture.Logs - 1 - i)), ids);
    }

    [Fact]
    public async Task Search_WithinTheRunsLogs()
    {
        var found = await Get("/api/logs?script=paging&runId=big&sort=timestamp:asc&limit=1000&q=CHECKPOINT");
        var page = await Get("/api/logs?script=paging&runId=big&sort=timestamp:asc&limit=60&q=checkpoint");
        var next = await Get($"/api/logs?script=paging&runId=big&sort=timestamp:asc&limit=60&q=checkpoint&cursor={page.GetProperty("nextCursor").GetString()}");

        Assert.Equal(100, found.GetProperty("total").GetInt32());
        Assert.Equal(Enumerable.Range(0, 100).Select(i => BigRunFixture.Message(i * 1000)), found.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("message").GetString()));
        Assert.Equal(40, next.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, next.GetProperty("nextCursor").ValueKind);
    }

    [Fact]
    public async Task Paging_WithAPeriod_ReadsThePartOfTheRunInIt()
    {
        var part = await Get($"/api/logs?script=paging&runId=big&sort=timestamp:asc&limit=10&from={T0.AddSeconds(10):O}&to={T0.AddSeconds(20):O}");
        var summary = await Get("/api/logs/summary?script=paging&runId=big");

        Assert.Equal(20_000, part.GetProperty("total").GetInt32());
        Assert.Equal(BigRunFixture.LogId(20_000), part.GetProperty("items")[0].GetProperty("logId").GetString());
        Assert.Equal(BigRunFixture.Logs, summary.GetProperty("totalLogs").GetInt32());
        Assert.Equal(25_000, summary.GetProperty("byLevel").GetProperty("Error").GetInt32());
    }

    private async Task AssertRefused(string path, string message)
    {
        using var response = await _api.GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    private async Task<JsonElement> Get(string path)
    {
        using var response = await _api.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
