using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Trace.V1;
using Pipeline.Tests.Support;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Console;

/// <summary>
/// The record view of a run in a real headless Chromium against a real daemon fed over OTLP: J/K across live runs, a
/// log to show, the trace as a waterfall, an In Progress run completing in place, copy buttons and millisecond
/// timestamps. A run with 100,000 logs: <see cref="RecordViewSpeedTests"/>.
/// </summary>
public sealed class RecordViewTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Record_JAndKQuicklyAcrossInProgressRuns_NoStreamFeedsTheRunShown()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var start = DateTime.UtcNow.AddHours(-2);
        await SendAsync(daemon, "Live", [.. Enumerable.Range(1, 5).Select(i => LogSpan($"run_{i}", "INFO", $"run_{i} started", start.AddMinutes(i)))]);
        await using var browser = await ConsoleBrowser.LaunchAsync();
        await using var watched = await browser.NewPageAsync(Context());
        var page = watched.Page;
        await page.GotoAsync($"{daemon.ApiAddress}?script=Live&run=run_3");
        await Expect(page.Locator("#record-id")).ToHaveTextAsync("run_3");
        await Expect(page.Locator("#record-live")).ToBeVisibleAsync();

        // J and K pressed quickly, twice over, then one J once the view has settled.
        for (var round = 0; round < 2; round++)
        {
            await page.Keyboard.PressAsync("j");
            await page.Keyboard.PressAsync("k");
            await Task.Delay(TimeSpan.FromSeconds(2));
        }

        var before = await page.Locator("#record-id").TextContentAsync();
        await page.Keyboard.PressAsync("j");
        await Expect(page.Locator("#record-id")).Not.ToHaveTextAsync(before!);
        await Expect(page.Locator("#record-live")).ToBeVisibleAsync();
        await Task.Delay(TimeSpan.FromSeconds(1));
        var runId = await page.Locator("#record-id").TextContentAsync();
        output.WriteLine($"settled on {runId}");

        // A log for every run: the one shown gets its own only.
        await SendAsync(daemon, "Live", [.. Enumerable.Range(1, 5).Select(i => LogSpan($"run_{i}", "WARNING", $"late log of run_{i}", DateTime.UtcNow.AddMinutes(-1)))]);
        await Expect(page.Locator("#record-logs")).ToContainTextAsync($"late log of {runId}");
        await Task.Delay(TimeSpan.FromSeconds(2));
        var text = await page.Locator("#record-logs").InnerTextAsync();
        foreach (var other in Enumerable.Range(1, 5).Select(i => $"run_{i}").Where(r => r != runId))
        {
            Assert.DoesNotContain($"late log of {other}", text);
            Assert.DoesNotContain($"{other} started", text);
        }

        watched.AssertNoErrors();
    }

    [Fact]
    public async Task Record_LogToShow_OpensAtItHighlighted_WithEarlierLogsOnDemand()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var start = DateTime.UtcNow.AddHours(-2);
        var trace = NewTraceId();
        await SendAsync(daemon, "Jump", [.. Enumerable.Range(0, 1000).Select(i => LogSpan("run_j", "INFO", $"step {i}", start.AddMilliseconds(i * 10), trace, logId: $"log-{i:D4}"))]);
        await SendAsync(daemon, "Jump", RunSpan("run_j", start, TimeSpan.FromSeconds(10), traceId: trace));
        await using var browser = await ConsoleBrowser.LaunchAsync();
        await using var watched = await browser.NewPageAsync(Context());
        var page = watched.Page;

        await page.GotoAsync($"{daemon.ApiAddress}?script=Jump&tab=logs&run=run_j&log=log-0700");

        var target = page.Locator("#record-logs tr.target");
        await Expect(target).ToHaveCountAsync(1);
        await Expect(target).ToHaveAttributeAsync("data-log", "log-0700");
        await Expect(target).ToBeInViewportAsync();
        await Expect(page.Locator("#record-count")).ToHaveTextAsync("200 of 1,000 logs");
        await Expect(page.Locator("#record-logs tr").First).ToHaveAttributeAsync("data-log", "log-0700");
        await Expect(page.Locator("#record-order")).ToHaveValueAsync("asc");

        // The logs before it, on demand; and after it, with Load more.
        await page.ClickAsync("#record-earlier");
        await Expect(page.Locator("#record-logs tr")).ToHaveCountAsync(400);
        await Expect(page.Locator("#record-logs tr").First).ToHaveAttributeAsync("data-log", "log-0500");
        await Expect(page.Locator("#record-logs tr").Nth(199)).ToHaveAttributeAsync("data-log", "log-0699");
        await Expect(target).ToBeInViewportAsync();
        await page.ClickAsync("#record-more");
        await Expect(page.Locator("#record-logs tr")).ToHaveCountAsync(500);
        await Expect(page.Locator("#record-more")).ToBeHiddenAsync();
        await Expect(page.Locator("#record-count")).ToHaveTextAsync("500 of 1,000 logs");

        // A marker on the trace's time axis scrolls to its log.
        await Expect(page.Locator(".waterfall .marker")).ToHaveCountAsync(500);
        await page.Locator(".waterfall .marker").Nth(10).DispatchEventAsync("click");
        await Expect(target).ToHaveAttributeAsync("data-log", "log-0510");
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task Record_Trace_IsAWaterfall_WithTheFailedSpanAndItsErrorInView_AndTheLogsOnItsAxis()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var start = DateTime.UtcNow.AddHours(-1);
        var trace = NewTraceId();
        var run = RunSpan("run_t", start, TimeSpan.FromMilliseconds(800), failed: true, traceId: trace, function: "sync_orders");
        run.Status.Message = "RuntimeError: 2 orders were not saved";
        var fetch = Timed(ChildSpan(run, "run_t", "fetch_orders"), start.AddMilliseconds(50), 300);
        fetch.Attributes.Add(Attr("http.url", "https://shop.example/orders?page=1"));
        fetch.Status = new Status { Code = Status.Types.StatusCode.Ok };
        var parse = Timed(ChildSpan(fetch, "run_t", "parse_orders"), start.AddMilliseconds(250), 80);
        var save = Timed(ChildSpan(run, "run_t", "save_orders"), start.AddMilliseconds(400), 300);
        save.Status = new Status { Code = Status.Types.StatusCode.Error, Message = "TimeoutError: the database did not answer within 300 ms" };
        await SendAsync(daemon, "Traced",
            LogSpan("run_t", "INFO", "fetching orders", start.AddMilliseconds(60), trace),
            LogSpan("run_t", "WARNING", "database is slow", start.AddMilliseconds(500), trace),
            LogSpan("run_t", "ERROR", "saving failed", start.AddMilliseconds(800), trace),
            fetch, parse, save, run);
        await using var browser = await ConsoleBrowser.LaunchAsync();
        await using var watched = await browser.NewPageAsync(Context());
        var page = watched.Page;

        await page.GotoAsync($"{daemon.ApiAddress}?script=Traced");
        await page.ClickAsync("#runs tr:has-text('run_t')");

        var rows = page.Locator(".waterfall tr.span");
        await Expect(rows).ToHaveCountAsync(4);
        await Expect(rows.Nth(0)).ToContainTextAsync("sync_orders");
        await Expect(rows.Nth(0)).ToContainTextAsync("RuntimeError: 2 orders were not saved");
        await Expect(rows.Nth(1)).ToContainTextAsync("fetch_orders");
        await Expect(rows.Nth(2)).ToContainTextAsync("parse_orders");
        await Expect(rows.Nth(3)).ToContainTextAsync("save_orders");

        // Start offsets and durations; the bars on one axis (800 ms, from the run's start to its last log: the save
        // starts half-way). A failed run has no response time: its end is not known.
        await Expect(rows.Nth(0).Locator(".duration")).ToHaveTextAsync("–");
        await Expect(rows.Nth(1).Locator(".offset")).ToHaveTextAsync("+50 ms");
        await Expect(rows.Nth(2).Locator(".offset")).ToHaveTextAsync("+250 ms");
        await Expect(rows.Nth(3).Locator(".duration")).ToHaveTextAsync("300 ms");
        Assert.Equal(50, await BarPercentAsync(rows.Nth(3), "left"), 1);
        Assert.Equal(37.5, await BarPercentAsync(rows.Nth(3), "width"), 1);
        Assert.Contains("--depth: 2", await rows.Nth(2).Locator(".name").GetAttributeAsync("style"));

        // The failed span: red, its error readable without a click.
        var failed = page.Locator(".waterfall tr.span.failed:has-text('save_orders')");
        await Expect(failed.Locator(".span-error")).ToBeVisibleAsync();
        await Expect(failed.Locator(".span-error")).ToHaveTextAsync("TimeoutError: the database did not answer within 300 ms");
        await Expect(failed.Locator(".status")).ToHaveTextAsync("Error");
        Assert.Equal("rgb(217, 48, 37)", await failed.Locator(".span-bar").EvaluateAsync<string>("b => getComputedStyle(b).backgroundColor"));

        // The logs on the same axis.
        var markers = page.Locator(".waterfall .marker");
        await Expect(markers).ToHaveCountAsync(3);
        Assert.Equal(62.5, await markers.Nth(1).EvaluateAsync<double>("m => parseFloat(m.style.left)"), 1);
        await Expect(markers.Nth(2)).ToHaveAttributeAsync("title", new System.Text.RegularExpressions.Regex("Error: saving failed$"));

        // Attributes on click.
        await rows.Nth(1).ClickAsync();
        await Expect(rows.Nth(1)).ToHaveAttributeAsync("aria-expanded", "true");
        await Expect(page.Locator(".waterfall .span-details:visible")).ToContainTextAsync("http.url: \"https://shop.example/orders?page=1\"");
        await ConsoleBrowser.ShotAsync(page, "console-record", forDocs: true);
        await rows.Nth(1).ClickAsync();
        await Expect(page.Locator(".waterfall .span-details:visible")).ToHaveCountAsync(0);
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task Record_InProgressRun_TurnsSuccessInPlace_WhenItsRunSpanLands()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var start = DateTime.UtcNow.AddMinutes(-30);
        var trace = NewTraceId();
        await SendAsync(daemon, "Running", LogSpan("run_p", "INFO", "working on it", start.AddMilliseconds(5), trace));
        await using var browser = await ConsoleBrowser.LaunchAsync();
        await using var watched = await browser.NewPageAsync(Context());
        var page = watched.Page;
        await page.GotoAsync($"{daemon.ApiAddress}?script=Running&run=run_p");
        await Expect(page.Locator("#record-meta .record-status")).ToHaveTextAsync("In Progress");
        await Expect(page.Locator("#record-live")).ToBeVisibleAsync();
        await Expect(page.Locator("#record-logs")).ToContainTextAsync("working on it");
        await page.EvaluateAsync("() => { window.stillTheSamePage = true; }");

        await SendAsync(daemon, "Running", RunSpan("run_p", start, TimeSpan.FromMilliseconds(1234), traceId: trace, stdout: "INFO :: done\n"));

        await Expect(page.Locator("#record-meta .record-status")).ToHaveTextAsync("Success");
        await Expect(page.Locator("#record-meta")).ToContainTextAsync("1.23 s");
        await Expect(page.Locator("#record-output")).ToContainTextAsync("answer: 42");
        await Expect(page.Locator("#record-live")).ToBeHiddenAsync();
        await Expect(page.Locator(".waterfall tr.span.root .duration")).ToHaveTextAsync("1.23 s");
        await Expect(page.Locator("#record-logs")).ToContainTextAsync("working on it");
        await Expect(page.Locator("#record-logs")).ToContainTextAsync("done");
        Assert.True(await page.EvaluateAsync<bool>("() => window.stillTheSamePage === true"), "the page was reloaded");
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task Record_CopyButtons_SayCopied_AndTimestampsShowMilliseconds()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var start = DateTime.UtcNow.AddMinutes(-30);
        start = start.AddTicks(-(start.Ticks % TimeSpan.TicksPerSecond));
        var trace = NewTraceId();
        await SendAsync(daemon, "Copy",
            LogSpan("run_c", "INFO", "first", start.AddMilliseconds(457), trace, logId: "log-first"),
            LogSpan("run_c", "INFO", "second", start.AddMilliseconds(458), trace, logId: "log-second"),
            RunSpan("run_c", start.AddMilliseconds(123), TimeSpan.FromMilliseconds(500), traceId: trace));
        await using var browser = await ConsoleBrowser.LaunchAsync();
        await using var watched = await browser.NewPageAsync(Context());
        var page = watched.Page;
        await watched.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = daemon.ApiAddress.ToString().TrimEnd('/') });
        await page.GotoAsync($"{daemon.ApiAddress}?script=Copy&run=run_c");
        await Expect(page.Locator("#record-id")).ToHaveTextAsync("run_c");

        // Input and output, copied as JSON text.
        await page.ClickAsync("#copy-input");
        await Expect(page.Locator("#copy-input")).ToHaveTextAsync("Copied");
        Assert.Equal("hello", JsonDocument.Parse(await ClipboardAsync(page)).RootElement.GetProperty("prompt").GetString());
        await page.ClickAsync("#copy-output");
        await Expect(page.Locator("#copy-output")).ToHaveTextAsync("Copied");
        Assert.Equal(42, JsonDocument.Parse(await ClipboardAsync(page)).RootElement.GetProperty("answer").GetInt32());
        await Expect(page.Locator("#copy-input")).ToHaveTextAsync("Copy");

        // The Run ID.
        await page.ClickAsync("#copy-run");
        await Expect(page.Locator("#copy-run")).ToHaveTextAsync("Copied");
        Assert.Equal("run_c", await ClipboardAsync(page));

        // Two logs a millisecond apart, told apart; the run's start too.
        var local = (DateTime t) => t.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
        await Expect(page.Locator("#record-logs tr[data-log='log-first'] .time")).ToContainTextAsync(local(start.AddMilliseconds(457)));
        await Expect(page.Locator("#record-logs tr[data-log='log-second'] .time")).ToContainTextAsync(local(start.AddMilliseconds(458)));
        await Expect(page.Locator("#record-meta")).ToContainTextAsync(local(start.AddMilliseconds(123)));
        watched.AssertNoErrors();
    }

    /// <summary>English number formats; local time is UTC (the page shows local times).</summary>
    internal static BrowserNewContextOptions Context() => new()
    {
        ViewportSize = new() { Width = 1440, Height = 900 },
        Locale = "en-US",
        TimezoneId = "UTC",
    };

    internal static async Task SendAsync(TestDaemon daemon, string script, params Span[] spans) =>
        await new TraceService.TraceServiceClient(daemon.Grpc).ExportAsync(Traces(script, spans), deadline: TestDaemon.Deadline());

    /// <summary>A span set to start at <paramref name="start"/> and last <paramref name="durationMs"/>.</summary>
    private static Span Timed(Span span, DateTime start, double durationMs)
    {
        span.StartTimeUnixNano = Nanos(start);
        span.EndTimeUnixNano = Nanos(start.AddMilliseconds(durationMs));
        return span;
    }

    private static Task<double> BarPercentAsync(ILocator row, string property) =>
        row.Locator(".span-bar").EvaluateAsync<double>($"b => parseFloat(b.style.{property})");

    private static Task<string> ClipboardAsync(IPage page) => page.EvaluateAsync<string>("navigator.clipboard.readText()");

    /// <summary>The page's JavaScript heap in use, in bytes (Chromium's own count, over CDP).</summary>
    internal static async Task<double> HeapAsync(IPage page)
    {
        var cdp = await page.Context.NewCDPSessionAsync(page);
        var usage = await cdp.SendAsync("Runtime.getHeapUsage");
        await cdp.DetachAsync();
        return usage!.Value.GetProperty("usedSize").GetDouble();
    }
}
