using System.Net.Http.Json;
using System.Text.Json;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Api;

public sealed class PaginationTests
{
    [Theory]
    [InlineData("executedOn:desc")]
    [InlineData("responseTimeMs:asc")]
    [InlineData("status:desc")]
    public async Task Pages_WhileRunsKeepArriving_NeitherRepeatNorSkip(string sort)
    {
        await using var daemon = await TestDaemon.StartAsync();
        var client = new TraceService.TraceServiceClient(daemon.Grpc);
        await client.ExportAsync(Traces("s", [.. Enumerable.Range(0, 30).Select(i => Run($"old{i:00}", i))]), deadline: TestDaemon.Deadline());
        var range = $"script=s&from={T0.AddDays(-1):O}&to={T0.AddDays(1):O}&limit=7&sort={sort}";

        var seen = new List<string>();
        string? cursor = null;
        var page = 0;
        do
        {
            var body = await daemon.Api.GetFromJsonAsync<JsonElement>($"/api/runs?{range}{(cursor is null ? "" : $"&cursor={cursor}")}");
            seen.AddRange(body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("runId").GetString()!));
            cursor = body.GetProperty("nextCursor").GetString();

            // New runs land between pages, before and after the cursor, in every sort: an OFFSET would shift.
            await client.ExportAsync(Traces("s", Run($"new{page}a", -100 - page), Run($"new{page}b", 100 + page)), deadline: TestDaemon.Deadline());
            page++;
        }
        while (cursor is not null);

        var old = seen.Where(id => id.StartsWith("old", StringComparison.Ordinal)).ToList();
        Assert.Equal(30, old.Count);
        Assert.Equal(30, old.Distinct().Count());
        Assert.Equal(seen.Count, seen.Distinct().Count());
    }

    private static OpenTelemetry.Proto.Trace.V1.Span Run(string runId, int minute) =>
        RunSpan(runId, T0.AddMinutes(minute), TimeSpan.FromMilliseconds(Math.Abs(minute) % 7 * 10), failed: Math.Abs(minute) % 4 == 0);
}
