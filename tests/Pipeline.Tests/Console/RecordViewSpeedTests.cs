using System.Diagnostics;
using Pipeline.Tests.Support;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Console;

/// <summary>Tests that time the console: run alone, not beside the rest of the suite.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleTiming
{
    public const string Name = "Console timing";
}

/// <summary>
/// The record view of a run with 100,000 korelogger logs in a real headless Chromium against a real daemon fed over
/// OTLP: it opens within a second with a small JavaScript heap, and pages, orders and searches the run's logs.
/// </summary>
[Collection(ConsoleTiming.Name)]
public sealed class RecordViewSpeedTests(ITestOutputHelper output)
{
    private const double MiB = 1024 * 1024;

    [Fact]
    public async Task Record_RunWith100000Logs_OpensWithinASecond_UnderHundredMiB_AndPagesItsLogs()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var start = DateTime.UtcNow.AddHours(-3);
        var trace = NewTraceId();
        var seeding = Stopwatch.StartNew();
        for (var batch = 0; batch < 20; batch++)
        {
            await RecordViewTests.SendAsync(daemon, "Batch", [.. Enumerable.Range(batch * 5000, 5000).Select(i => LogSpan(
                "run_big", i % 1000 == 0 ? "WARNING" : "INFO", i % 1000 == 0 ? $"checkpoint {i}" : $"imported row {i}", start.AddMilliseconds(i), trace, logId: $"log-{i:D6}"))]);
        }

        output.WriteLine($"seeded 100,000 logs in {seeding.Elapsed.TotalSeconds:0.0} s");
        await using var browser = await ConsoleBrowser.LaunchAsync();
        await using var watched = await browser.NewPageAsync(RecordViewTests.Context());
        var page = watched.Page;
        await page.GotoAsync($"{daemon.ApiAddress}?script=Batch");
        await Expect(page.Locator("#runs tr")).ToHaveCountAsync(1);

        // Open the run (In Progress: its live stream opens too) and time it to its first logs on screen; three times
        // (back to the list in between), the best counts, so that another process on the machine does not decide it.
        var times = new List<TimeSpan>();
        var heap = 0.0;
        var clock = new Stopwatch();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (attempt > 0)
            {
                await page.ClickAsync("#record-close");
                await Expect(page.Locator("#runs tr")).ToHaveCountAsync(1);
            }

            clock.Restart();
            await page.ClickAsync("#runs tr");
            await Expect(page.Locator("#record-logs tr").First).ToContainTextAsync("log-000000", new() { Timeout = 60_000 });
            times.Add(clock.Elapsed);
            heap = Math.Max(heap, await RecordViewTests.HeapAsync(page));
        }

        var opened = times.Min();
        output.WriteLine($"record view of 100,000 logs: first logs after {string.Join(", ", times.Select(t => $"{t.TotalMilliseconds:0} ms"))}; JS heap up to {heap / MiB:0.0} MiB");
        Assert.True(opened < TimeSpan.FromSeconds(1), $"the record view took {opened.TotalMilliseconds:0} ms at best to show its first logs");
        Assert.True(heap < 100 * MiB, $"the JS heap is {heap / MiB:0.0} MiB");
        await Expect(page.Locator("#record-logs tr")).ToHaveCountAsync(200);
        await Expect(page.Locator("#record-count")).ToHaveTextAsync("200 of 100,000 logs");
        await Expect(page.Locator("#record-live")).ToBeVisibleAsync();

        // The live stream starts with every log the run has: the page stays as it is, and small.
        await Task.Delay(TimeSpan.FromSeconds(5));
        heap = await RecordViewTests.HeapAsync(page);
        output.WriteLine($"5 s later, the live stream's first burst read: JS heap {heap / MiB:0.0} MiB, {await page.Locator("#record-logs tr").CountAsync()} rows");
        Assert.True(heap < 100 * MiB, $"the JS heap is {heap / MiB:0.0} MiB once the live stream has sent the run's logs");
        await Expect(page.Locator("#record-logs tr")).ToHaveCountAsync(200);

        // Load more: the next page, oldest first.
        await page.ClickAsync("#record-more");
        await Expect(page.Locator("#record-logs tr")).ToHaveCountAsync(400);
        await Expect(page.Locator("#record-logs tr").Nth(399)).ToContainTextAsync("log-000399");
        await Expect(page.Locator("#record-count")).ToHaveTextAsync("400 of 100,000 logs");

        // Newest first.
        await page.SelectOptionAsync("#record-order", "desc");
        await Expect(page.Locator("#record-logs tr").First).ToContainTextAsync("log-099999");
        await Expect(page.Locator("#record-logs tr")).ToHaveCountAsync(200);

        // Search inside the run's logs.
        await page.FillAsync("#record-q", "checkpoint");
        await Expect(page.Locator("#record-count")).ToHaveTextAsync("100 of 100 logs matching “checkpoint”");
        await Expect(page.Locator("#record-logs tr").First).ToContainTextAsync("checkpoint 99000");
        await Expect(page.Locator("#record-more")).ToBeHiddenAsync();

        // A log deep inside the run, shown from a link: the view opens at it, as fast.
        clock.Restart();
        await page.GotoAsync($"{daemon.ApiAddress}?script=Batch&run=run_big&log=log-073456");
        await Expect(page.Locator("#record-logs tr.target")).ToContainTextAsync("log-073456", new() { Timeout = 60_000 });
        var shown = clock.Elapsed;
        heap = await RecordViewTests.HeapAsync(page);
        output.WriteLine($"a link to log 73,456 of 100,000: shown after {shown.TotalMilliseconds:0} ms (page load included); JS heap {heap / MiB:0.0} MiB");
        Assert.True(shown < TimeSpan.FromSeconds(3), $"the log took {shown.TotalMilliseconds:0} ms to show, page load included");
        await Expect(page.Locator("#record-logs tr.target")).ToBeInViewportAsync();
        watched.AssertNoErrors();
    }
}
