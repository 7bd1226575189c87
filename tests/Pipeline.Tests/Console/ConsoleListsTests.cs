using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Trace.V1;
using Pipeline.Tests.Support;
using Xunit.Abstractions;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Console;

/// <summary>One Chromium for the class's tests (each test has its own daemon and its own browser context).</summary>
public sealed class ConsoleBrowserFixture : IAsyncLifetime
{
    internal ConsoleBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync() => Browser = await ConsoleBrowser.LaunchAsync();

    public async Task DisposeAsync() => await Browser.DisposeAsync();
}

/// <summary>
/// The console's lists (All Runs, Logs): each tab's own filters, filters in the page's words, refreshes that overlap,
/// All Time over decades, log rows that open their run, empty periods, the live page, the charts, tabs, sort, copy,
/// the favicon and the time to the first figures. A real daemon fed over OTLP, a real Chromium; every test ends
/// with the browser console free of errors.
/// </summary>
public sealed class ConsoleListsTests(ConsoleBrowserFixture fixture, ITestOutputHelper output) : IClassFixture<ConsoleBrowserFixture>
{
    private const string Script = "Qbalance";
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    [Fact]
    public async Task Filters_ARunFilter_LeavesTheLogsTabItsOwn_BadgeExportAndUrlFollowTheTab()
    {
        await using var daemon = await SeededAsync();
        await using var watched = await NewPageAsync(daemon, downloads: true);
        var page = watched.Page;
        await page.GotoAsync($"{daemon.ApiAddress}?script={Script}");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(5);

        // All Runs: Status is Failed.
        await page.ClickAsync("#filter-button");
        await page.Locator(".filter-row select[aria-label=Column]").SelectOptionAsync(new SelectOptionValue { Label = "Status" });
        await page.FillAsync(".filter-row input", "Failed");
        await page.ClickAsync("#filter-panel button[type=submit]");
        await Assertions.Expect(page.Locator("#filter-count")).ToHaveTextAsync("1");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(1);

        // Logs: they load, under no filter, and the badge says so.
        await page.ClickAsync("#tab-logs");
        var logs = await daemon.Api.GetFromJsonAsync<JsonElement>($"/api/logs/summary?script={Script}");
        await Assertions.Expect(page.Locator("#kpi-logs")).ToHaveTextAsync(logs.GetProperty("totalLogs").GetInt32().ToString(Invariant));
        await Assertions.Expect(page.Locator("#logs tr")).ToHaveCountAsync(logs.GetProperty("totalLogs").GetInt32());
        await Assertions.Expect(page.Locator("#filter-count")).ToHaveTextAsync("0");
        await Assertions.Expect(page.Locator("#empty")).ToBeHiddenAsync();
        Assert.Contains("runsFilter=", page.Url);

        // Export on the Logs tab exports the logs, every one of them.
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#export-csv"));
        Assert.Equal($"{Script}_logs_data.csv", download.SuggestedFilename);
        var file = Path.Combine(new TempFolder().Path, download.SuggestedFilename);
        await download.SaveAsAsync(file);
        Assert.Equal(logs.GetProperty("totalLogs").GetInt32() + 1, (await File.ReadAllLinesAsync(file)).Length);

        // The open panel follows the tab: a filter of the Logs tab, Log level is Error; both filters are in the URL.
        await Assertions.Expect(page.Locator("#filter-panel")).ToHaveAttributeAsync("aria-label", "Filters of Logs");
        await Assertions.Expect(page.Locator(".filter-row select[aria-label=Column]")).ToHaveValueAsync("level");
        await Assertions.Expect(page.Locator(".filter-row .chip")).ToHaveCountAsync(0);
        await page.FillAsync(".filter-row input", "Error");
        await page.ClickAsync("#filter-panel button[type=submit]");
        await Assertions.Expect(page.Locator("#logs tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#filter-count")).ToHaveTextAsync("1");
        Assert.Contains("runsFilter=", page.Url);
        Assert.Contains("logsFilter=", page.Url);

        // Back on All Runs, its filter is still there, and the open panel shows it.
        await page.ClickAsync("#tab-runs");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#runs tr")).ToContainTextAsync("run_b");
        await Assertions.Expect(page.Locator(".filter-row select[aria-label=Column]")).ToHaveValueAsync("status");
        await Assertions.Expect(page.Locator(".filter-row .chip")).ToHaveTextAsync("Failed ×");

        // Opened elsewhere, the URL gives both tabs their filters.
        var shared = await watched.Context.NewPageAsync();
        await shared.GotoAsync(page.Url);
        await Assertions.Expect(shared.Locator("#runs tr")).ToHaveCountAsync(1);
        await shared.ClickAsync("#tab-logs");
        await Assertions.Expect(shared.Locator("#logs tr")).ToHaveCountAsync(1);
        await Assertions.Expect(shared.Locator("#logs tr")).ToContainTextAsync("Lookup failed");
        await shared.CloseAsync();
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task Filters_SpeakThePagesLanguage_OperatorsFitTheColumn_PickListsHoldThePeriodsValues()
    {
        await using var daemon = await SeededAsync();
        await using var watched = await NewPageAsync(daemon);
        var page = watched.Page;
        await page.GotoAsync($"{daemon.ApiAddress}?script={Script}");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(5);
        await page.ClickAsync("#filter-button");
        var row = page.Locator(".filter-row").First;
        var column = row.Locator("select[aria-label=Column]");
        var operators = row.Locator("select[aria-label=Operator]");
        var pick = row.Locator("select[aria-label='Pick a value']");

        // The run columns, as the page names them (every one but Executed On).
        Assert.Equal(
            ["Run ID", "Status", "Deployment Version", "Deployment ID", "Response Time", "Function", "Source Type", "Source", "Error", "Error group", "Script"],
            await column.Locator("option").AllTextContentsAsync());

        // An enumeration: is, is not, is any of, is none of; its values in the period, most frequent first.
        await column.SelectOptionAsync(new SelectOptionValue { Label = "Status" });
        Assert.Equal(["is", "is not", "is any of", "is none of"], await operators.Locator("option").AllTextContentsAsync());
        await Assertions.Expect(pick.Locator("option")).ToHaveTextAsync(["Pick a value…", "Success (3)", "Failed (1)", "In Progress (1)"]);

        // Text: contains and does not contain too; no pick-list.
        await column.SelectOptionAsync(new SelectOptionValue { Label = "Run ID" });
        Assert.Equal(["is", "is not", "is any of", "is none of", "contains", "does not contain"], await operators.Locator("option").AllTextContentsAsync());
        await Assertions.Expect(pick).ToBeHiddenAsync();

        // A number: comparisons, no contains.
        await column.SelectOptionAsync(new SelectOptionValue { Label = "Response Time" });
        Assert.Equal(["is", "is not", "is any of", "is none of", "greater than", "at least", "less than", "at most"], await operators.Locator("option").AllTextContentsAsync());

        // Deployment Version, Function, Source Type and Source offer the period's values.
        await column.SelectOptionAsync(new SelectOptionValue { Label = "Deployment Version" });
        await Assertions.Expect(pick.Locator("option")).ToHaveTextAsync(["Pick a value…", "2 (3)", "1 (2)"]);
        await column.SelectOptionAsync(new SelectOptionValue { Label = "Function" });
        await Assertions.Expect(pick.Locator("option")).ToHaveTextAsync(["Pick a value…", "call_openai_chat (3)", "divide (1)"]);
        await column.SelectOptionAsync(new SelectOptionValue { Label = "Source Type" });
        await Assertions.Expect(pick.Locator("option")).ToHaveTextAsync(["Pick a value…", "API (3)", "Tool (1)", "test (1)"]);
        await column.SelectOptionAsync(new SelectOptionValue { Label = "Source" });
        await Assertions.Expect(pick.Locator("option").Nth(1)).ToHaveTextAsync("Qbalance flow (4)");

        // Picked values: Status is any of Success, Failed: four runs.
        await column.SelectOptionAsync(new SelectOptionValue { Label = "Status" });
        await operators.SelectOptionAsync(new SelectOptionValue { Label = "is any of" });
        await pick.SelectOptionAsync("Success");
        await pick.SelectOptionAsync("Failed");
        await Assertions.Expect(row.Locator(".chip")).ToHaveTextAsync(["Success ×", "Failed ×"]);
        await page.ClickAsync("#filter-panel button[type=submit]");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(4);

        // A second condition, AND: Response Time at least 200 ms (one value: a second one replaces it).
        await page.ClickAsync("#filter-add");
        var second = page.Locator(".filter-row").Nth(1);
        await second.Locator("select[aria-label=Column]").SelectOptionAsync(new SelectOptionValue { Label = "Response Time" });
        await second.Locator("select[aria-label=Operator]").SelectOptionAsync(new SelectOptionValue { Label = "at least" });
        await second.Locator("input").FillAsync("100");
        await second.Locator("input").PressAsync("Tab");
        await second.Locator("input").FillAsync("200");
        await second.Locator("input").PressAsync("Tab");
        await Assertions.Expect(second.Locator(".chip")).ToHaveTextAsync(["200 ×"]);
        await page.ClickAsync("#filter-panel button[type=submit]");
        await Assertions.Expect(page.Locator("#filter-count")).ToHaveTextAsync("2");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#runs tr")).ToContainTextAsync("run_d");

        // Typed in any case, a value still matches: "failed" is Failed.
        await page.ClickAsync("#filter-clear");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(5);
        await page.Locator(".filter-row select[aria-label=Column]").SelectOptionAsync(new SelectOptionValue { Label = "Status" });
        await page.FillAsync(".filter-row input", "failed");
        await page.ClickAsync("#filter-panel button[type=submit]");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(1);

        // The Logs tab: Log ID, Run ID, Log level, Log message, Script; Log level's values.
        await page.ClickAsync("#tab-logs");
        await Assertions.Expect(page.Locator(".filter-row select[aria-label=Column] option")).ToHaveTextAsync(["Log ID", "Run ID", "Log level", "Log message", "Script"]);
        await Assertions.Expect(page.Locator(".filter-row select[aria-label=Column]")).ToHaveValueAsync("level");
        await Assertions.Expect(page.Locator(".filter-row select[aria-label='Pick a value'] option")).ToHaveTextAsync(["Pick a value…", "Info (2)", "Debug (1)", "Error (1)"]);
        await page.Locator(".filter-row select[aria-label=Column]").SelectOptionAsync(new SelectOptionValue { Label = "Log message" });
        await page.Locator(".filter-row select[aria-label=Operator]").SelectOptionAsync(new SelectOptionValue { Label = "contains" });
        await page.FillAsync(".filter-row input", "adding");
        await page.ClickAsync("#filter-panel button[type=submit]");
        await Assertions.Expect(page.Locator("#logs tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#logs tr")).ToContainTextAsync("Adding item");
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task Refreshes_ThatOverlap_ShowOnlyTheNewestAnswer_NeverARowTwice()
    {
        await using var daemon = await SeededAsync();
        await using var watched = await NewPageAsync(daemon);
        var page = watched.Page;
        await page.GotoAsync($"{daemon.ApiAddress}?script={Script}");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(5);

        // The network holds the first answer of the list back, so that it comes after the second.
        var held = 0;
        await page.RouteAsync(new Regex(@"/api/runs\?"), async route =>
        {
            if (Interlocked.Increment(ref held) == 1)
            {
                await Task.Delay(2000);
            }

            try
            {
                await route.ContinueAsync();
            }
            catch (PlaywrightException)
            {
                // The page cancelled that request: nothing to continue.
            }
        });

        // Change the period, and search at once: two refreshes in flight.
        await page.SelectOptionAsync("#range", "30d");
        await page.FillAsync("#q", "run_b");
        var searched = await daemon.Api.GetFromJsonAsync<JsonElement>($"/api/runs?script={Script}&q=run_b&from={Uri.EscapeDataString(DateTime.UtcNow.AddDays(-30).ToString("O"))}");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(searched.GetProperty("total").GetInt32());
        await page.WaitForTimeoutAsync(3000); // the held answer has come (or was cancelled) by now
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#runs tr")).ToContainTextAsync("run_b");
        Assert.True(held >= 2, $"both refreshes asked for the list ({held})");

        // Again, with no search: twice the same question quickly, the rows once each.
        await page.FillAsync("#q", "");
        await page.SelectOptionAsync("#range", "90d");
        await page.SelectOptionAsync("#range", "week");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(5);
        await page.WaitForTimeoutAsync(1000);
        var ids = await page.Locator("#runs tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.id)");
        Assert.Equal(5, ids.Distinct().Count());
        Assert.Equal(5, ids.Length);
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task AllTime_OnAStoreOfDecades_ChartsFromTheFirstRunToTheLast()
    {
        await using var daemon = await TestDaemon.StartAsync(new Dictionary<string, string?> { ["Retention:MaxAge"] = "20000.00:00:00" });
        var old = new DateTime(1995, 3, 14, 9, 0, 0, DateTimeKind.Utc);
        var now = DateTime.UtcNow.AddMinutes(-5);
        await ExportAsync(daemon,
            RunSpan("run_1995", old, TimeSpan.FromMilliseconds(200)),
            RunSpan("run_1995_b", old.AddDays(1), TimeSpan.FromMilliseconds(400), failed: true),
            LogSpan("run_1995", "INFO", "long ago", old.AddSeconds(1)),
            RunSpan("run_now", now, TimeSpan.FromMilliseconds(100)),
            LogSpan("run_now", "ERROR", "just now", now.AddSeconds(1)));
        await WaitForRunsAsync(daemon, 3, from: old.AddDays(-1));
        await using var watched = await NewPageAsync(daemon);
        var page = watched.Page;

        await page.GotoAsync($"{daemon.ApiAddress}?script={Script}&range=all");

        await Assertions.Expect(page.Locator("#kpi-total")).ToHaveTextAsync("3");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(3);
        // The chart runs from the first bar, in 1995, to the last, this year; its time axis counts years.
        var chart = page.Locator("#runs-chart");
        await Assertions.Expect(chart.Locator(".axis-x text").First).ToHaveTextAsync(new Regex(@"^(1995|1996)$"));
        await Assertions.Expect(chart.Locator(".axis-x text").Last).ToHaveTextAsync(new Regex(@"^20[0-9]{2}$"));
        await Assertions.Expect(chart.Locator("rect.bar.runs")).ToHaveCountAsync(2);
        await chart.Locator("svg").FocusAsync();
        await page.Keyboard.PressAsync("Home");
        await Assertions.Expect(chart.Locator(".chart-tip strong")).ToContainTextAsync("1995");
        await Assertions.Expect(chart.Locator(".chart-tip")).ToContainTextAsync("Runs: 2");
        await page.Keyboard.PressAsync("End");
        await Assertions.Expect(chart.Locator(".chart-tip strong")).ToContainTextAsync(now.Year.ToString(Invariant));
        await Assertions.Expect(chart.Locator(".chart-tip")).ToContainTextAsync("Runs: 1");
        Assert.Equal(3, await SumOfTipsAsync(page, chart, "Runs"));
        await Assertions.Expect(page.Locator("#empty")).ToBeHiddenAsync();
        await ConsoleBrowser.ShotAsync(page, "console-all-time");

        // The Logs tab too.
        await page.ClickAsync("#tab-logs");
        await Assertions.Expect(page.Locator("#kpi-logs")).ToHaveTextAsync("2");
        await Assertions.Expect(page.Locator("#logs-chart .axis-x text").First).ToHaveTextAsync(new Regex(@"^(1995|1996)$"));
        await Assertions.Expect(page.Locator("#logs-chart rect.bar")).ToHaveCountAsync(2);
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task LogsTab_ARow_OpensTheRecordOfItsRun_AtThatLog()
    {
        await using var daemon = await SeededAsync();
        await using var watched = await NewPageAsync(daemon);
        var page = watched.Page;
        await page.GotoAsync($"{daemon.ApiAddress}?script={Script}&tab=logs");
        await Assertions.Expect(page.Locator("#logs tr")).ToHaveCountAsync(4);
        var logId = (await daemon.Api.GetFromJsonAsync<JsonElement>($"/api/logs?script={Script}&q=Lookup"))
            .GetProperty("items")[0].GetProperty("logId").GetString()!;

        await page.ClickAsync("#logs tr:has-text('Lookup failed') td.message");

        await Assertions.Expect(page.Locator("#record-id")).ToHaveTextAsync("run_a");
        Assert.Contains("run=run_a", page.Url);
        Assert.Contains($"log={Uri.EscapeDataString(logId)}", page.Url);
        await Assertions.Expect(page.Locator("#workspace")).ToBeHiddenAsync();

        // Back, then the keyboard: Enter on a focused row does the same.
        await page.ClickAsync("#record-close");
        await Assertions.Expect(page.Locator("#logs tr")).ToHaveCountAsync(4);
        await page.Locator("#logs tr:has-text('started')").FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("#record-id")).ToHaveTextAsync("run_live");
        Assert.Contains("log=", page.Url);

        // A run opened from All Runs shows no particular log.
        await page.ClickAsync("#record-close");
        await page.ClickAsync("#tab-runs");
        await page.ClickAsync("#runs tr:has-text('run_c')");
        await Assertions.Expect(page.Locator("#record-id")).ToHaveTextAsync("run_c");
        Assert.DoesNotContain("log=", page.Url);
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task EmptyPeriod_SaysNoRunsAndNoLogsInTheSelectedPeriod()
    {
        await using var daemon = await SeededAsync();
        await using var watched = await NewPageAsync(daemon);
        var page = watched.Page;

        await page.GotoAsync($"{daemon.ApiAddress}?script={Script}&range=custom&from=2001-01-01T00:00&to=2001-01-08T00:00");

        await Assertions.Expect(page.Locator("#runs-empty")).ToHaveTextAsync("No runs in the selected period");
        await Assertions.Expect(page.Locator("#panel-runs .kpis")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#runs-chart")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#panel-runs table")).ToBeHiddenAsync();
        await page.ClickAsync("#tab-logs");
        await Assertions.Expect(page.Locator("#logs-empty")).ToHaveTextAsync("No logs in the selected period");
        await Assertions.Expect(page.Locator("#panel-logs .kpis")).ToBeHiddenAsync();

        // Back to a period with data: the figures again.
        await page.SelectOptionAsync("#range", "week");
        await Assertions.Expect(page.Locator("#logs tr")).ToHaveCountAsync(4);
        await Assertions.Expect(page.Locator("#logs-empty")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#panel-logs .kpis")).ToBeVisibleAsync();

        // A search that finds nothing says so in its own words.
        await page.ClickAsync("#tab-runs");
        await page.FillAsync("#q", "no-such-run");
        await Assertions.Expect(page.Locator("#runs-empty")).ToHaveTextAsync("No runs in the selected period match the search or filters.");
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task LivePage_NewRunsAppearWithTheirKpis_PauseHoldsThem_ResumeBringsThem()
    {
        await using var daemon = await SeededAsync();
        await using var watched = await NewPageAsync(daemon);
        var page = watched.Page;
        await page.GotoAsync($"{daemon.ApiAddress}?script={Script}");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(5);
        await Assertions.Expect(page.Locator("#live")).ToHaveTextAsync("Live");
        await Assertions.Expect(page.Locator("#live-toggle")).ToHaveTextAsync("Pause");
        await Assertions.Expect(page.Locator("#kpi-total")).ToHaveTextAsync("5");
        var bars = await SumOfTipsAsync(page, page.Locator("#runs-chart"), "Runs");

        // A run arrives: it shows up on top, and the KPIs and the chart count it.
        await ExportAsync(daemon, RunSpan("run_new", DateTime.UtcNow.AddSeconds(-1), TimeSpan.FromMilliseconds(90)));
        var live = new LocatorAssertionsToHaveTextOptions { Timeout = 30_000 };
        await Assertions.Expect(page.Locator("#runs tr").First).ToContainTextAsync("run_new", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("#kpi-total")).ToHaveTextAsync("6", live);
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(6);
        Assert.Equal(bars + 1, await SumOfTipsAsync(page, page.Locator("#runs-chart"), "Runs"));

        // Paused: another run does not show up.
        await page.ClickAsync("#live-toggle");
        await Assertions.Expect(page.Locator("#live")).ToHaveTextAsync("Paused");
        await Assertions.Expect(page.Locator("#live-toggle")).ToHaveTextAsync("Resume");
        await ExportAsync(daemon, RunSpan("run_paused", DateTime.UtcNow.AddSeconds(-1), TimeSpan.FromMilliseconds(90)));
        await WaitForRunsAsync(daemon, 7);
        await page.WaitForTimeoutAsync(12_000);
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(6);
        await Assertions.Expect(page.Locator("#kpi-total")).ToHaveTextAsync("6");

        // Resumed: it does.
        await page.ClickAsync("#live-toggle");
        await Assertions.Expect(page.Locator("#live")).ToHaveTextAsync("Live");
        await Assertions.Expect(page.Locator("#kpi-total")).ToHaveTextAsync("7", live);
        await Assertions.Expect(page.Locator("#runs tr").First).ToContainTextAsync("run_paused");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(7);

        // The Logs tab follows new logs the same way.
        await page.ClickAsync("#tab-logs");
        await Assertions.Expect(page.Locator("#kpi-logs")).ToHaveTextAsync("4");
        await ExportAsync(daemon, LogSpan("run_new", "WARNING", "arrived while watching", DateTime.UtcNow.AddSeconds(-1)));
        await Assertions.Expect(page.Locator("#logs tr").First).ToContainTextAsync("arrived while watching", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("#kpi-logs")).ToHaveTextAsync("5", live);
        await Assertions.Expect(page.Locator("#kpi-levels [data-level=Warning] strong")).ToHaveTextAsync("1");

        // A period in the past is not live.
        await page.SelectOptionAsync("#range", "lastMonth");
        await Assertions.Expect(page.Locator("#live")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#live-toggle")).ToBeHiddenAsync();
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task RunsChart_HasAxesALegendDetailsOnHover_AndAnHourDaySwitch()
    {
        await using var daemon = await SeededAsync();
        await using var watched = await NewPageAsync(daemon);
        var page = watched.Page;
        await page.GotoAsync($"{daemon.ApiAddress}?script={Script}");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(5);
        var chart = page.Locator("#runs-chart");

        // Legend and axes: time along the bottom, runs on the left, response time on the right.
        await Assertions.Expect(chart.Locator(".legend li")).ToHaveTextAsync(["Runs", "Failed", "P90", "P99"]);
        Assert.True(await chart.Locator(".axis-x text").CountAsync() >= 2);
        await Assertions.Expect(chart.Locator(".axis-y .axis-title")).ToHaveTextAsync("Runs");
        await Assertions.Expect(chart.Locator(".axis-y text").First).ToHaveTextAsync("0");
        await Assertions.Expect(chart.Locator(".axis-y2 .axis-title")).ToHaveTextAsync("Response Time");

        // The data spans a day and a half: the API picks hours; the week allows days too.
        await Assertions.Expect(chart.Locator(".bucket-switch button[aria-pressed=true]")).ToHaveTextAsync("By hour");
        var hourly = await daemon.Api.GetAsync($"/api/runs/trend?script={Script}&from={Uri.EscapeDataString(DateTime.UtcNow.AddDays(-7).ToString("O"))}");
        Assert.Equal("hour", hourly.Headers.GetValues("X-Bucket").Single());

        // Hover the bucket of the failed run: its details in a tooltip.
        var failed = chart.Locator("rect.bar.failed").First;
        await failed.HoverAsync(new() { Force = true });
        var tip = chart.Locator(".chart-tip");
        await Assertions.Expect(tip).ToBeVisibleAsync();
        await Assertions.Expect(tip).ToContainTextAsync("Failed: 1");
        await Assertions.Expect(tip).ToContainTextAsync("P90:");
        await ConsoleBrowser.ShotAsync(page, "chart-runs");
        await page.Mouse.MoveAsync(5, 5);
        await Assertions.Expect(tip).ToBeHiddenAsync();

        // The keyboard reaches every bucket too.
        await chart.Locator("svg").FocusAsync();
        await page.Keyboard.PressAsync("End");
        await Assertions.Expect(tip).ToBeVisibleAsync();

        // By day: one bar a day, in the URL.
        await chart.Locator(".bucket-switch button", new() { HasText = "By day" }).ClickAsync();
        await Assertions.Expect(chart.Locator(".bucket-switch button[aria-pressed=true]")).ToHaveTextAsync("By day");
        Assert.Contains("bucket=day", page.Url);
        await Assertions.Expect(chart.Locator("figcaption")).ToContainTextAsync("one day a bar");
        Assert.Equal(5, await SumOfTipsAsync(page, chart, "Runs"));

        // Today allows hours only: no switch.
        await page.SelectOptionAsync("#range", "today");
        await Assertions.Expect(chart.Locator(".bucket-switch")).ToBeHiddenAsync();
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task LogsTab_CountsEachLevel_AndChartsLevelsOverTime()
    {
        await using var daemon = await SeededAsync();
        await using var watched = await NewPageAsync(daemon);
        var page = watched.Page;
        await page.GotoAsync($"{daemon.ApiAddress}?script={Script}&tab=logs");
        await Assertions.Expect(page.Locator("#logs tr")).ToHaveCountAsync(4);

        var summary = await daemon.Api.GetFromJsonAsync<JsonElement>($"/api/logs/summary?script={Script}");
        foreach (var level in summary.GetProperty("byLevel").EnumerateObject())
        {
            await Assertions.Expect(page.Locator($"#kpi-levels [data-level={level.Name}] strong")).ToHaveTextAsync(level.Value.GetInt32().ToString(Invariant));
        }

        await Assertions.Expect(page.Locator("#kpi-levels .kpi span")).ToHaveTextAsync(["Error", "Info", "Debug"]);
        var chart = page.Locator("#logs-chart");
        await Assertions.Expect(chart.Locator(".legend li")).ToHaveTextAsync(["Error", "Info", "Debug"]);
        await Assertions.Expect(chart.Locator(".axis-y .axis-title")).ToHaveTextAsync("Logs");
        Assert.Equal(4, await SumOfTipsAsync(page, chart, "Total"));
        await chart.Locator("rect.bar.level-error").First.HoverAsync(new() { Force = true });
        await Assertions.Expect(chart.Locator(".chart-tip")).ToContainTextAsync("Error: 1");
        await ConsoleBrowser.ShotAsync(page, "chart-logs");
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task CopyButtons_SayCopied_ThenCopyAgain()
    {
        await using var daemon = await SeededAsync();
        await using var watched = await NewPageAsync(daemon, clipboard: true);
        var page = watched.Page;
        await page.GotoAsync($"{daemon.ApiAddress}?script={Script}");
        var copy = page.Locator("#runs tr:has-text('run_c') button.copy");

        await copy.ClickAsync(new() { Force = true });

        await Assertions.Expect(copy).ToHaveTextAsync("Copied");
        Assert.Equal("run_c", await page.EvaluateAsync<string>("navigator.clipboard.readText()"));
        await Assertions.Expect(copy).ToHaveTextAsync("Copy", new() { Timeout = 5000 });
        await Assertions.Expect(page.Locator("#record")).ToBeHiddenAsync(); // the click copied, it did not open the run

        // The record header's Copy Run ID too.
        await page.ClickAsync("#runs tr:has-text('run_b')");
        await page.ClickAsync("#copy-run");
        await Assertions.Expect(page.Locator("#copy-run")).ToHaveTextAsync("Copied");
        Assert.Equal("run_b", await page.EvaluateAsync<string>("navigator.clipboard.readText()"));
        await Assertions.Expect(page.Locator("#copy-run")).ToHaveTextAsync("Copy", new() { Timeout = 5000 });
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task Sort_FromTheUrl_ShowsInTheHeaders_AndAClickGoesBackIntoTheUrl()
    {
        await using var daemon = await SeededAsync();
        await using var watched = await NewPageAsync(daemon);
        var page = watched.Page;

        await page.GotoAsync($"{daemon.ApiAddress}?script={Script}&runsSort=responseTimeMs:asc&logsSort=level:desc");

        await Assertions.Expect(page.Locator("#runs tr").First).ToContainTextAsync("run_c");
        var response = page.Locator("th[data-sort=responseTimeMs]");
        await Assertions.Expect(response).ToHaveAttributeAsync("aria-sort", "ascending");
        await Assertions.Expect(page.Locator("th[data-sort=executedOn]")).ToHaveAttributeAsync("aria-sort", "none");
        Assert.Equal(" ▲", await response.EvaluateAsync<string>("th => getComputedStyle(th, '::after').content.replaceAll('\"', '')"));
        await page.ClickAsync("#tab-logs");
        await Assertions.Expect(page.Locator("th[data-sort=level]")).ToHaveAttributeAsync("aria-sort", "descending");

        await page.ClickAsync("#tab-runs");
        await response.ClickAsync();
        await Assertions.Expect(response).ToHaveAttributeAsync("aria-sort", "descending");
        Assert.Contains("runsSort=responseTimeMs%3Adesc", page.Url);
        await Assertions.Expect(page.Locator("#runs tr").First).ToContainTextAsync("run_d");
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task Tabs_ArrowKeysHomeAndEnd_MoveAndSelect_WithOneTabStop()
    {
        await using var daemon = await SeededAsync();
        await using var watched = await NewPageAsync(daemon);
        var page = watched.Page;
        await page.GotoAsync($"{daemon.ApiAddress}?script={Script}");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(5);
        var tabs = page.Locator("[role=tablist] [role=tab]");
        var count = await tabs.CountAsync();
        Assert.True(count >= 2);
        await Assertions.Expect(page.Locator("[role=tab][tabindex='0']")).ToHaveCountAsync(1);

        await page.FocusAsync("#tab-runs");
        await page.Keyboard.PressAsync("ArrowRight");

        await Assertions.Expect(page.Locator("#tab-logs")).ToBeFocusedAsync();
        await Assertions.Expect(page.Locator("#tab-logs")).ToHaveAttributeAsync("aria-selected", "true");
        await Assertions.Expect(page.Locator("#tab-logs")).ToHaveAttributeAsync("tabindex", "0");
        await Assertions.Expect(page.Locator("#tab-runs")).ToHaveAttributeAsync("aria-selected", "false");
        await Assertions.Expect(page.Locator("#tab-runs")).ToHaveAttributeAsync("tabindex", "-1");
        await Assertions.Expect(page.Locator("#panel-logs")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#panel-runs")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#logs tr")).ToHaveCountAsync(4);
        Assert.Contains("tab=logs", page.Url);

        await page.Keyboard.PressAsync("Home");
        await Assertions.Expect(page.Locator("#tab-runs")).ToBeFocusedAsync();
        await Assertions.Expect(page.Locator("#tab-runs")).ToHaveAttributeAsync("aria-selected", "true");
        await page.Keyboard.PressAsync("End");
        await Assertions.Expect(tabs.Last).ToBeFocusedAsync();
        await Assertions.Expect(tabs.Last).ToHaveAttributeAsync("aria-selected", "true");
        await page.Keyboard.PressAsync("ArrowRight"); // wraps around
        await Assertions.Expect(page.Locator("#tab-runs")).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("ArrowLeft");
        await Assertions.Expect(tabs.Last).ToBeFocusedAsync();

        // Each tab controls its panel, which is labelled by it.
        for (var i = 0; i < count; i++)
        {
            var id = await tabs.Nth(i).GetAttributeAsync("id");
            var panel = await tabs.Nth(i).GetAttributeAsync("aria-controls");
            await Assertions.Expect(page.Locator($"#{panel}")).ToHaveAttributeAsync("role", "tabpanel");
            await Assertions.Expect(page.Locator($"#{panel}")).ToHaveAttributeAsync("aria-labelledby", id!);
        }

        watched.AssertNoErrors();
    }

    [Fact]
    public async Task Favicon_IsLinked_AndFaviconIcoAnswers()
    {
        await using var daemon = await SeededAsync();
        await using var watched = await NewPageAsync(daemon);
        var page = watched.Page;
        var asked = new List<(string Url, int Status)>();
        page.Response += (_, response) => asked.Add((response.Url, response.Status));

        await page.GotoAsync($"{daemon.ApiAddress}?script={Script}");

        await Assertions.Expect(page.Locator("link[rel=icon]")).ToHaveAttributeAsync("href", "favicon.svg");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(5);
        var svg = await daemon.Api.GetAsync("/favicon.svg");
        Assert.Equal("image/svg+xml", svg.Content.Headers.ContentType?.MediaType);
        var ico = await daemon.Api.GetAsync("/favicon.ico");
        Assert.True(ico.IsSuccessStatusCode, $"/favicon.ico answered {(int)ico.StatusCode}");
        Assert.Equal("image/svg+xml", ico.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("<svg", await ico.Content.ReadAsStringAsync());
        Assert.DoesNotContain(asked, a => a.Status >= 400);
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task FirstKpis_RenderSoonAfterNavigation_WithoutAskingForAllTime()
    {
        await using var daemon = await TestDaemon.StartAsync();
        // A store of some size: 5,000 runs over the last 30 days, 20,000 logs.
        var now = DateTime.UtcNow;
        for (var batch = 0; batch < 10; batch++)
        {
            var spans = new List<Span>();
            for (var i = 0; i < 500; i++)
            {
                var n = (batch * 500) + i;
                var at = now.AddMinutes(-n * 8.6);
                spans.Add(RunSpan($"run_{n:D5}", at, TimeSpan.FromMilliseconds(50 + (n % 400)), failed: n % 17 == 0));
                for (var l = 0; l < 4; l++)
                {
                    spans.Add(LogSpan($"run_{n:D5}", l == 3 ? "ERROR" : "INFO", $"step {l}", at.AddMilliseconds(l + 1)));
                }
            }

            await ExportAsync(daemon, [.. spans]);
        }

        await WaitForRunsAsync(daemon, 5000, from: now.AddDays(-60));
        await using var watched = await NewPageAsync(daemon);
        var page = watched.Page;
        var asked = new List<string>();
        page.Request += (_, request) => asked.Add(request.Url);

        var timings = new List<double>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            await page.GotoAsync($"{daemon.ApiAddress}?script={Script}", new() { WaitUntil = WaitUntilState.Commit });
            await Assertions.Expect(page.Locator("#kpi-total")).Not.ToHaveTextAsync("–");
            timings.Add(await page.EvaluateAsync<double>("performance.getEntriesByName('kpis-shown')[0].startTime"));
        }

        var week = await daemon.Api.GetFromJsonAsync<JsonElement>($"/api/runs/summary?script={Script}");
        await Assertions.Expect(page.Locator("#kpi-total")).ToHaveTextAsync(week.GetProperty("totalRuns").GetInt32().ToString("N0", Invariant));
        output.WriteLine($"first KPIs shown {string.Join(", ", timings.Select(t => $"{t:0} ms"))} after navigation (5,000 runs, 20,000 logs)");
        Assert.True(timings.Min() < 1000, $"first KPIs after {timings.Min():0} ms");

        // Nothing on load asks for more than the period: no All Time, no export, no page past the first.
        Assert.DoesNotContain(asked, u => u.Contains("range=all", StringComparison.Ordinal) || u.Contains("/export", StringComparison.Ordinal) || u.Contains("cursor=", StringComparison.Ordinal));
        Assert.All(asked.Where(u => u.Contains("/api/runs", StringComparison.Ordinal)), u =>
        {
            var from = System.Web.HttpUtility.ParseQueryString(new Uri(u).Query)["from"];
            Assert.True(from is not null && DateTime.Parse(from, Invariant, DateTimeStyles.RoundtripKind) > now.AddDays(-8), u);
        });
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task Pictures_ABusyThreeDays_OnAllRunsAndLogs()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var random = new Random(7);
        var start = DateTime.UtcNow.AddHours(-70);
        var spans = new List<Span>();
        var n = 0;
        for (var hour = 0; hour < 70; hour++)
        {
            // Busier by day than by night; version 4 lands 20 hours ago, slower and failing more.
            var local = start.AddHours(hour);
            var runs = 2 + (int)(8 * Math.Max(0, Math.Sin((local.Hour - 6) / 24.0 * 2 * Math.PI))) + random.Next(3);
            var version = hour < 50 ? 3 : 4;
            for (var i = 0; i < runs; i++, n++)
            {
                var at = local.AddMinutes(random.Next(60));
                var failed = random.NextDouble() < (version == 4 ? 0.12 : 0.03);
                var ms = (version == 4 ? 260 : 180) * Math.Exp(random.NextDouble() * 1.4);
                var id = $"run_{n:D4}";
                var trace = NewTraceId();
                spans.Add(RunSpan(id, at, TimeSpan.FromMilliseconds(ms), failed: failed, traceId: trace,
                    function: i % 4 == 0 ? "refresh_balance" : "call_openai_chat", extra: [Attr("deployment.version", version), Attr("source_type", i % 3 == 0 ? "tool" : "api")]));
                spans.Add(LogSpan(id, "INFO", $"Adding item {n}", at.AddMilliseconds(5), trace));
                spans.Add(LogSpan(id, "DEBUG", "Balance fetched", at.AddMilliseconds(9), trace));
                if (failed)
                {
                    spans.Add(LogSpan(id, "ERROR", "division by zero in divide()", at.AddMilliseconds(12), trace));
                }
                else if (random.NextDouble() < 0.15)
                {
                    spans.Add(LogSpan(id, "WARNING", "Retrying the upstream call", at.AddMilliseconds(11), trace));
                }
            }
        }

        await ExportAsync(daemon, [.. spans]);
        await WaitForRunsAsync(daemon, n);
        await using var watched = await NewPageAsync(daemon);
        var page = watched.Page;

        await page.GotoAsync($"{daemon.ApiAddress}?script={Script}");

        var summary = await daemon.Api.GetFromJsonAsync<JsonElement>($"/api/runs/summary?script={Script}");
        await Assertions.Expect(page.Locator("#kpi-total")).ToHaveTextAsync(n.ToString("N0", Invariant));
        Assert.Equal(n, summary.GetProperty("totalRuns").GetInt32());
        var chart = page.Locator("#runs-chart");
        Assert.Equal(n, await SumOfTipsAsync(page, chart, "Runs"));
        await chart.Locator(".bar.failed").Nth(4).HoverAsync(new() { Force = true });
        await Assertions.Expect(chart.Locator(".chart-tip")).ToContainTextAsync("Failed:");
        await ConsoleBrowser.ShotAsync(page, "console-runs", forDocs: true);

        await page.ClickAsync("#tab-logs");
        var logs = await daemon.Api.GetFromJsonAsync<JsonElement>($"/api/logs/summary?script={Script}");
        await Assertions.Expect(page.Locator("#kpi-logs")).ToHaveTextAsync(logs.GetProperty("totalLogs").GetInt32().ToString("N0", Invariant));
        await Assertions.Expect(page.Locator("#kpi-levels .kpi span")).ToHaveTextAsync(["Error", "Warning", "Info", "Debug"]);
        Assert.Equal(logs.GetProperty("totalLogs").GetInt32(), await SumOfTipsAsync(page, page.Locator("#logs-chart"), "Total"));
        await page.Locator("#logs-chart .bar.level-error").Nth(6).HoverAsync(new() { Force = true });
        await ConsoleBrowser.ShotAsync(page, "console-logs", forDocs: true);
        watched.AssertNoErrors();
    }

    /// <summary>A daemon with the test script: four runs and one In Progress over a day and a half, four logs.</summary>
    private static async Task<TestDaemon> SeededAsync()
    {
        var daemon = await TestDaemon.StartAsync();
        var at = DateTime.UtcNow.AddHours(-2);
        var trace = NewTraceId();
        await ExportAsync(daemon,
            LogSpan("run_a", "INFO", "Adding item", at.AddHours(-30).AddSeconds(1), trace),
            LogSpan("run_a", "ERROR", "Lookup failed", at.AddHours(-30).AddSeconds(2), trace),
            RunSpan("run_a", at.AddHours(-30), TimeSpan.FromMilliseconds(120), traceId: trace, extra: Attr("deployment.version", 1)),
            RunSpan("run_b", at.AddMinutes(1), TimeSpan.FromMilliseconds(300), failed: true, function: "divide", extra: Attr("deployment.version", 2)),
            RunSpan("run_c", at.AddMinutes(2), TimeSpan.FromMilliseconds(80), extra: [Attr("source_type", "tool"), Attr("deployment.version", 2)]),
            RunSpan("run_d", at.AddMinutes(3), TimeSpan.FromMilliseconds(950), extra: Attr("deployment.version", 2)),
            LogSpan("run_live", "DEBUG", "started", at.AddMinutes(4)),
            LogSpan("run_live", "INFO", "working", at.AddMinutes(4).AddSeconds(1)));
        await WaitForRunsAsync(daemon, 5);
        return daemon;
    }

    private static async Task ExportAsync(TestDaemon daemon, params Span[] spans) =>
        await new TraceService.TraceServiceClient(daemon.Grpc).ExportAsync(Traces(Script, spans), deadline: TestDaemon.Deadline());

    /// <summary>Waits until the API counts <paramref name="runs"/> runs of the script (writes are committed in batches).</summary>
    private static async Task WaitForRunsAsync(TestDaemon daemon, int runs, DateTime? from = null)
    {
        var since = Uri.EscapeDataString((from ?? DateTime.UtcNow.AddDays(-7)).ToString("O"));
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var summary = await daemon.Api.GetFromJsonAsync<JsonElement>($"/api/runs/summary?script={Script}&from={since}&to={Uri.EscapeDataString(DateTime.UtcNow.AddMinutes(5).ToString("O"))}");
            if (summary.GetProperty("totalRuns").GetInt32() >= runs)
            {
                return;
            }

            Assert.True(clock.Elapsed < TestDaemon.Timeout, $"{runs} runs not stored in time");
            await Task.Delay(100);
        }
    }

    private async Task<WatchedPage> NewPageAsync(TestDaemon daemon, bool downloads = false, bool clipboard = false)
    {
        var watched = await fixture.Browser.NewPageAsync(new() { AcceptDownloads = downloads, Locale = "en-US", ViewportSize = new() { Width = 1440, Height = 900 } });
        if (clipboard)
        {
            await watched.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = daemon.ApiAddress.ToString().TrimEnd('/') });
        }

        return watched;
    }

    /// <summary>The sum of one line of the chart's tooltip over every bucket (focus the chart, walk it with the arrow keys).</summary>
    private static async Task<int> SumOfTipsAsync(IPage page, ILocator chart, string label)
    {
        await chart.Locator("svg").FocusAsync();
        await page.Keyboard.PressAsync("Home");
        var buckets = await chart.Locator("svg").EvaluateAsync<int>("svg => svg.closest('figure').layout.groups.length");
        var sum = 0;
        for (var i = 0; i < buckets; i++)
        {
            var text = await chart.Locator(".chart-tip").InnerTextAsync();
            var match = Regex.Match(text, $@"^{Regex.Escape(label)}: (\d+)", RegexOptions.Multiline);
            sum += match.Success ? int.Parse(match.Groups[1].Value, Invariant) : 0;
            await page.Keyboard.PressAsync("ArrowRight");
        }

        await chart.Locator("svg").BlurAsync();
        return sum;
    }
}
