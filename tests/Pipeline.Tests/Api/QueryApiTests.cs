using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Api;

/// <summary>A daemon fed over OTLP once, shared by the query API tests (they only read).</summary>
#pragma warning disable CA1515 // xunit needs the fixture public
public sealed class QueryApiFixture : IAsyncLifetime
{
    internal TestDaemon Daemon { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Daemon = await TestDaemon.StartAsync();
        var client = new TraceService.TraceServiceClient(Daemon.Grpc);
        var deadline = DateTime.UtcNow.Add(TestDaemon.Timeout);

        // Qbalance: two successes, one failure (1 of 3 completed = 33.33 %), one run still in progress.
        var t1 = NewTraceId();
        await client.ExportAsync(Traces("Qbalance",
            LogSpan("r1", "INFO", "Adding item 1", T0.AddMinutes(1).AddMilliseconds(5), t1),
            LogSpan("r1", "ERROR", "Adding failed once", T0.AddMinutes(1).AddMilliseconds(6), t1),
            RunSpan("r1", T0.AddMinutes(1), TimeSpan.FromMilliseconds(100), traceId: t1, stdout: "INFO :: Adding item 1\nplain print\n"),
            RunSpan("r2", T0.AddMinutes(2), TimeSpan.FromMilliseconds(300), failed: true, function: "divide"),
            RunSpan("r3", T0.AddHours(3), TimeSpan.FromMilliseconds(200), extra: Attr("source_type", "tool")),
            LogSpan("r4", "DEBUG", "still going", T0.AddHours(5))), deadline: deadline);

        // p90script: 100 runs of 1..100 ms.
        await client.ExportAsync(Traces("p90script",
            [.. Enumerable.Range(1, 100).Select(i => RunSpan($"p{i:000}", T0.AddSeconds(i), TimeSpan.FromMilliseconds(i)))]), deadline: deadline);
    }

    public async Task DisposeAsync() => await Daemon.DisposeAsync();
}

public sealed class QueryApiTests(QueryApiFixture fixture) : IClassFixture<QueryApiFixture>
{
    private static readonly string Range = $"from={T0.AddDays(-1):O}&to={T0.AddDays(1):O}";
    private readonly HttpClient _api = fixture.Daemon.Api;

    [Fact]
    public async Task Scripts_ListsEachScriptThatRan()
    {
        var scripts = await Get("/api/scripts");

        Assert.Equal(["Qbalance", "p90script"], scripts.EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.Equal(4, scripts[0].GetProperty("runs").GetInt32());
        Assert.Equal(T0.AddHours(5), scripts[0].GetProperty("lastRunAt").GetDateTime().ToUniversalTime());
    }

    [Fact]
    public async Task Summary_SeedFailureRateAndPercentiles()
    {
        var summary = await Get($"/api/runs/summary?script=Qbalance&{Range}");

        Assert.Equal(4, summary.GetProperty("totalRuns").GetInt32());
        Assert.Equal(1, summary.GetProperty("failedRuns").GetInt32());
        Assert.Equal(1, summary.GetProperty("inProgressRuns").GetInt32());
        Assert.Equal(33.33, summary.GetProperty("failureRate").GetDouble());
        Assert.Equal(190, summary.GetProperty("p90Ms").GetDouble(), 6);
    }

    [Fact]
    public async Task Summary_P90Of1To100Ms_IsAbout90()
    {
        var summary = await Get($"/api/runs/summary?script=p90script&{Range}");

        Assert.Equal(0, summary.GetProperty("failureRate").GetDouble());
        Assert.Equal(90.1, summary.GetProperty("p90Ms").GetDouble(), 6);
        Assert.Equal(99.01, summary.GetProperty("p99Ms").GetDouble(), 6);
    }

    [Fact]
    public async Task Runs_NewestFirst_ResponseTimeEmptyForFailedAndInProgress()
    {
        var page = await Get($"/api/runs?script=Qbalance&{Range}");
        var items = page.GetProperty("items").EnumerateArray().ToList();

        Assert.Equal(["r4", "r3", "r2", "r1"], items.Select(i => i.GetProperty("runId").GetString()));
        Assert.Equal(["In Progress", "Success", "Failed", "Success"], items.Select(i => i.GetProperty("status").GetString()));
        Assert.Equal([JsonValueKind.Null, JsonValueKind.Number, JsonValueKind.Null, JsonValueKind.Number], items.Select(i => i.GetProperty("responseTimeMs").ValueKind));
        Assert.Equal("ZeroDivisionError: division by zero", items[2].GetProperty("error").GetString());
        Assert.Equal("Tool", items[1].GetProperty("sourceType").GetString());
        Assert.Equal(4, page.GetProperty("total").GetInt32());
        Assert.Equal(JsonValueKind.Null, page.GetProperty("nextCursor").ValueKind);
    }

    [Theory]
    [InlineData("""{"op":"or","conditions":[{"column":"status","operator":"eq","values":["Failed","In Progress"]}]}""", "r4,r2")]
    [InlineData("""{"op":"or","conditions":[{"column":"status","operator":"eq","values":["Failed"]},{"column":"sourceType","operator":"eq","values":["Tool"]}]}""", "r3,r2")]
    [InlineData("""{"op":"and","conditions":[{"column":"status","operator":"eq","values":["Success"]},{"column":"sourceType","operator":"eq","values":["Tool"]}]}""", "r3")]
    [InlineData("""{"op":"and","conditions":[{"column":"status","operator":"neq","values":["Success","Failed"]}]}""", "r4")]
    [InlineData("""{"op":"and","conditions":[{"column":"status","operator":"notIn","values":["In Progress"]}]}""", "r3,r2,r1")]
    [InlineData("""{"op":"and","conditions":[{"column":"function","operator":"contains","values":["DIV","nothing"]}]}""", "r2")]
    [InlineData("""{"op":"and","conditions":[{"column":"function","operator":"notContains","values":["div"]}]}""", "r4,r3,r1")]
    [InlineData("""{"op":"and","conditions":[{"column":"responseTimeMs","operator":"gt","values":[100]}]}""", "r3")]
    [InlineData("""{"op":"and","conditions":[{"column":"responseTimeMs","operator":"gte","values":["100"]}]}""", "r3,r1")]
    [InlineData("""{"op":"and","conditions":[{"column":"responseTimeMs","operator":"lt","values":[150]}]}""", "r1")]
    [InlineData("""{"op":"and","conditions":[{"column":"responseTimeMs","operator":"lte","values":[200]},{"column":"runId","operator":"in","values":["r3"]}]}""", "r3")]
    public async Task Runs_Filter_EveryOperatorAndBothJoins(string filter, string expected)
    {
        var page = await Get($"/api/runs?script=Qbalance&{Range}&filter={Uri.EscapeDataString(filter)}");

        Assert.Equal(expected, string.Join(",", page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("runId").GetString())));
    }

    [Theory]
    [InlineData("filter={\"conditions\":[{\"column\":\"colour\",\"operator\":\"eq\",\"values\":[\"x\"]}]}", "unknown run column 'colour'")]
    [InlineData("filter={\"conditions\":[{\"column\":\"status\",\"operator\":\"like\",\"values\":[\"x\"]}]}", "unknown operator 'like'")]
    [InlineData("filter={\"conditions\":[{\"column\":\"executedOn\",\"operator\":\"eq\",\"values\":[\"x\"]}]}", "'executedOn' cannot be filtered on")]
    [InlineData("filter={\"conditions\":[{\"column\":\"responseTimeMs\",\"operator\":\"gt\",\"values\":[\"fast\"]}]}", "'responseTimeMs' takes numbers")]
    [InlineData("filter={\"conditions\":[{\"column\":\"responseTimeMs\",\"operator\":\"gt\",\"values\":[1,2]}]}", "takes exactly one value")]
    [InlineData("filter={\"op\":\"xor\",\"conditions\":[]}", "op must be \"and\" or \"or\"")]
    [InlineData("filter={nope", "filter is not valid JSON")]
    [InlineData("sort=colour:asc", "cannot sort by unknown run column 'colour'")]
    [InlineData("sort=status:up", "sort must be field:asc or field:desc")]
    [InlineData("limit=0", "limit must be a whole number from 1 to 1000")]
    [InlineData("cursor=garbage", "cursor 'garbage' is not one this API gave out")]
    [InlineData("from=yesterday", "from must be an ISO-8601 instant")]
    public async Task Runs_BadParameters_Are400NamingTheCulprit(string parameters, string message)
    {
        var query = string.Join("&", parameters.Split('&').Select(p => p.Split('=', 2)).Select(p => $"{p[0]}={Uri.EscapeDataString(p[1])}"));

        using var response = await _api.GetAsync($"/api/runs?script=Qbalance&{Range}&{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Runs_WithoutScript_Is400()
    {
        using var response = await _api.GetAsync("/api/runs");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("script is required", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Runs_Search_MatchesRunIdAndTextFields()
    {
        var byFunction = await Get($"/api/runs?script=Qbalance&{Range}&q=DIVI");
        var byRunId = await Get($"/api/runs?script=Qbalance&{Range}&q=r3");

        Assert.Equal("r2", byFunction.GetProperty("items")[0].GetProperty("runId").GetString());
        Assert.Equal(1, byRunId.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Runs_PagesWithCursor_CoverEveryRunOnce()
    {
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await Get($"/api/runs?script=p90script&{Range}&limit=7&sort=responseTimeMs:asc{(cursor is null ? "" : $"&cursor={cursor}")}");
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("runId").GetString()!));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal(Enumerable.Range(1, 100).Select(i => $"p{i:000}"), seen);
    }

    [Fact]
    public async Task Record_ShowsLogsOldestFirstInputOutputAndNeighbours()
    {
        var record = await Get($"/api/runs/r2?script=Qbalance&{Range}");
        var first = await Get($"/api/runs/r4?script=Qbalance&{Range}");
        var last = await Get($"/api/runs/r1?script=Qbalance&{Range}");

        Assert.Equal(("r3", "r1"), (record.GetProperty("prevRunId").GetString(), record.GetProperty("nextRunId").GetString()));
        Assert.Equal(JsonValueKind.Null, first.GetProperty("prevRunId").ValueKind);
        Assert.Equal(JsonValueKind.Null, last.GetProperty("nextRunId").ValueKind);
        Assert.Equal("hello", last.GetProperty("input").GetProperty("prompt").GetString());
        Assert.Equal(42, last.GetProperty("output").GetProperty("answer").GetInt32());
        Assert.Equal(["Adding item 1", "Adding failed once", "plain print"],
            last.GetProperty("logs").EnumerateArray().Select(l => l.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task Record_UnknownRun_Is404()
    {
        using var response = await _api.GetAsync($"/api/runs/nope?script=Qbalance&{Range}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Logs_ListFilterAndSummary()
    {
        var all = await Get($"/api/logs?script=Qbalance&{Range}");
        var ofRun = await Get($"/api/logs?script=Qbalance&{Range}&runId=r1&sort=timestamp:asc");
        var contains = await Get($"/api/logs?script=Qbalance&{Range}&filter={Uri.EscapeDataString("""{"conditions":[{"column":"message","operator":"contains","values":["adding"]}]}""")}");
        var summary = await Get($"/api/logs/summary?script=Qbalance&{Range}");

        Assert.Equal(4, all.GetProperty("total").GetInt32());
        Assert.Equal(["Adding item 1", "Adding failed once", "plain print"], ofRun.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("message").GetString()));
        Assert.Equal(2, contains.GetProperty("total").GetInt32());
        Assert.Equal(4, summary.GetProperty("totalLogs").GetInt32());
        Assert.Equal(1, summary.GetProperty("byLevel").GetProperty("Stdout").GetInt32());
        Assert.Equal(1, summary.GetProperty("byLevel").GetProperty("Error").GetInt32());
    }

    [Fact]
    public async Task Trend_HourlyForADay_IncludesEmptyBuckets()
    {
        var trend = await Get($"/api/runs/trend?script=Qbalance&from={T0:O}&to={T0.AddHours(6):O}");
        var points = trend.EnumerateArray().ToList();

        // 06:07 to 12:07 touches seven hours, 06:00 to 12:00.
        Assert.Equal([2, 0, 0, 1, 0, 1, 0], points.Select(p => p.GetProperty("runs").GetInt32()));
        Assert.Equal(1, points[0].GetProperty("failed").GetInt32());
        Assert.Equal(new DateTime(2025, 5, 14, 6, 0, 0, DateTimeKind.Utc), points[0].GetProperty("bucketStart").GetDateTime().ToUniversalTime());
    }

    [Fact]
    public async Task Trend_LongRange_IsDaily()
    {
        var trend = await Get($"/api/runs/trend?script=Qbalance&from={T0.AddDays(-1):O}&to={T0.AddDays(2):O}");

        Assert.Equal(4, trend.GetArrayLength());
        Assert.Equal(4, trend.EnumerateArray().Sum(p => p.GetProperty("runs").GetInt32()));
    }

    [Fact]
    public async Task Health_AliveAndReady()
    {
        using var alive = await _api.GetAsync("/healthz");
        using var ready = await _api.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task Listeners_KeepToTheirOwnSurface()
    {
        using var apiOnOtlpPort = await fixture.Daemon.Http.GetAsync("/api/scripts");
        using var otlpOnApiPort = await _api.PostAsync("/v1/traces", new ByteArrayContent([]));

        Assert.Equal(HttpStatusCode.NotFound, apiOnOtlpPort.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, otlpOnApiPort.StatusCode);
    }

    private async Task<JsonElement> Get(string path)
    {
        using var response = await _api.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
