using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Console;

/// <summary>
/// The web console in a real headless Chromium (Debian's, driven by Playwright) against a real daemon fed over OTLP.
/// Screenshots go to artifacts/ at the repository root.
/// </summary>
public sealed class ConsoleTests : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";
    private TestDaemon _daemon = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install Debian's chromium package (.ci/run does).");
        _daemon = await TestDaemon.StartAsync();
        var client = new TraceService.TraceServiceClient(_daemon.Grpc);
        var now = DateTime.UtcNow.AddHours(-2);
        var trace = NewTraceId();
        await client.ExportAsync(Traces("Qbalance",
            LogSpan("run_a", "INFO", "Adding item", now.AddSeconds(1), trace),
            RunSpan("run_a", now, TimeSpan.FromMilliseconds(120), traceId: trace),
            RunSpan("run_b", now.AddMinutes(1), TimeSpan.FromMilliseconds(300), failed: true, function: "divide"),
            RunSpan("run_c", now.AddMinutes(2), TimeSpan.FromMilliseconds(80), extra: Attr("source_type", "tool")),
            LogSpan("run_live", "DEBUG", "started", now.AddMinutes(3))), deadline: DateTime.UtcNow.Add(TestDaemon.Timeout));
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _daemon.DisposeAsync();
    }

    [Fact]
    public async Task Console_PickFilterOpenNavigateCopyExportAndWatchLive()
    {
        var context = await _browser.NewContextAsync(new() { AcceptDownloads = true, ViewportSize = new() { Width = 1440, Height = 900 } });
        await context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = _daemon.ApiAddress.ToString().TrimEnd('/') });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(15_000);

        // First visit: pick a script.
        await page.GotoAsync(_daemon.ApiAddress.ToString());
        await Assertions.Expect(page.Locator("#empty")).ToContainTextAsync("Select a script");
        await page.SelectOptionAsync("#script", "Qbalance");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(4);
        await Shot(page, "runs");

        // The KPIs say what the API says.
        var summary = await _daemon.Api.GetFromJsonAsync<JsonElement>($"/api/runs/summary?script=Qbalance");
        await Assertions.Expect(page.Locator("#kpi-total")).ToHaveTextAsync(summary.GetProperty("totalRuns").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Assertions.Expect(page.Locator("#kpi-failure")).ToHaveTextAsync($"{summary.GetProperty("failureRate").GetDouble():0.00}%");

        // The Logs tab counts what the API counts.
        await page.ClickAsync("#tab-logs");
        var logs = await _daemon.Api.GetFromJsonAsync<JsonElement>($"/api/logs/summary?script=Qbalance");
        await Assertions.Expect(page.Locator("#kpi-logs")).ToHaveTextAsync(logs.GetProperty("totalLogs").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Assertions.Expect(page.Locator("#logs tr")).ToHaveCountAsync(2);
        await Shot(page, "logs");
        await page.ClickAsync("#tab-runs");

        // An OR filter with two values (Tab between them): Failed or In Progress.
        await page.ClickAsync("#filter-button");
        await page.Locator(".filter-row select[aria-label=Column]").SelectOptionAsync("status");
        await page.Locator(".filter-row select[aria-label=Operator]").SelectOptionAsync("eq");
        await page.FillAsync(".filter-row input", "Failed");
        await page.Keyboard.PressAsync("Tab");
        await page.FillAsync(".filter-row input", "In Progress");
        await page.Keyboard.PressAsync("Tab");
        await page.SelectOptionAsync("#filter-op", "or");
        await page.ClickAsync("#filter-panel button[type=submit]");
        await Assertions.Expect(page.Locator("#filter-count")).ToHaveTextAsync("1");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(2);
        Assert.Contains("runsFilter=", page.Url);
        await Shot(page, "filtered");

        // Open a run, then J and K move through the filtered list.
        await page.ClickAsync("#runs tr:has-text('run_live')");
        await Assertions.Expect(page.Locator("#record-id")).ToHaveTextAsync("run_live");
        await page.Keyboard.PressAsync("j");
        await Assertions.Expect(page.Locator("#record-id")).ToHaveTextAsync("run_b");
        await Assertions.Expect(page.Locator("#record-input")).ToContainTextAsync("prompt: \"hello\"");
        await page.ClickAsync("#record-output > details > summary");
        await Assertions.Expect(page.Locator("#record-output > details")).Not.ToHaveAttributeAsync("open", "");
        await Shot(page, "record");
        await page.Keyboard.PressAsync("k");
        await Assertions.Expect(page.Locator("#record-id")).ToHaveTextAsync("run_live");
        Assert.Contains("run=run_live", page.Url);

        // The URL carries the state: opened elsewhere, it shows the same run under the same filter.
        var shared = await context.NewPageAsync();
        await shared.GotoAsync(page.Url);
        await Assertions.Expect(shared.Locator("#record-id")).ToHaveTextAsync("run_live");
        await shared.ClickAsync("#record-close");
        await Assertions.Expect(shared.Locator("#filter-count")).ToHaveTextAsync("1");
        await Assertions.Expect(shared.Locator("#runs tr")).ToHaveCountAsync(2);
        await shared.CloseAsync();

        // Copy the Run ID.
        await page.ClickAsync("#copy-run");
        Assert.Equal("run_live", await page.EvaluateAsync<string>("navigator.clipboard.readText()"));

        // Live tail: a log that arrives now shows up without a reload.
        await Assertions.Expect(page.Locator("#record-live")).ToBeVisibleAsync();
        await new TraceService.TraceServiceClient(_daemon.Grpc).ExportAsync(
            Traces("Qbalance", LogSpan("run_live", "WARNING", "arrived live", DateTime.UtcNow.AddHours(-1))), deadline: DateTime.UtcNow.Add(TestDaemon.Timeout));
        await Assertions.Expect(page.Locator("#record-logs")).ToContainTextAsync("arrived live");

        // Back to the list, export it as CSV, read the file.
        await page.ClickAsync("#record-close");
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#export-csv"));
        var file = Path.Combine(new TempFolder().Path, download.SuggestedFilename);
        await download.SaveAsAsync(file);
        Assert.Equal("Qbalance_runs_data.csv", download.SuggestedFilename);
        var lines = await File.ReadAllLinesAsync(file);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("runId,", lines[0]);
        await Assertions.Expect(page.Locator("#export-message")).ToContainTextAsync("Exported Qbalance_runs_data.csv");
    }

    [Fact]
    public async Task Console_NoRunsAtAll_SaysNoDataToDisplay()
    {
        await using var empty = await TestDaemon.StartAsync();
        var page = await _browser.NewPageAsync();

        await page.GotoAsync(empty.ApiAddress.ToString());

        await Assertions.Expect(page.Locator("#empty")).ToContainTextAsync("No data to display");
        await Assertions.Expect(page.Locator("#workspace")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#signout")).ToBeHiddenAsync(); // No tokens: no sign-in, no sign-out.
    }

    [Fact]
    public async Task Console_WithReadTokens_SignsIn_SeesItsScriptsOnly_AndSignsOut()
    {
        await using var daemon = await Security.TokenScopeTests.StartWithTokensFileAsync(Security.TokenScopeTests.TokensJson());
        await Security.TokenScopeTests.SeedAsync(daemon);
        var context = await _browser.NewContextAsync();
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(15_000);

        // Without a session the console sends the browser to sign in (from a script, after the page loaded: the URL
        // is polled, since waiting for that navigation's event can start after it happened).
        await page.GotoAsync(daemon.ApiAddress.ToString());
        await Assertions.Expect(page).ToHaveURLAsync(new Regex(@"/signin\.html$"));

        // A wrong token is refused, saying only that.
        await page.FillAsync("#token", "not-a-token-0123456789");
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync("**/signin.html?failed=1");
        await Assertions.Expect(page.Locator("#signin-failed")).ToBeVisibleAsync();

        // Team A's read token: back to the console, which offers team A's script only.
        await page.FillAsync("#token", Security.TokenScopeTests.ReadA);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/");
        await Assertions.Expect(page.Locator("#signout")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#script option")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#script option").Nth(1)).ToHaveAttributeAsync("value", "tenant-a-job");
        await page.SelectOptionAsync("#script", "tenant-a-job");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(1);

        // The token lives in an HttpOnly, SameSite=Strict cookie that the page's scripts cannot read.
        var cookie = (await context.CookiesAsync()).Single(c => c.Name == "pipeline_token");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.Equal(-1, cookie.Expires); // For the browser's session only.
        Assert.DoesNotContain("pipeline_token", await page.EvaluateAsync<string>("document.cookie"));

        // Signing out removes it: the console goes back to the sign-in page and the API refuses the browser.
        await page.ClickAsync("#signout");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex(@"/signin\.html$"));
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "pipeline_token");
        Assert.Equal(401, await page.EvaluateAsync<int>("fetch('/api/scripts').then(r => r.status)"));
        await context.CloseAsync();
    }

    private static async Task Shot(IPage page, string name)
    {
        var folder = Path.Combine(RepositoryRoot(), "artifacts", "screenshots");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, $"{name}.png"), FullPage = true });
    }

    private static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Pipeline.sln")))
        {
            folder = folder.Parent;
        }

        return folder?.FullName ?? AppContext.BaseDirectory;
    }
}
