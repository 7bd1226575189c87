using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Lake;

/// <summary>
/// A lake-mode daemon answers every question of the query API as one store holding all the lake's data would (the
/// reference daemon, fed every request), with a node column of its own; read tokens and their scripts apply.
/// </summary>
public sealed class LakeModeTests(LakeModeFixture fixture) : IClassFixture<LakeModeFixture>
{
    private const string Range = "from=2025-05-01T00:00:00Z&to=2025-06-01T00:00:00Z";
    private static readonly string[] Scripts = [LakeModeFixture.Shared, LakeModeFixture.Escaped];

    public static TheoryData<string> Questions()
    {
        var questions = new TheoryData<string> { "/api/scripts" };
        foreach (var script in Scripts.Select(Uri.EscapeDataString))
        {
            var s = $"script={script}&{Range}";
            string[] paths =
            [
                $"/api/runs?{s}", $"/api/runs?script={script}", $"/api/runs?{s}&sort=responseTimeMs:asc&limit=1000",
                $"/api/runs?{s}&filter={Filter("and", "status", "eq", "Failed")}", $"/api/runs?{s}&filter={Filter("and", "deploymentVersion", "gte", "2")}",
                $"/api/runs?{s}&q=timeout", $"/api/runs?{s}&sort=function:desc",
                $"/api/runs/summary?{s}", $"/api/runs/summary?{s}&filter={Filter("or", "status", "eq", "Failed", "In Progress")}",
                $"/api/runs/trend?{s}", $"/api/runs/trend?{s}&bucket=day", $"/api/runs/trend?script={script}&from=2000-01-01T00:00:00Z",
                $"/api/runs/values?{s}&column=status", $"/api/runs/values?{s}&column=deploymentVersion", $"/api/runs/values?{s}&column=function",
                $"/api/runs/values?{s}&column=deploymentId", $"/api/runs/values?{s}&column=source", $"/api/runs/values?{s}&column=sourceType",
                $"/api/runs/versions?{s}", $"/api/runs/errors?{s}",
                $"/api/runs/errors?{s}&filter={Filter("and", "errorGroup", "eq", "ZeroDivisionError: division by zero")}",
                $"/api/logs?{s}", $"/api/logs?{s}&sort=timestamp:asc&limit=1000", $"/api/logs?{s}&q=checked", $"/api/logs?{s}&filter={Filter("and", "level", "in", "ERROR", "WARNING")}",
                $"/api/logs/summary?{s}", $"/api/logs/trend?{s}", $"/api/logs/trend?{s}&bucket=hour", $"/api/logs/values?{s}&column=level",
            ];
            foreach (var path in paths)
            {
                questions.Add(path);
            }
        }

        foreach (var (script, run) in new[] { (LakeModeFixture.Shared, "q00"), (LakeModeFixture.Shared, "q03"), (LakeModeFixture.Shared, "q10"), (LakeModeFixture.Shared, "q-open"), (LakeModeFixture.Escaped, "n05") })
        {
            var s = $"script={Uri.EscapeDataString(script)}";
            questions.Add($"/api/runs/{run}?{s}&{Range}");
            questions.Add($"/api/runs/{run}?{s}&{Range}&sort=responseTimeMs:asc&filter={Filter("and", "status", "neq", "Failed")}");
            questions.Add($"/api/logs?{s}&runId={run}");
            questions.Add($"/api/logs?{s}&runId={run}&sort=timestamp:asc");
            questions.Add($"/api/logs/summary?{s}&runId={run}");
        }

        return questions;
    }

    [Theory]
    [MemberData(nameof(Questions))]
    public async Task Get_AnswersAsOneStoreWithAllTheData(string path)
    {
        var (lake, reference) = (await Json(fixture.Lake.Api, path), await Json(fixture.Reference.Api, path));

        Assert.Equal(reference.ToJsonString(), WithoutNode(lake).ToJsonString());
    }

    [Theory]
    [InlineData("runs", "responseTimeMs:asc")]
    [InlineData("runs", "executedOn:desc")]
    [InlineData("logs", "timestamp:asc")]
    public async Task Pages_WalkTheSameRowsAsOneStore(string list, string sort)
    {
        var first = $"/api/{list}?script={LakeModeFixture.Shared}&{Range}&sort={sort}&limit=7";
        var pages = 0;
        for (var (path, cursor) = (first, (string?)null); pages == 0 || cursor is not null; pages++)
        {
            var at = cursor is null ? path : $"{path}&cursor={Uri.EscapeDataString(cursor)}";
            var (lake, reference) = (await Json(fixture.Lake.Api, at), await Json(fixture.Reference.Api, at));
            Assert.Equal(reference.ToJsonString(), WithoutNode(lake).ToJsonString());
            cursor = lake["nextCursor"]?.GetValue<string>();
        }

        Assert.True(pages > 5, $"{pages} pages");
    }

    [Theory]
    [InlineData("runs", "csv")]
    [InlineData("runs", "parquet")]
    [InlineData("logs", "csv")]
    [InlineData("logs", "parquet")]
    public async Task Export_HoldsTheRowsOfOneStore_AndTheirNode(string list, string format)
    {
        var path = $"/api/{list}/export?script={Uri.EscapeDataString(LakeModeFixture.Shared)}&{Range}&format={format}";
        var folder = new TempFolder();
        var (lakeFile, referenceFile) = (Path.Combine(folder.Path, $"lake.{format}"), Path.Combine(folder.Path, $"reference.{format}"));
        await File.WriteAllBytesAsync(lakeFile, await Bytes(fixture.Lake.Api, path));
        await File.WriteAllBytesAsync(referenceFile, await Bytes(fixture.Reference.Api, path));

        var read = format == "csv" ? "read_csv('{0}', all_varchar = true)" : "'{0}'";
        var lake = Database.Query(":memory:", $"SELECT * EXCLUDE (node) FROM {string.Format(read, lakeFile)}");
        var reference = Database.Query(":memory:", $"SELECT * FROM {string.Format(read, referenceFile)}");
        var nodes = Database.Query(":memory:", $"SELECT DISTINCT node FROM {string.Format(read, lakeFile)} ORDER BY 1").Select(r => (string)r[0]!);

        Assert.NotEmpty(reference);
        Assert.Equal(JsonSerializer.Serialize(reference), JsonSerializer.Serialize(lake));
        Assert.Equal(["node-a", "node-b"], nodes);
    }

    [Theory]
    // updated_at and committed_at are when each store wrote the row: the reference's differ from the node's.
    [InlineData("select * exclude (node, updated_at) from runs order by script, run_id", "select * exclude (updated_at) from runs order by script, run_id")]
    [InlineData("select * exclude (node) from logs order by script, run_id, log_id", "select * from logs order by script, run_id, log_id")]
    [InlineData("select * exclude (node, committed_at) from spans order by script, trace_id, span_id", "select * exclude (committed_at) from spans order by script, trace_id, span_id")]
    [InlineData("select script, status, count(*), quantile_cont(response_time_ms, 0.9) from runs group by all order by all", null)]
    public async Task Sql_ReadsWhatOneStoreHolds(string lakeSql, string? referenceSql)
    {
        var lake = await Sql(fixture.Lake.Api, lakeSql);
        var reference = await Sql(fixture.Reference.Api, referenceSql ?? lakeSql);

        Assert.Equal(reference["columns"]!.ToJsonString(), lake["columns"]!.ToJsonString());
        Assert.Equal(reference["rows"]!.ToJsonString(), lake["rows"]!.ToJsonString());
        Assert.False(lake["truncated"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Runs_CarryTheirNode_FilterableSortableAndPicked()
    {
        var all = await Json(fixture.Lake.Api, $"/api/runs?script={LakeModeFixture.Shared}&{Range}&limit=1000&sort=node:asc");
        var onA = await Json(fixture.Lake.Api, $"/api/runs?script={LakeModeFixture.Shared}&{Range}&limit=1000&filter={Filter("and", "node", "eq", "NODE-A")}");
        var picked = await Json(fixture.Lake.Api, $"/api/runs/values?script={LakeModeFixture.Shared}&{Range}&column=node");
        var logsOnB = await Json(fixture.Lake.Api, $"/api/logs/summary?script={LakeModeFixture.Shared}&{Range}&filter={Filter("and", "node", "eq", "node-b")}");

        var nodes = all["items"]!.AsArray().Select(r => r!["node"]!.GetValue<string>()).ToList();
        Assert.Equal(nodes.Order(StringComparer.Ordinal), nodes);
        Assert.Equal(61, nodes.Count);
        Assert.Equal(fixture.RunsByNode["node-a"].Order(StringComparer.Ordinal), onA["items"]!.AsArray().Select(r => r!["runId"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Equal("""[{"value":"node-b","count":31},{"value":"node-a","count":30}]""", picked["values"]!.ToJsonString());
        Assert.Equal(67, logsOnB["totalLogs"]!.GetValue<long>()); // 30 runs of two logs, 6 plain prints, and q-open's one
        Assert.Equal("node-a", (await Json(fixture.Lake.Api, $"/api/runs/q00?script={LakeModeFixture.Shared}"))["run"]!["node"]!.GetValue<string>());
        Assert.Equal(
            """[{"node":"node-c","count":20}]""",
            (await Sql(fixture.Lake.Api, $"select node, count(*) as count from runs where script = '{LakeModeFixture.Escaped}' group by node"))["rows"]!.AsArray()
                .Select(r => new JsonObject { ["node"] = r![0]!.GetValue<string>(), ["count"] = r[1]!.GetValue<long>() }).Aggregate(new JsonArray(), (a, o) => { a.Add(o); return a; }).ToJsonString());
    }

    [Fact]
    public async Task StoreMode_HasNoNode_AndRefusesItsFilter()
    {
        var runs = await Json(fixture.Reference.Api, $"/api/runs?script={LakeModeFixture.Shared}&{Range}");
        using var filtered = await fixture.Reference.Api.GetAsync($"/api/runs?script={LakeModeFixture.Shared}&{Range}&filter={Filter("and", "node", "eq", "node-a")}");
        using var picked = await fixture.Reference.Api.GetAsync($"/api/runs/values?script={LakeModeFixture.Shared}&{Range}&column=node");

        Assert.DoesNotContain("node", runs["items"]![0]!.AsObject().Select(p => p.Key));
        Assert.Equal(HttpStatusCode.BadRequest, filtered.StatusCode);
        Assert.Contains("unknown run column 'node'", await filtered.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, picked.StatusCode);
    }

    [Fact]
    public async Task ScopedToken_SeesOnlyItsScripts()
    {
        using var api = new HttpClient { BaseAddress = fixture.Lake.ApiAddress, Timeout = TestDaemon.Timeout };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", LakeModeFixture.ReadQbalance);

        var scripts = await Json(api, "/api/scripts");
        var summary = await Json(api, $"/api/runs/summary?script={LakeModeFixture.Shared}&{Range}");
        using var other = await api.GetAsync($"/api/runs?script={Uri.EscapeDataString(LakeModeFixture.Escaped)}&{Range}");
        using var otherSummary = await api.GetAsync($"/api/runs/summary?script={Uri.EscapeDataString(LakeModeFixture.Escaped)}&{Range}");
        var sql = await Sql(api, "select script, count(*) from runs group by script union all select script, count(*) from logs group by script order by all");
        using var anonymous = await new HttpClient { BaseAddress = fixture.Lake.ApiAddress, Timeout = TestDaemon.Timeout }.GetAsync("/api/scripts");

        Assert.Equal([LakeModeFixture.Shared], scripts.AsArray().Select(s => s!["name"]!.GetValue<string>()));
        Assert.Equal(61, summary["totalRuns"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, otherSummary.StatusCode);
        Assert.Equal("""[["Qbalance",61],["Qbalance",127]]""", sql["rows"]!.ToJsonString());
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task StoreEndpoints_AnswerForLakeMode()
    {
        using var backup = await fixture.Lake.Api.PostAsync("/api/backup", null);
        using var ready = await fixture.Lake.Api.GetAsync("/readyz");
        using var alive = await fixture.Lake.Api.GetAsync("/healthz");
        using var ingest = await fixture.Lake.Api.PostAsync("/v1/traces", Protobuf(Google.Protobuf.MessageExtensions.ToByteArray(Traces("x", RunSpan("r", T0, TimeSpan.FromSeconds(1))))));
        using var stream = await fixture.Lake.Api.GetAsync($"/api/runs/q03/logs/stream?script={LakeModeFixture.Shared}", HttpCompletionOption.ResponseContentRead);
        var events = await stream.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, backup.StatusCode);
        Assert.Contains("lake mode", await backup.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.False(ingest.IsSuccessStatusCode);
        Assert.Equal([fixture.Lake.ApiAddress], new[] { fixture.Lake.GrpcAddress, fixture.Lake.HttpAddress, fixture.Lake.ApiAddress }.Distinct());
        Assert.Equal(3, events.Split("event: log\n").Length - 1); // two logs and the unmirrored print
        Assert.Contains("event: end", events, StringComparison.Ordinal);
        Assert.Contains("\"node\":\"node-b\"", events, StringComparison.Ordinal);
    }

    internal static string Filter(string op, string column, string @operator, params string[] values) =>
        Uri.EscapeDataString(JsonSerializer.Serialize(new { op, conditions = new[] { new { column, @operator, values } } }));

    internal static async Task<JsonNode> Json(HttpClient api, string path)
    {
        using var response = await api.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    internal static async Task<JsonNode> Sql(HttpClient api, string sql)
    {
        using var response = await api.PostAsJsonAsync("/api/sql", new { sql });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{sql}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    private static async Task<byte[]> Bytes(HttpClient api, string path)
    {
        using var response = await api.GetAsync(path);
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode}");
        return await response.Content.ReadAsByteArrayAsync();
    }

    /// <summary>The answer without its node fields, which only a lake-mode daemon has.</summary>
    private static JsonNode WithoutNode(JsonNode node)
    {
        switch (node)
        {
            case JsonObject o:
                o.Remove("node");
                foreach (var (_, value) in o.ToList())
                {
                    if (value is not null)
                    {
                        WithoutNode(value);
                    }
                }

                break;
            case JsonArray a:
                foreach (var item in a)
                {
                    if (item is not null)
                    {
                        WithoutNode(item);
                    }
                }

                break;
        }

        return node;
    }
}
