using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Console;

/// <summary>
/// The console's questions after a deploy, in Chromium against a real daemon fed over OTLP: the Versions tab (versions
/// side by side, the worst change marked, a version opens its runs) and the Top errors tab (failed runs grouped by
/// their error with numbers and ids masked, a group opens its runs).
/// </summary>
public sealed class InsightsConsoleTests : IAsyncLifetime
{
    private const string Deploys = "Deploys";
    private const string Failing = "Failing";

    private static readonly string[] TimeoutRuns = ["run_t1", "run_t2", "run_t3"];
    private static readonly string[] KeyRuns = ["run_k1", "run_k2"];

    private TestDaemon _daemon = null!;
    private ConsoleBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _daemon = await TestDaemon.StartAsync();
        var client = new TraceService.TraceServiceClient(_daemon.Grpc);
        var start = DateTime.UtcNow.AddHours(-3);

        // Three deployment versions: v2 a little faster and more reliable than v1, v3 slower and failing more often.
        var runs = new List<Span>();
        void Version(int version, int succeeded, int failed, Func<int, int> durationMs)
        {
            for (var i = 0; i < succeeded + failed; i++)
            {
                var at = start.AddMinutes((version * 40) + i);
                runs.Add(RunSpan($"run_v{version}_{i:00}", at, TimeSpan.FromMilliseconds(i < succeeded ? durationMs(i) : 40), failed: i >= succeeded,
                    deploymentId: $"deploy_v{version}", extra: Attr("deployment.version", version)));
            }
        }

        Version(1, 8, 2, i => 100 + (i * 2));
        Version(2, 9, 1, i => 90 + (i * 2));
        Version(3, 7, 3, i => 250 + (i * 5));
        await client.ExportAsync(Traces(Deploys, [.. runs]), deadline: TestDaemon.Deadline());

        // Failed runs whose errors differ only in numbers and ids, one other error, and a run that succeeded.
        Span Failed(string runId, int minute, string error)
        {
            var span = RunSpan(runId, start.AddMinutes(minute), TimeSpan.FromMilliseconds(50), failed: true);
            span.Status.Message = error;
            return span;
        }

        await client.ExportAsync(Traces(Failing,
            Failed(TimeoutRuns[0], 1, "TimeoutError: request 4812 timed out after 30 s"),
            Failed(KeyRuns[0], 2, "KeyError: customer 3f2b9c1e-7d4a-4b8e-9f1a-2c3d4e5f6a7b not found"),
            Failed(TimeoutRuns[1], 3, "TimeoutError: request 77 timed out after 45 s"),
            Failed("run_z1", 4, "ZeroDivisionError: division by zero"),
            Failed(TimeoutRuns[2], 5, "TimeoutError: request 123456 timed out after 30 s"),
            Failed(KeyRuns[1], 6, "KeyError: customer 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d not found"),
            RunSpan("run_ok", start.AddMinutes(7), TimeSpan.FromMilliseconds(60))), deadline: TestDaemon.Deadline());

        _browser = await ConsoleBrowser.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        await _daemon.DisposeAsync();
    }

    [Fact]
    public async Task Versions_SideBySide_WorstChangeMarked_AVersionOpensExactlyItsRuns()
    {
        await using var watched = await _browser.NewPageAsync();
        var page = watched.Page;
        await page.GotoAsync($"{_daemon.ApiAddress}?script={Deploys}");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(30);

        // One refresh of the tab asks the API one question.
        var asked = new List<string>();
        page.Request += (_, request) =>
        {
            if (new Uri(request.Url).AbsolutePath.StartsWith("/api/", StringComparison.Ordinal))
            {
                asked.Add(new Uri(request.Url).AbsolutePath);
            }
        };
        await page.ClickAsync("#tab-versions");
        await Assertions.Expect(page.Locator("#tab-versions")).ToHaveAttributeAsync("aria-selected", "true");
        await Assertions.Expect(page.Locator("#panel-versions")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#panel-runs")).ToBeHiddenAsync();
        var rows = page.Locator("#versions tr");
        await Assertions.Expect(rows).ToHaveCountAsync(3);
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        Assert.Equal("/api/runs/versions", Assert.Single(asked));
        Assert.Contains("tab=versions", page.Url);

        // Every value is the API's, version by version, ascending.
        var versions = (await _daemon.Api.GetFromJsonAsync<JsonElement>($"/api/runs/versions?{await SentQuery(page, "/api/runs/versions")}")).EnumerateArray().ToList();
        Assert.Equal("1 2 3", string.Join(' ', versions.Select(v => v.GetProperty("deploymentVersion").GetInt32())));
        for (var i = 0; i < versions.Count; i++)
        {
            var v = versions[i];
            var cells = rows.Nth(i).Locator("td");
            await Assertions.Expect(cells.Nth(0)).ToHaveTextAsync(v.GetProperty("deploymentVersion").GetInt32().ToString(CultureInfo.InvariantCulture));
            await Assertions.Expect(cells.Nth(1)).ToHaveTextAsync(v.GetProperty("runs").GetInt32().ToString(CultureInfo.InvariantCulture));
            await Assertions.Expect(cells.Nth(2)).ToHaveTextAsync(v.GetProperty("failureRate").GetDouble().ToString("0.00", CultureInfo.InvariantCulture) + "%");
            await Assertions.Expect(cells.Nth(3)).ToHaveTextAsync(StartsWith(Points(v.GetProperty("failureRateChange"))));
            await Assertions.Expect(cells.Nth(4)).ToHaveTextAsync(Ms(v.GetProperty("p90Ms").GetDouble()));
            await Assertions.Expect(cells.Nth(5)).ToHaveTextAsync(StartsWith(Percent(v.GetProperty("p90Change"))));
            await Assertions.Expect(cells.Nth(6)).ToHaveTextAsync(Ms(v.GetProperty("p99Ms").GetDouble()));
            await Assertions.Expect(cells.Nth(7)).ToHaveTextAsync(StartsWith(Percent(v.GetProperty("p99Change"))));
        }

        // v1 has nothing to compare with; v2 improved; v3 regressed on all three measures.
        Assert.Equal(JsonValueKind.Null, versions[0].GetProperty("previousVersion").ValueKind);
        await Assertions.Expect(rows.Nth(0).Locator("td.change")).ToHaveTextAsync(["–", "–", "–"]);
        await Assertions.Expect(rows.Nth(1).Locator("td.change.better")).ToHaveCountAsync(3);
        await Assertions.Expect(rows.Nth(2).Locator("td.change.worse")).ToHaveCountAsync(3);

        // The worst change is the largest rise over every version (failure rate in points, P90 and P99 in percent): one
        // cell, in v3's row, labelled.
        var worst = versions
            .SelectMany(v => new[] { ("failureRateChange", 1.0), ("p90Change", 100.0), ("p99Change", 100.0) }
                .Where(m => v.GetProperty(m.Item1).ValueKind == JsonValueKind.Number && v.GetProperty(m.Item1).GetDouble() > 0)
                .Select(m => (Version: v.GetProperty("deploymentVersion").GetInt32(), Measure: m.Item1, Rise: v.GetProperty(m.Item1).GetDouble() * m.Item2)))
            .MaxBy(c => c.Rise);
        Assert.Equal(3, worst.Version);
        await Assertions.Expect(page.Locator("#versions td.worst")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#versions tr.worst")).ToHaveAttributeAsync("data-version", "3");
        var marked = page.Locator("#versions tr[data-version='3'] td.worst");
        await Assertions.Expect(marked).ToHaveAttributeAsync("data-measure", worst.Measure);
        await Assertions.Expect(marked.Locator(".worst-label")).ToHaveTextAsync("worst change");
        await Assertions.Expect(page.Locator("#versions-worst")).ToContainTextAsync("of version 3");
        await ConsoleBrowser.ShotAsync(page, "console-versions", forDocs: true);

        // A version opens All Runs filtered to it: exactly its ten runs.
        await page.ClickAsync("#versions tr[data-version='3']");
        await Assertions.Expect(page.Locator("#tab-runs")).ToHaveAttributeAsync("aria-selected", "true");
        await Assertions.Expect(page.Locator("#filter-count")).ToHaveTextAsync("1");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(10);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"run_v3_{i:00}").Order(), (await page.Locator("#runs tr td.id").AllInnerTextsAsync()).Select(Id).Order());
        await Assertions.Expect(page.Locator("#runs tr td:nth-child(3)")).ToHaveTextAsync(Enumerable.Repeat("3", 10).ToArray());
        var filter = JsonDocument.Parse(System.Web.HttpUtility.ParseQueryString(new Uri(page.Url).Query)["runsFilter"]!).RootElement;
        Assert.Equal("""{"op":"and","conditions":[{"column":"deploymentVersion","operator":"eq","values":["3"]}]}""", filter.GetRawText());

        // The Versions tab counts under the All Runs filters and search: here, v3 only.
        await page.ClickAsync("#tab-versions");
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows.Nth(0).Locator("td").Nth(1)).ToHaveTextAsync("10");
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task TopErrors_GroupsErrorsThatDifferOnlyInNumbersAndIds_AGroupOpensExactlyItsRuns()
    {
        await using var watched = await _browser.NewPageAsync();
        var page = watched.Page;
        var asked = new List<string>();
        page.Request += (_, request) =>
        {
            if (new Uri(request.Url).AbsolutePath.StartsWith("/api/runs", StringComparison.Ordinal))
            {
                asked.Add(new Uri(request.Url).AbsolutePath);
            }
        };
        await page.GotoAsync($"{_daemon.ApiAddress}?script={Failing}&tab=errors");
        await Assertions.Expect(page.Locator("#tab-errors")).ToHaveAttributeAsync("aria-selected", "true");
        var rows = page.Locator("#errors tr");
        await Assertions.Expect(rows).ToHaveCountAsync(3);
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        Assert.Equal("/api/runs/errors", Assert.Single(asked));

        // The groups are the API's, most frequent first: three timeouts, two missing customers, one division by zero.
        var groups = (await _daemon.Api.GetFromJsonAsync<JsonElement>($"/api/runs/errors?{await SentQuery(page, "/api/runs/errors")}")).EnumerateArray().ToList();
        Assert.Equal("3 2 1", string.Join(' ', groups.Select(g => g.GetProperty("count").GetInt32())));
        for (var i = 0; i < groups.Count; i++)
        {
            var g = groups[i];
            var cells = rows.Nth(i).Locator("td");
            await Assertions.Expect(cells.Nth(0)).ToHaveTextAsync(g.GetProperty("group").GetString()!);
            await Assertions.Expect(cells.Nth(1)).ToHaveTextAsync(g.GetProperty("example").GetString()!);
            await Assertions.Expect(cells.Nth(2)).ToHaveTextAsync(g.GetProperty("count").GetInt32().ToString(CultureInfo.InvariantCulture));
            await Assertions.Expect(cells.Nth(3)).ToHaveTextAsync(await Local(page, g.GetProperty("firstSeen").GetString()!));
            await Assertions.Expect(cells.Nth(4)).ToHaveTextAsync(await Local(page, g.GetProperty("lastSeen").GetString()!));
        }

        await Assertions.Expect(rows.Nth(0).Locator("td").Nth(0)).ToContainTextAsync("TimeoutError");
        await Assertions.Expect(rows.Nth(1).Locator("td").Nth(0)).ToContainTextAsync("KeyError");
        await ConsoleBrowser.ShotAsync(page, "console-errors", forDocs: true);

        // A group opens All Runs filtered to it: exactly its runs, the timeouts, then the missing customers.
        await rows.Nth(0).ClickAsync();
        await Assertions.Expect(page.Locator("#tab-runs")).ToHaveAttributeAsync("aria-selected", "true");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(3);
        Assert.Equal(TimeoutRuns, (await page.Locator("#runs tr td.id").AllInnerTextsAsync()).Select(Id).Order());
        Assert.Contains("errorGroup", Uri.UnescapeDataString(page.Url));

        await page.ClickAsync("#tab-errors");
        await Assertions.Expect(rows).ToHaveCountAsync(1); // Under the All Runs filter: that group only.
        await page.ClickAsync("#filter-button");
        await page.ClickAsync("#filter-clear");
        await Assertions.Expect(rows).ToHaveCountAsync(3);
        await page.Locator("#errors tr", new() { HasText = "KeyError" }).PressAsync("Enter");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(2);
        Assert.Equal(KeyRuns, (await page.Locator("#runs tr td.id").AllInnerTextsAsync()).Select(Id).Order());
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task EmptyPeriod_BothTabsSaySo()
    {
        await using var watched = await _browser.NewPageAsync();
        var page = watched.Page;
        const string past = "range=custom&from=2001-01-01T00:00&to=2001-01-02T00:00";

        await page.GotoAsync($"{_daemon.ApiAddress}?script={Deploys}&{past}&tab=versions");
        await Assertions.Expect(page.Locator("#versions-empty")).ToHaveTextAsync("No runs in the selected period");
        await Assertions.Expect(page.Locator("#versions-table")).ToBeHiddenAsync();

        // Nor any failed run.
        await page.ClickAsync("#tab-errors");
        await Assertions.Expect(page.Locator("#errors-empty")).ToHaveTextAsync("No failed runs in the selected period");
        await Assertions.Expect(page.Locator("#errors-table")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#versions-empty")).ToBeHiddenAsync();

        // Back to a period with data: the tables come back and the notes go.
        await page.SelectOptionAsync("#range", "week");
        await Assertions.Expect(page.Locator("#errors tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#errors tr td").Nth(2)).ToHaveTextAsync("6");
        await Assertions.Expect(page.Locator("#errors-empty")).ToBeHiddenAsync();
        await page.ClickAsync("#tab-versions");
        await Assertions.Expect(page.Locator("#versions tr")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("#versions-empty")).ToBeHiddenAsync();
        watched.AssertNoErrors();
    }

    /// <summary>The query string the page last sent to <paramref name="path"/>, to ask the API the same.</summary>
    private static Task<string> SentQuery(IPage page, string path) => page.EvaluateAsync<string>(
        "path => performance.getEntriesByType('resource').map(e => new URL(e.name)).filter(u => u.pathname === path).pop().search.slice(1)", path);

    /// <summary>The run id of a Run ID cell (the cell also holds its copy button).</summary>
    private static string Id(string cell) => cell.Replace("Copy", string.Empty, StringComparison.Ordinal).Trim();

    private static Task<string> Local(IPage page, string iso) => page.EvaluateAsync<string>("iso => new Date(iso).toLocaleString()", iso);

    /// <summary>The page's response time: whole milliseconds below a second, else seconds with two decimals.</summary>
    private static string Ms(double v) => v >= 1000
        ? (v / 1000).ToString("0.00", CultureInfo.InvariantCulture) + " s"
        : Math.Round(v, MidpointRounding.AwayFromZero).ToString(CultureInfo.InvariantCulture) + " ms";

    private static string Sign(double v) => v > 0 ? "+" : v < 0 ? "-" : "±";

    private static string Points(JsonElement v) => v.ValueKind == JsonValueKind.Null
        ? "–"
        : Sign(v.GetDouble()) + Math.Abs(v.GetDouble()).ToString("0.00", CultureInfo.InvariantCulture) + " pts";

    private static Regex StartsWith(string text) => new("^" + Regex.Escape(text));

    private static string Percent(JsonElement v) => v.ValueKind == JsonValueKind.Null
        ? "–"
        : Sign(v.GetDouble()) + Math.Abs(v.GetDouble() * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";
}
