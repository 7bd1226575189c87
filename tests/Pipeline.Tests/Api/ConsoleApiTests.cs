using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Api;

/// <summary>
/// A daemon fed over OTLP once, shared by the tests of the console's questions (they only read): 14 runs of
/// "console" over four days, in two deployment versions and one run without a deployment, seven of them failed
/// with errors that make four groups; six logs. And "wide", whose two runs are 500 days apart; "clock", whose two
/// logs are 72 hours and 23 minutes apart; and "printer", whose run printed twelve lines at once.
/// </summary>
#pragma warning disable CA1515 // xunit needs the fixture public
public sealed class ConsoleApiFixture : IAsyncLifetime
{
    internal TestDaemon Daemon { get; private set; } = null!;

    public const string TimeoutGroup = "TimeoutError: request <id> timed out after <n> s";

    public async Task InitializeAsync()
    {
        Daemon = await TestDaemon.StartAsync();
        var client = new TraceService.TraceServiceClient(Daemon.Grpc);
        var day1 = T0.AddDays(1);
        var c1 = NewTraceId();
        var c5 = NewTraceId();
        await client.ExportAsync(Traces("console",
            Run("c1", T0, 100, 1, function: "alpha", traceId: c1),
            LogSpan("c1", "INFO", "start c1", T0.AddMilliseconds(1), c1, deploymentId: "dep_v1"),
            LogSpan("c1", "ERROR", "oops c1", T0.AddMilliseconds(2), c1, deploymentId: "dep_v1"),
            LogSpan("c1", "INFO", "end c1", T0.AddMilliseconds(3), c1, deploymentId: "dep_v1"),
            Run("c2", T0.AddHours(1), 200, 1, function: "alpha"),
            Run("c3", T0.AddHours(2), 300, 1, function: "beta"),
            Run("c4", T0.AddHours(3), 0, 1, error: "TimeoutError: request 3f2b8c1e-1234-4abc-9def-0123456789ab timed out after 30 s"),
            Run("c5", day1, 400, 2, traceId: c5),
            LogSpan("c5", "WARNING", "slow c5", day1.AddMilliseconds(1), c5, deploymentId: "dep_v2"),
            LogSpan("c5", "INFO", "end c5", day1.AddMilliseconds(2), c5, deploymentId: "dep_v2"),
            Run("c6", day1.AddHours(1), 500, 2),
            Run("c7", day1.AddHours(2), 0, 2, error: "TimeoutError: request AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE timed out after 5 s"),
            Run("c8", day1.AddHours(3), 0, 2, error: "KeyError: 'customer_42'"),
            Run("c9", day1.AddHours(4), 0, 2, error: "HTTPError: 502 while handling run_123"),
            Run("c10", day1.AddHours(5), 0, 2, error: "HTTPError: 502 while handling run_456"),
            Run("c11", day1.AddHours(6), 0, 2, error: "Traceback:\n  line 12\nValueError: x"),
            Run("c12", day1.AddHours(7), 0, 2, error: "Traceback:  line 99 ValueError: x"),
            Run("c13", T0.AddDays(2), 50, null, extra: Attr("source_type", "tool"))), deadline: TestDaemon.Deadline());

        // Still in progress: only a log so far, of the deployment already known as version 2.
        await client.ExportAsync(Traces("console", LogSpan("c14", "DEBUG", "still going c14", T0.AddDays(3).AddHours(1), deploymentId: "dep_v2")), deadline: TestDaemon.Deadline());
        await client.ExportAsync(Traces("wide", Run("w1", T0.AddDays(-500), 10, null), Run("w2", T0, 20, null)), deadline: TestDaemon.Deadline());
        await client.ExportAsync(
            Traces("clock", LogSpan("k1", "INFO", "first", T0), LogSpan("k2", "INFO", "last", T0.AddDays(3).AddMinutes(23))), deadline: TestDaemon.Deadline());
        await client.ExportAsync(
            Traces("printer", RunSpan("p1", T0, TimeSpan.FromSeconds(1), stdout: string.Concat(Enumerable.Range(1, 12).Select(i => $"line {i}\n")))),
            deadline: TestDaemon.Deadline());
    }

    public async Task DisposeAsync() => await Daemon.DisposeAsync();

    /// <summary>A run of deployment version <paramref name="version"/> (dep_v1, dep_v2; none when null), failed when it has an error.</summary>
    private static Span Run(string runId, DateTime start, int milliseconds, int? version, string? error = null, string function = "call_openai_chat",
        Google.Protobuf.ByteString? traceId = null, params OpenTelemetry.Proto.Common.V1.KeyValue[] extra)
    {
        var span = RunSpan(runId, start, TimeSpan.FromMilliseconds(milliseconds), failed: error is not null, traceId: traceId,
            deploymentId: version is { } v ? $"dep_v{v}" : "none", function: function, extra: extra);
        if (version is { } known)
        {
            span.Attributes.Add(Attr("deployment.version", known));
        }
        else
        {
            span.Attributes.Remove(span.Attributes.Single(a => a.Key == "deployment_id"));
        }

        if (error is not null)
        {
            span.Status.Message = error;
        }

        return span;
    }
}

public sealed class ConsoleApiTests(ConsoleApiFixture fixture) : IClassFixture<ConsoleApiFixture>
{
    private const string AllTime = "from=2000-01-01T00:00:00Z&to=2030-01-01T00:00:00Z";
    private readonly HttpClient _api = fixture.Daemon.Api;

    [Fact]
    public async Task RunValues_MostFrequentFirst_FilterAndSearchAside()
    {
        var status = await Get($"/api/runs/values?script=console&{AllTime}&column=status&q=nothing-matches&filter={Filter("status", "eq", "Failed")}");
        var versions = await Get($"/api/runs/values?script=console&{AllTime}&column=deploymentVersion");
        var functions = await Get($"/api/runs/values?script=console&{AllTime}&column=function");
        var firstDay = await Get($"/api/runs/values?script=console&from={T0.AddHours(-1):O}&to={T0.AddDays(1).AddHours(-1):O}&column=status");

        Assert.Equal("status", status.GetProperty("column").GetString());
        Assert.Equal([("Failed", 7L), ("Success", 6L), ("In Progress", 1L)], Values(status));
        Assert.Equal([("2", 9L), ("1", 4L)], Values(versions));
        Assert.Equal([("call_openai_chat", 10L), ("alpha", 2L), ("beta", 1L)], Values(functions));
        Assert.Equal([("Success", 3L), ("Failed", 1L)], Values(firstDay));
    }

    [Fact]
    public async Task LogValues_Levels()
    {
        var levels = await Get($"/api/logs/values?script=console&{AllTime}&column=level");

        Assert.Equal([("Info", 3L), ("Debug", 1L), ("Error", 1L), ("Warning", 1L)], Values(levels));
    }

    [Theory]
    [InlineData("/api/runs/values?script=console&column=colour", "column must be one of status, deploymentVersion, sourceType, source, function, deploymentId (got 'colour')")]
    [InlineData("/api/runs/values?script=console&column=error", "column must be one of status, deploymentVersion")]
    [InlineData("/api/runs/values?script=console", "column is required: one of status, deploymentVersion")]
    [InlineData("/api/logs/values?script=console&column=message", "column must be one of level (got 'message')")]
    [InlineData("/api/logs/values?column=level", "script is required")]
    public async Task Values_UnknownColumn_Is400NamingTheAllowedOnes(string path, string message) => await AssertRefused(path, message);

    [Theory]
    [InlineData("status", "eq", "failed", 7)]
    [InlineData("status", "in", "SUCCESS|in progress", 7)]
    [InlineData("status", "neq", "FAILED", 7)]
    [InlineData("status", "notIn", "failed|Success", 1)]
    [InlineData("runId", "eq", "C1", 1)]
    [InlineData("function", "eq", "ALPHA", 2)]
    [InlineData("sourceType", "eq", "TOOL", 1)]
    [InlineData("deploymentVersion", "eq", "1", 4)]
    public async Task RunFilter_TextComparesWithoutCase(string column, string op, string values, int expected)
    {
        var page = await Get($"/api/runs?script=console&{AllTime}&filter={Filter(column, op, values.Split('|'))}");

        Assert.Equal(expected, page.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task LogFilter_LevelComparesWithoutCase()
    {
        var page = await Get($"/api/logs?script=console&{AllTime}&filter={Filter("level", "eq", "error")}");

        Assert.Equal(["oops c1"], page.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task RunSummary_FirstAndLastRunOfTheList()
    {
        var all = await Get($"/api/runs/summary?script=console&{AllTime}");
        var failed = await Get($"/api/runs/summary?script=console&{AllTime}&filter={Filter("status", "eq", "failed")}");
        var none = await Get($"/api/runs/summary?script=console&{AllTime}&q=nothing-matches");

        Assert.Equal((T0, T0.AddDays(3).AddHours(1)), (Instant(all, "firstRunAt"), Instant(all, "lastRunAt")));
        Assert.Equal((T0.AddHours(3), T0.AddDays(1).AddHours(7)), (Instant(failed, "firstRunAt"), Instant(failed, "lastRunAt")));
        Assert.Equal(0, none.GetProperty("totalRuns").GetInt32());
        Assert.Equal((JsonValueKind.Null, JsonValueKind.Null), (none.GetProperty("firstRunAt").ValueKind, none.GetProperty("lastRunAt").ValueKind));
    }

    [Fact]
    public async Task LogSummary_FirstAndLastLogOfTheList()
    {
        var all = await Get($"/api/logs/summary?script=console&{AllTime}");
        var none = await Get($"/api/logs/summary?script=console&{AllTime}&q=nothing-matches");

        Assert.Equal(6, all.GetProperty("totalLogs").GetInt32());
        Assert.Equal((T0.AddMilliseconds(1), T0.AddDays(3).AddHours(1)), (Instant(all, "firstLogAt"), Instant(all, "lastLogAt")));
        Assert.Equal((JsonValueKind.Null, JsonValueKind.Null), (none.GetProperty("firstLogAt").ValueKind, none.GetProperty("lastLogAt").ValueKind));
    }

    [Fact]
    public async Task RunTrend_AllTime_IsTheDataSpan_DailyPast72Hours()
    {
        var (trend, bucket) = await GetTrend($"/api/runs/trend?script=console&{AllTime}");
        var (hourly, hourBucket) = await GetTrend($"/api/runs/trend?script=console&{AllTime}&bucket=hour");

        // The data spans 73 hours (06:07 on day 0 to 07:07 on day 3): four days, from the first run's day.
        Assert.Equal("day", bucket);
        Assert.Equal([4, 8, 1, 1], trend.EnumerateArray().Select(p => p.GetProperty("runs").GetInt32()));
        Assert.Equal([1, 6, 0, 0], trend.EnumerateArray().Select(p => p.GetProperty("failed").GetInt32()));
        Assert.Equal(T0.Date, Instant(trend[0], "bucketStart"));
        Assert.Equal("hour", hourBucket);
        Assert.Equal(74, hourly.GetArrayLength());
        Assert.Equal(T0.Date.AddHours(6), Instant(hourly[0], "bucketStart"));
        Assert.Equal(14, hourly.EnumerateArray().Sum(p => p.GetProperty("runs").GetInt32()));
    }

    [Fact]
    public async Task RunTrend_FilteredList_SpansItsOwnRuns_Hourly()
    {
        var (trend, bucket) = await GetTrend($"/api/runs/trend?script=console&{AllTime}&filter={Filter("status", "eq", "Failed")}");
        var (empty, emptyBucket) = await GetTrend($"/api/runs/trend?script=console&{AllTime}&q=nothing-matches");

        // Failed runs from 09:07 on day 0 to 13:07 on day 1: 29 hours, 28 of them empty but for the seven failures.
        Assert.Equal("hour", bucket);
        Assert.Equal(29, trend.GetArrayLength());
        Assert.Equal(T0.Date.AddHours(9), Instant(trend[0], "bucketStart"));
        Assert.Equal(7, trend.EnumerateArray().Sum(p => p.GetProperty("failed").GetInt32()));
        Assert.Equal(JsonValueKind.Null, trend[1].GetProperty("p90Ms").ValueKind);
        Assert.Equal(0, empty.GetArrayLength());
        Assert.Equal("day", emptyBucket);
    }

    [Fact]
    public async Task RunTrend_500DaysOfData_HourlyIsRefused_DailyAnswers()
    {
        var (daily, bucket) = await GetTrend($"/api/runs/trend?script=wide&{AllTime}");

        Assert.Equal("day", bucket);
        Assert.Equal(501, daily.GetArrayLength());
        await AssertRefused($"/api/runs/trend?script=wide&{AllTime}&bucket=hour", "ask for at most 10000 buckets");
        await AssertRefused($"/api/runs/trend?script=wide&{AllTime}&bucket=week", "bucket must be hour or day (got 'week')");
    }

    [Fact]
    public async Task LogTrend_LevelsPerBucket_EmptyBucketsIncluded()
    {
        var (trend, bucket) = await GetTrend($"/api/logs/trend?script=console&{AllTime}");
        var (ofRun, runBucket) = await GetTrend("/api/logs/trend?script=console&runId=c1");

        Assert.Equal("day", bucket);
        Assert.Equal([3, 2, 0, 1], trend.EnumerateArray().Select(p => p.GetProperty("total").GetInt32()));
        Assert.Equal(T0.Date, Instant(trend[0], "bucketStart"));
        Assert.Equal(
            [("Debug", 0), ("Error", 1), ("Info", 2), ("Warning", 0)],
            trend[0].GetProperty("byLevel").EnumerateObject().Select(l => (l.Name, l.Value.GetInt32())));
        Assert.Equal(0, trend[2].GetProperty("byLevel").GetProperty("Info").GetInt32());
        Assert.Equal(1, trend[3].GetProperty("byLevel").GetProperty("Debug").GetInt32());

        // Without from and to, one run's logs are all its logs (these are a year old).
        Assert.Equal("hour", runBucket);
        Assert.Equal([3], ofRun.EnumerateArray().Select(p => p.GetProperty("total").GetInt32()));
    }

    [Fact]
    public async Task LogTrend_DefaultBucket_FollowsTheExactSpan()
    {
        // 06:07 on day 0 to 06:30 on day 3: in the hours 06:00 and 06:00, 72 hours apart, but the logs are further.
        var (trend, bucket) = await GetTrend($"/api/logs/trend?script=clock&{AllTime}");

        Assert.Equal("day", bucket);
        Assert.Equal([1, 0, 0, 1], trend.EnumerateArray().Select(p => p.GetProperty("total").GetInt32()));
    }

    [Fact]
    public async Task LogTrend_Hourly_OnRequest()
    {
        var (trend, bucket) = await GetTrend($"/api/logs/trend?script=console&{AllTime}&bucket=hour&filter={Filter("level", "in", "info", "warning")}");

        // Info and Warning logs from 06:07 on day 0 to 06:07 on day 1: 25 hours.
        Assert.Equal("hour", bucket);
        Assert.Equal(25, trend.GetArrayLength());
        Assert.Equal(4, trend.EnumerateArray().Sum(p => p.GetProperty("total").GetInt32()));
        Assert.Equal(["Info", "Warning"], trend[0].GetProperty("byLevel").EnumerateObject().Select(l => l.Name));
    }

    [Fact]
    public async Task Versions_EachVersionComparedWithTheOneBefore()
    {
        var versions = (await Get($"/api/runs/versions?script=console&{AllTime}")).EnumerateArray().ToList();

        Assert.Equal([1, 2, (int?)null], versions.Select(v => v.GetProperty("deploymentVersion").ValueKind == JsonValueKind.Null ? (int?)null : v.GetProperty("deploymentVersion").GetInt32()));
        Assert.Equal([4, 9, 1], versions.Select(v => v.GetProperty("runs").GetInt32()));
        Assert.Equal([1, 6, 0], versions.Select(v => v.GetProperty("failed").GetInt32()));
        Assert.Equal([25.0, 75.0, 0.0], versions.Select(v => v.GetProperty("failureRate").GetDouble()));
        Assert.Equal([280.0, 490.0, 50.0], versions.Select(v => v.GetProperty("p90Ms").GetDouble()));
        Assert.Equal([298.0, 499.0, 50.0], versions.Select(v => v.GetProperty("p99Ms").GetDouble()));
        Assert.Equal((T0, T0.AddHours(3)), (Instant(versions[0], "firstRunAt"), Instant(versions[0], "lastRunAt")));
        Assert.Equal((T0.AddDays(1), T0.AddDays(3).AddHours(1)), (Instant(versions[1], "firstRunAt"), Instant(versions[1], "lastRunAt")));

        foreach (var field in new[] { "previousVersion", "failureRateChange", "p90Change", "p99Change" })
        {
            Assert.Equal(JsonValueKind.Null, versions[0].GetProperty(field).ValueKind);
            Assert.Equal(JsonValueKind.Null, versions[2].GetProperty(field).ValueKind);
        }

        Assert.Equal(1, versions[1].GetProperty("previousVersion").GetInt32());
        Assert.Equal(50.0, versions[1].GetProperty("failureRateChange").GetDouble());
        Assert.Equal(0.75, versions[1].GetProperty("p90Change").GetDouble());
        Assert.Equal(0.6745, versions[1].GetProperty("p99Change").GetDouble());
    }

    [Fact]
    public async Task Versions_FilterApplies_EmptyListIsEmpty()
    {
        var second = await Get($"/api/runs/versions?script=console&{AllTime}&filter={Filter("deploymentVersion", "eq", "2")}");
        var none = await Get($"/api/runs/versions?script=console&{AllTime}&q=nothing-matches");

        Assert.Equal([2], second.EnumerateArray().Select(v => v.GetProperty("deploymentVersion").GetInt32()));
        Assert.Equal(JsonValueKind.Null, second[0].GetProperty("previousVersion").ValueKind);
        Assert.Equal(0, none.GetArrayLength());
    }

    [Fact]
    public async Task Errors_GroupedByNormalisedMessage_MostFrequentFirst()
    {
        var errors = (await Get($"/api/runs/errors?script=console&{AllTime}")).EnumerateArray().ToList();
        var top = await Get($"/api/runs/errors?script=console&{AllTime}&limit=1");

        Assert.Equal(
            [("HTTPError: <n> while handling <id>", 2), (ConsoleApiFixture.TimeoutGroup, 2), ("Traceback: line <n> ValueError: x", 2), ("KeyError: 'customer_<n>'", 1)],
            errors.Select(e => (e.GetProperty("group").GetString(), e.GetProperty("count").GetInt32())));
        var timeout = errors[1];
        Assert.Equal("TimeoutError: request AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE timed out after 5 s", timeout.GetProperty("example").GetString());
        Assert.Equal((T0.AddHours(3), T0.AddDays(1).AddHours(2)), (Instant(timeout, "firstSeen"), Instant(timeout, "lastSeen")));
        Assert.Equal(1, top.GetArrayLength());
    }

    [Fact]
    public async Task Errors_FilterAndPeriodApply()
    {
        var firstDay = await Get($"/api/runs/errors?script=console&from={T0.AddHours(-1):O}&to={T0.AddDays(1).AddHours(-1):O}");
        var version2 = await Get($"/api/runs/errors?script=console&{AllTime}&filter={Filter("deploymentVersion", "eq", "2")}&q=timeout");

        Assert.Equal([(ConsoleApiFixture.TimeoutGroup, 1)], firstDay.EnumerateArray().Select(e => (e.GetProperty("group").GetString(), e.GetProperty("count").GetInt32())));
        Assert.Equal([(ConsoleApiFixture.TimeoutGroup, 1)], version2.EnumerateArray().Select(e => (e.GetProperty("group").GetString(), e.GetProperty("count").GetInt32())));
    }

    [Fact]
    public async Task ErrorGroupFilter_ListsExactlyTheRunsOfTheGroup()
    {
        var errors = (await Get($"/api/runs/errors?script=console&{AllTime}")).EnumerateArray().ToList();

        foreach (var error in errors)
        {
            var group = error.GetProperty("group").GetString()!;
            var runs = await Get($"/api/runs?script=console&{AllTime}&filter={Filter("errorGroup", "eq", group)}");
            Assert.Equal(error.GetProperty("count").GetInt32(), runs.GetProperty("total").GetInt32());
            Assert.All(runs.GetProperty("items").EnumerateArray(), r => Assert.Equal("Failed", r.GetProperty("status").GetString()));
            Assert.DoesNotContain("errorGroup", runs.GetProperty("items")[0].EnumerateObject().Select(p => p.Name));
        }

        var timeouts = await Get($"/api/runs?script=console&{AllTime}&filter={Filter("errorGroup", "eq", ConsoleApiFixture.TimeoutGroup.ToUpperInvariant())}");
        var two = await Get($"/api/runs?script=console&{AllTime}&filter={Filter("errorGroup", "in", ConsoleApiFixture.TimeoutGroup, "KeyError: 'customer_<n>'")}");
        var others = await Get($"/api/runs?script=console&{AllTime}&filter={Filter("errorGroup", "neq", ConsoleApiFixture.TimeoutGroup)}");

        Assert.Equal(["c7", "c4"], timeouts.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("runId").GetString()));
        Assert.Equal(["c8", "c7", "c4"], two.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("runId").GetString()));
        Assert.Equal(12, others.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task ErrorGroupFilter_LikeWildcardsInTheGroupAreLiteral()
    {
        var percent = await Get($"/api/runs?script=console&{AllTime}&filter={Filter("errorGroup", "eq", "%")}");
        var underscore = await Get($"/api/runs?script=console&{AllTime}&filter={Filter("errorGroup", "eq", "KeyError: 'customer_<n>_'")}");

        Assert.Equal(0, percent.GetProperty("total").GetInt32());
        Assert.Equal(0, underscore.GetProperty("total").GetInt32());
    }

    [Theory]
    [InlineData("filter={\"conditions\":[{\"column\":\"errorGroup\",\"operator\":\"contains\",\"values\":[\"x\"]}]}", "column 'errorGroup' takes the operators eq, in, neq, notIn")]
    [InlineData("sort=errorGroup:asc", "cannot sort by the run column 'errorGroup'")]
    public async Task ErrorGroupColumn_OnlyEqualityFilters(string parameters, string message)
    {
        var query = string.Join("&", parameters.Split('&').Select(p => p.Split('=', 2)).Select(p => $"{p[0]}={Uri.EscapeDataString(p[1])}"));

        await AssertRefused($"/api/runs?script=console&{AllTime}&{query}", message);
    }

    [Fact]
    public async Task RecordView_SmallRun_FirstPageIsEverything()
    {
        var record = await Get($"/api/runs/c1?script=console&{AllTime}");

        Assert.Equal(["start c1", "oops c1", "end c1"], record.GetProperty("logs").EnumerateArray().Select(l => l.GetProperty("message").GetString()));
        Assert.Equal(3, record.GetProperty("logsTotal").GetInt32());
        Assert.Equal(JsonValueKind.Null, record.GetProperty("logsNextCursor").ValueKind);
        Assert.Equal(0, record.GetProperty("spansTotal").GetInt32());
        Assert.Equal("c2", record.GetProperty("prevRunId").GetString());
    }

    [Fact]
    public async Task RecordView_RunWithoutLogs_HasNone()
    {
        var record = await Get($"/api/runs/c2?script=console&{AllTime}");

        Assert.Equal(0, record.GetProperty("logs").GetArrayLength());
        Assert.Equal(0, record.GetProperty("logsTotal").GetInt32());
        Assert.Equal(JsonValueKind.Null, record.GetProperty("logsNextCursor").ValueKind);
    }

    [Fact]
    public async Task PrintedLines_KeepTheirOrder_InTheRecordAndItsPages()
    {
        var record = await Get("/api/runs/p1?script=printer");
        var first = await Get("/api/logs?script=printer&runId=p1&sort=timestamp:asc&limit=5");
        var rest = await Get($"/api/logs?script=printer&runId=p1&sort=timestamp:asc&limit=20&cursor={first.GetProperty("nextCursor").GetString()}");
        var newest = await Get("/api/logs?script=printer&runId=p1");

        var lines = Enumerable.Range(1, 12).Select(i => $"line {i}").ToList();
        Assert.Equal(lines, record.GetProperty("logs").EnumerateArray().Select(l => l.GetProperty("message").GetString()));
        Assert.Equal(lines, first.GetProperty("items").EnumerateArray().Concat(rest.GetProperty("items").EnumerateArray()).Select(l => l.GetProperty("message").GetString()));
        Assert.Equal(lines.AsEnumerable().Reverse(), newest.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("message").GetString()));
    }

    private static string Filter(string column, string op, params string[] values) =>
        Uri.EscapeDataString(JsonSerializer.Serialize(new { op = "and", conditions = new[] { new { column, @operator = op, values } } }));

    private static List<(string?, long)> Values(JsonElement answer) =>
        answer.GetProperty("values").EnumerateArray().Select(v => (v.GetProperty("value").GetString(), v.GetProperty("count").GetInt64())).ToList();

    private static DateTime Instant(JsonElement element, string property) => element.GetProperty(property).GetDateTime().ToUniversalTime();

    private async Task AssertRefused(string path, string message)
    {
        using var response = await _api.GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    private async Task<(JsonElement Points, string? Bucket)> GetTrend(string path)
    {
        using var response = await _api.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {body}");
        return (JsonDocument.Parse(body).RootElement.Clone(), response.Headers.TryGetValues("X-Bucket", out var bucket) ? bucket.Single() : null);
    }

    private async Task<JsonElement> Get(string path)
    {
        using var response = await _api.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
