using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Lake.LakePublishingTests;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Lake;

/// <summary>Lake files sent to a real S3-compatible server (s3rver on loopback), read back from it.</summary>
public sealed class LakeUploadTests
{
    [Fact]
    public async Task PublishedFiles_GoToTheBucketUnderThePrefix_AreRemovedLocally_AndWaitForAStoreThatIsDown()
    {
        // The same credentials the SDK reads for the daemon: the standard environment variables.
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", S3Server.AccessKey);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", S3Server.AccessKey);
        var folder = new TempFolder();
        var lake = Path.Combine(folder.Path, "lake");
        var port = S3Server.FreePort();
        var settings = Publishing(lake);
        settings["Lake:S3:Endpoint"] = $"http://127.0.0.1:{port}";
        settings["Lake:S3:Bucket"] = "fleet";
        settings["Lake:S3:Prefix"] = "pipeline/v1";
        settings["Lake:S3:MaxAttempts"] = "1";
        await using var daemon = await TestDaemon.StartAsync(settings, folder);
        await new TraceService.TraceServiceClient(daemon.Grpc).ExportAsync(Run("run_1", T0), deadline: TestDaemon.Deadline());

        // The store is down: the files are published and wait in the lake folder.
        var waiting = await WaitForFilesAsync(lake, 3);
        Assert.Equal(3L, daemon.Scalar("SELECT count(*) FROM lake_files WHERE state = 'published'"));

        using var s3 = await S3Server.StartAsync("fleet", port);
        var keys = await WaitForKeysAsync(s3, 3);

        Assert.Equal(waiting.Select(f => $"pipeline/v1/{f}"), keys);
        Assert.Empty(Files(lake));
        Assert.Equal(3L, daemon.Scalar("SELECT count(*) FROM lake_files WHERE state = 'uploaded' AND uploaded_at IS NOT NULL"));

        // What the bucket holds is the published file: the run, as stored.
        var download = Path.Combine(folder.Path, "run.parquet");
        await s3.DownloadAsync(keys.Single(k => k.Contains("/runs/", StringComparison.Ordinal)), download);
        Assert.Equal(
            daemon.Query("SELECT run_id, script, status, executed_on FROM runs"),
            Database.Query(":memory:", $"SELECT run_id, script, status, executed_on FROM read_parquet('{download}')"));

        // Later files follow, into the same layout.
        await new TraceService.TraceServiceClient(daemon.Grpc).ExportAsync(Run("run_2", T0.AddDays(1)), deadline: TestDaemon.Deadline());
        keys = await WaitForKeysAsync(s3, 6);
        Assert.Contains("pipeline/v1/runs/script=s/date=2025-05-15/node-a-20250515T0600Z-0001.parquet", keys);
    }

    private static async Task<List<string>> WaitForKeysAsync(S3Server s3, int count)
    {
        var deadline = DateTime.UtcNow + TestDaemon.Timeout;
        while (true)
        {
            var keys = await s3.KeysAsync();
            if (keys.Count >= count)
            {
                return keys;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The bucket holds {keys.Count} objects, not {count}: {string.Join(", ", keys)}");
            await Task.Delay(200);
        }
    }
}
