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
        Daemon = await TestDaemon.StartAsync(new Dictionary<string, string?> { ["Api:SqlMaxRows"] = "50", ["Api:SqlTimeout"] = "00:00:01", ["Api:MaxConcurrentSql"] = "8", ["Api:MaxConcurrentExports"] = "8", ["Api:MaxConcurrentHeavy"] = "16" });
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

        // 06:07 to 12:07 touches seven hours, but the last run starts at 11:07: 06:00 to 11:00.
        Assert.Equal([2, 0, 0, 1, 0, 1], points.Select(p => p.GetProperty("runs").GetInt32()));
        Assert.Equal(1, points[0].GetProperty("failed").GetInt32());
        Assert.Equal(new DateTime(2025, 5, 14, 6, 0, 0, DateTimeKind.Utc), points[0].GetProperty("bucketStart").GetDateTime().ToUniversalTime());
    }

    [Fact]
    public async Task Trend_LongRange_CountsTheSpanOfTheData()
    {
        var trend = await Get($"/api/runs/trend?script=Qbalance&from={T0.AddDays(-1):O}&to={T0.AddDays(2):O}");
        var daily = await Get($"/api/runs/trend?script=Qbalance&from={T0.AddDays(-1):O}&to={T0.AddDays(2):O}&bucket=day");

        // Three days asked, five hours of runs: hourly, from the first run's hour to the last one's.
        Assert.Equal(6, trend.GetArrayLength());
        Assert.Equal(4, trend.EnumerateArray().Sum(p => p.GetProperty("runs").GetInt32()));
        Assert.Equal([4], daily.EnumerateArray().Select(p => p.GetProperty("runs").GetInt32()));
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

    [Fact]
    public async Task Export_Csv_DownloadsTheFilteredRunsUnderTheSeedName()
    {
        var filter = Uri.EscapeDataString("""{"op":"or","conditions":[{"column":"status","operator":"eq","values":["Failed","In Progress"]}]}""");

        using var response = await _api.GetAsync($"/api/runs/export?format=csv&script=Qbalance&{Range}&filter={filter}");
        var file = Path.Combine(new TempFolder().Path, "runs.csv");
        await File.WriteAllBytesAsync(file, await response.Content.ReadAsByteArrayAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Qbalance_runs_data.csv", response.Content.Headers.ContentDisposition?.FileName);
        Assert.Equal([("r4", "In Progress"), ("r2", "Failed")],
            Database.Query(Path.Combine(new TempFolder().Path, "x.duckdb"), $"SELECT runId, status FROM read_csv('{file}')").Select(r => ((string)r[0]!, (string)r[1]!)));
    }

    [Fact]
    public async Task Export_Parquet_DownloadsTheLogs()
    {
        using var response = await _api.GetAsync($"/api/logs/export?format=parquet&script=Qbalance&{Range}&runId=r1");
        var file = Path.Combine(new TempFolder().Path, "logs.parquet");
        await File.WriteAllBytesAsync(file, await response.Content.ReadAsByteArrayAsync());

        Assert.Equal("Qbalance_logs_data.parquet", response.Content.Headers.ContentDisposition?.FileName);
        Assert.Equal([3L, 3L], Database.Query(Path.Combine(new TempFolder().Path, "x.duckdb"),
            $"SELECT count(*), count(DISTINCT logId) FROM read_parquet('{file}') WHERE runId = 'r1'").Single());
    }

    [Fact]
    public async Task Exports_AreIndependent_ACancelledOneLeavesNothingAndDisturbsNoOther()
    {
        var exports = Path.Combine(fixture.Daemon.Folder.Path, "exports");
        using (var gone = new CancellationTokenSource())
        {
            var abandoned = _api.GetAsync($"/api/logs/export?format=csv&script=p90script&{Range}", HttpCompletionOption.ResponseHeadersRead, gone.Token);
            gone.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        }

        var both = await Task.WhenAll(
            _api.GetByteArrayAsync($"/api/runs/export?format=csv&script=p90script&{Range}"),
            _api.GetByteArrayAsync($"/api/runs/export?format=csv&script=Qbalance&{Range}"));

        Assert.Equal(101, System.Text.Encoding.UTF8.GetString(both[0]).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(5, System.Text.Encoding.UTF8.GetString(both[1]).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (Directory.GetFiles(exports).Length > 0 && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }

        Assert.Empty(Directory.GetFiles(exports));
    }

    [Fact]
    public async Task Export_UnknownFormat_Is400()
    {
        using var response = await _api.GetAsync($"/api/runs/export?format=xlsx&script=Qbalance&{Range}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("format must be csv or parquet", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("Qbalance", "Qbalance")]
    [InlineData("my script/../x\r\n", "my_script_.._x")]
    [InlineData("\"quoted\";", "quoted")]
    [InlineData("日本", "script")]
    public void SafeName_MakesAnyScriptNameFitForAHeader(string script, string expected) =>
        Assert.Equal(expected, Pipeline.Query.Exports.SafeName(script));

    [Fact]
    public async Task Sql_SelectOverTheViews_Answers()
    {
        var result = await PostSql("WITH failed AS (SELECT run_id FROM runs WHERE status = 'Failed') SELECT r.run_id, count(l.log_id) AS n FROM failed r LEFT JOIN logs l USING (run_id) GROUP BY ALL;");

        Assert.Equal(["run_id", "n"], result.GetProperty("columns").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal("r2", result.GetProperty("rows")[0][0].GetString());
        Assert.False(result.GetProperty("truncated").GetBoolean());
    }

    [Fact]
    public async Task Sql_ManyRows_AreCutAtTheLimit()
    {
        var result = await PostSql("SELECT run_id FROM runs");

        Assert.Equal(50, result.GetProperty("rows").GetArrayLength());
        Assert.True(result.GetProperty("truncated").GetBoolean());
    }

    [Theory]
    [InlineData("SELECT * FROM read_csv('/etc/passwd')", "table functions")]
    [InlineData("SELECT * FROM '/etc/passwd'", "table '/etc/passwd' is not available")]
    [InlineData("SELECT * FROM read_parquet('x.parquet') LIMIT 1", "table functions")]
    [InlineData("COPY runs TO '/tmp/stolen.csv'", "only a single SELECT")]
    [InlineData("ATTACH '/tmp/other.duckdb' AS other", "only a single SELECT")]
    [InlineData("INSTALL httpfs", "only a single SELECT")]
    [InlineData("LOAD httpfs", "only a single SELECT")]
    [InlineData("SET memory_limit = '100GB'", "only a single SELECT")]
    [InlineData("PRAGMA database_list", "only a single SELECT")]
    [InlineData("DELETE FROM runs", "only a single SELECT")]
    [InlineData("SELECT 1; DROP TABLE runs", "only a single SELECT")]
    [InlineData("SELECT 1; SELECT 2", "exactly one statement")]
    [InlineData("SELECT * FROM log_lines", "table 'log_lines' is not available")]
    [InlineData("SELECT * FROM information_schema.tables", "is not available")]
    [InlineData("SELECT getenv('HOME')", "function 'getenv' is not allowed")]
    [InlineData("SELECT * FROM duckdb_settings()", "table functions")]
    [InlineData("", "sql is required")]
    [InlineData("SELECT (WITH log_lines AS (SELECT 1) SELECT 1), * FROM log_lines", "table 'log_lines' is not available")]
    [InlineData("SELECT * FROM (WITH pg_settings AS (SELECT 1) SELECT 1) a, pg_settings", "table 'pg_settings' is not available")]
    [InlineData("SELECT (WITH \"/etc/passwd\" AS (SELECT 1) SELECT 1), * FROM '/etc/passwd'", "table '/etc/passwd' is not available")]
    [InlineData("SHOW TABLES", "is not allowed here")]
    [InlineData("SELECT count(*) FROM (SELECT unnest(generate_series(1, 3000000000)))", "function 'generate_series' is not allowed")]
    [InlineData("SELECT len(range(1000000000))", "function 'range' is not allowed")]
    [InlineData("SELECT repeat('x', 2000000000)", "function 'repeat' is not allowed")]
    [InlineData("SELECT * FROM query('SELECT * FROM log_lines')", "table functions")]
    [InlineData("SELECT * FROM sqlite_master", "table 'sqlite_master' is not available")]
    [InlineData("SELECT * FROM 'http://example.com/x.csv'", "is not available")]
    [InlineData("SELECT * FROM main.runs", "table 'runs' is not available")]
    public async Task Sql_Hostile_IsRefusedWithAReason(string sql, string message)
    {
        using var response = await _api.PostAsJsonAsync("/api/sql", new { sql });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        Assert.Equal(104L, fixture.Daemon.Scalar("SELECT count(*) FROM runs"));
    }

    [Fact]
    public void Database_RefusesFilesAndSettings_WhateverSqlReachesIt()
    {
        Assert.Contains("disabled by configuration", Assert.ThrowsAny<Exception>(() => fixture.Daemon.Query("SELECT * FROM read_csv('/etc/passwd')")).Message);
        Assert.Contains("locked", Assert.ThrowsAny<Exception>(() => fixture.Daemon.Query("SET enable_external_access = true")).Message);
    }

    [Fact]
    public async Task Sql_TrailingCommentAndNestedValues_Answer()
    {
        var result = await PostSql("SELECT [1, 2] AS l, {'a': 1} AS s, DATE '2025-05-14' AS d, count(*) AS n FROM runs -- a note");

        var row = result.GetProperty("rows")[0];
        Assert.Equal("[1,2]", row[0].GetRawText());
        Assert.Equal(1, row[1].GetProperty("a").GetInt32());
        Assert.Equal("2025-05-14", row[2].GetString());
        Assert.Equal(104, row[3].GetInt32());
    }

    [Fact]
    public async Task Runs_ToAtTheStartOfTime_Is400()
    {
        using var response = await _api.GetAsync("/api/runs?script=Qbalance&to=0001-01-02T00:00:00Z");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Sql_TooSlow_IsStopped()
    {
        using var response = await _api.PostAsJsonAsync("/api/sql", new { sql = "SELECT sum(a.response_time_ms * b.response_time_ms * c.response_time_ms * d.response_time_ms) FROM runs a, runs b, runs c, runs d, runs e" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("ran longer than 1 s", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OpenApi_DescribesEveryEndpointAndItsParameters()
    {
        var document = await Get("/openapi/v1.json");
        var paths = document.GetProperty("paths");

        Assert.Equal(
            ["/api/backup", "/api/logs", "/api/logs/export", "/api/logs/summary", "/api/logs/trend", "/api/logs/values", "/api/runs", "/api/runs/errors",
             "/api/runs/export", "/api/runs/summary", "/api/runs/trend", "/api/runs/values", "/api/runs/versions", "/api/runs/{runId}",
             "/api/runs/{runId}/logs/stream", "/api/scripts", "/api/session", "/api/sql", "/healthz", "/readyz"],
            paths.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var listParameters = paths.GetProperty("/api/runs").GetProperty("get").GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString());
        Assert.Equal(["cursor", "filter", "from", "limit", "q", "runId", "script", "sort", "to"], listParameters.Order(StringComparer.Ordinal));
        Assert.Contains("logsLimit", paths.GetProperty("/api/runs/{runId}").GetProperty("get").GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        Assert.Contains("column", paths.GetProperty("/api/runs/values").GetProperty("get").GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        Assert.Contains("bucket", paths.GetProperty("/api/logs/trend").GetProperty("get").GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
    }

    private async Task<JsonElement> PostSql(string sql)
    {
        using var response = await _api.PostAsJsonAsync("/api/sql", new { sql });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private async Task<JsonElement> Get(string path)
    {
        using var response = await _api.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
