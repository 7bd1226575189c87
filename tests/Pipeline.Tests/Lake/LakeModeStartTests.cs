using System.Net;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Lake;

/// <summary>How a lake-mode daemon starts: on a lake that exists (empty or not), never without one.</summary>
public sealed class LakeModeStartTests
{
    [Theory]
    [InlineData(null, "Lake:Path must name the lake's folder in lake mode")]
    [InlineData("no-such-folder", "Lake:Path must be an existing folder in lake mode")]
    public async Task Start_WithoutALakeFolder_StopsNamingTheKey(string? path, string expected)
    {
        var folder = new TempFolder();
        var settings = new Dictionary<string, string?> { ["Mode"] = "lake", ["Lake:Path"] = path is null ? null : Path.Combine(folder.Path, path) };

        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestDaemon.StartAsync(settings, folder));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_UnknownMode_StopsNamingTheKey()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestDaemon.StartAsync(new Dictionary<string, string?> { ["Mode"] = "mirror" }));

        Assert.Contains("Mode must be store or lake (got 'mirror')", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmptyLake_AnswersEmpty_ThenReadsFilesOnceTheyCome()
    {
        var lake = new TempFolder();
        await using var daemon = await TestDaemon.StartAsync(new Dictionary<string, string?> { ["Mode"] = "lake", ["Lake:Path"] = lake.Path });

        var runs = await LakeModeTests.Json(daemon.Api, "/api/runs?script=Qbalance&from=2025-05-01T00:00:00Z&to=2025-06-01T00:00:00Z");
        var logs = await LakeModeTests.Json(daemon.Api, "/api/logs/summary?script=Qbalance&from=2025-05-01T00:00:00Z&to=2025-06-01T00:00:00Z");
        var sql = await LakeModeTests.Sql(daemon.Api, "select (select count(*) from runs) + (select count(*) from logs) + (select count(*) from spans), (select count(distinct node) from runs)");
        using var ready = await daemon.Api.GetAsync("/readyz");
        using var record = await daemon.Api.GetAsync("/api/runs/r1?script=Qbalance");

        Assert.Equal("""{"items":[],"nextCursor":null,"total":0}""", runs.ToJsonString());
        Assert.Equal(0, logs["totalLogs"]!.GetValue<long>());
        Assert.Equal("[[0,0]]", sql["rows"]!.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, record.StatusCode);

        // A node publishes its first files: the lake-mode daemon reads them within a second or so.
        await using (var node = await TestDaemon.StartAsync())
        {
            var (seedLogs, seedRun) = SeedKoreloggerRun("r1");
            await new TraceService.TraceServiceClient(node.Grpc).ExportAsync(Traces("Qbalance", [.. seedLogs, seedRun]), deadline: TestDaemon.Deadline());
            await node.StopAsync();
            TestLake.Publish(node.DatabasePath, lake.Path, "node-1");
        }

        var deadline = DateTime.UtcNow.Add(TestDaemon.Timeout);
        while ((await LakeModeTests.Json(daemon.Api, "/api/scripts")).AsArray().Count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        var found = await LakeModeTests.Json(daemon.Api, "/api/runs/r1?script=Qbalance");
        Assert.Equal("node-1", found["run"]!["node"]!.GetValue<string>());
        Assert.Equal(4, found["logsTotal"]!.GetValue<long>());
        Assert.Equal("Success", found["run"]!["status"]!.GetValue<string>());
    }
}
