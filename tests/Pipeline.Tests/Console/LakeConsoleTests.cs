using Microsoft.Playwright;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Tests.Lake;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Console;

/// <summary>The console of a lake-mode daemon over a lake two sidecars published: each run and log shows its node, and the filters offer it.</summary>
public sealed class LakeConsoleTests(ConsoleBrowserFixture fixture) : IClassFixture<ConsoleBrowserFixture>
{
    [Fact]
    public async Task LakeMode_ListsShowTheNode_AndTheNodeFilterPicksFromTheNodesOfThePeriod()
    {
        var lake = Path.Combine(new TempFolder().Path, "lake");
        foreach (var (node, runs) in new[] { ("node-a", 2), ("node-b", 1) })
        {
            await using var sidecar = await TestDaemon.StartAsync(LakePublishingTests.Publishing(lake, node));
            for (var i = 0; i < runs; i++)
            {
                await new TraceService.TraceServiceClient(sidecar.Grpc).ExportAsync(LakePublishingTests.Run($"{node}-run-{i}", T0.AddMinutes(i)), deadline: TestDaemon.Deadline());
            }

            // Every run and log of the node is in the lake (a pass may have taken the first run before the second came).
            await Poll.Until(() => LakePublishingTests.Files(lake) is var files && files.Exists(f => f.StartsWith("runs/", StringComparison.Ordinal)) && files.Exists(f => f.StartsWith("logs/", StringComparison.Ordinal))
                && (long)LakePublishingTests.Lake(lake, $"SELECT count(*) FROM read_parquet('{{lake}}/runs/*/*/*.parquet') WHERE node = '{node}'").Single()[0]! == runs
                && (long)LakePublishingTests.Lake(lake, $"SELECT count(*) FROM read_parquet('{{lake}}/logs/*/*/*.parquet') WHERE node = '{node}'").Single()[0]! == runs * 3);
        }

        await using var daemon = await TestDaemon.StartAsync(new Dictionary<string, string?> { ["Mode"] = "lake", ["Lake:Path"] = lake });
        await using var watched = await fixture.Browser.NewPageAsync(new() { Locale = "en-US", ViewportSize = new() { Width = 1440, Height = 900 } });
        var page = watched.Page;
        await page.GotoAsync($"{daemon.ApiAddress}?script=s&range=all");

        // All Runs: a Node column, each run with the node that published it.
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("th[data-sort=node]").First).ToBeVisibleAsync();
        Assert.Equal(["node-a", "node-a", "node-b"], (await page.Locator("#runs tr td:last-child").AllTextContentsAsync()).Order(StringComparer.Ordinal));

        // The filter offers Node, with the nodes of the period and their runs; picking one narrows the list.
        await page.ClickAsync("#filter-button");
        await page.Locator(".filter-row select[aria-label=Column]").SelectOptionAsync(new SelectOptionValue { Label = "Node" });
        var pick = page.Locator(".filter-row select[aria-label='Pick a value']");
        await Assertions.Expect(pick.Locator("option")).ToHaveTextAsync(["Pick a value…", "node-a (2)", "node-b (1)"]);
        await pick.SelectOptionAsync(new SelectOptionValue { Label = "node-b (1)" });
        await page.ClickAsync("#filter-panel button[type=submit]");
        await Assertions.Expect(page.Locator("#runs tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#runs tr td:last-child")).ToHaveTextAsync("node-b");

        // Logs: the node of each line too.
        await page.ClickAsync("#tab-logs");
        await Assertions.Expect(page.Locator("#logs tr")).ToHaveCountAsync(9);
        Assert.Equal(["node-a", "node-b"], (await page.Locator("#logs tr td:last-child").AllTextContentsAsync()).Distinct().Order(StringComparer.Ordinal));
        watched.AssertNoErrors();
    }
}
