using System.Net;
using System.Text.Json;
using Google.Rpc;
using Grpc.Core;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Storage;

/// <summary>A store that fails for real (a full disk): retryable answers, a readiness that says so, and recovery.</summary>
public sealed class StoreFailureTests
{
    /// <summary>
    /// With the default checkpoint threshold the disk fills while a commit appends (DuckDB refuses the commit); with a
    /// small one it fills during a checkpoint, a fatal error after which DuckDB takes no commit until reopened.
    /// </summary>
    [Theory]
    [InlineData("256MB", 8_000)]
    [InlineData("1MB", 200)]
    public async Task DiskFull_ExportsAreRetryable_ReadinessIs503WithTheReason_ThenBothRecover_AndNothingAckedIsLost(string checkpointThreshold, int linesPerRun)
    {
        using var disk = Tmpfs.Mount("40m");
        var path = Path.Combine(disk.Path, "pipeline.duckdb");
        using var logs = new LogCapture();
        await using var daemon = await TestDaemon.StartAsync(logs: logs, settings: new Dictionary<string, string?>
        {
            ["Storage:Path"] = path,
            ["Channel:RetryAfter"] = "00:00:03",
            ["Storage:CheckpointThreshold"] = checkpointThreshold,
        });
        var client = new TraceService.TraceServiceClient(daemon.Grpc);
        var filler = disk.Fill(leaveBytes: 4 * 1024 * 1024);

        var acked = new List<string>();
        ExportTraceServiceRequest? refused = null;
        RpcException? error = null;
        for (var i = 0; i < 2000 && error is null; i++)
        {
            var request = Batch(i, linesPerRun);
            try
            {
                await client.ExportAsync(request, deadline: TestDaemon.Deadline());
                acked.AddRange(RunIds(request));
            }
            catch (RpcException ex)
            {
                (refused, error) = (request, ex);
            }
        }

        Assert.NotNull(error);
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), error.GetRpcStatus()!.GetDetail<RetryInfo>().RetryDelay.ToTimeSpan());
        using (var notReady = await daemon.Api.GetAsync("/readyz"))
        {
            var body = await notReady.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            Assert.True(body.Contains("No space left on device", StringComparison.Ordinal), body);
        }

        // A failure of the store is not split export by export (event 102), and the database is opened afresh (106).
        var reopened = DateTime.UtcNow + TestDaemon.Timeout;
        while (!logs.Lines.Any(l => l.EventId.Id is 106 or 107) && DateTime.UtcNow < reopened)
        {
            await Task.Delay(50); // The client is answered first; the writer then opens the database afresh.
        }

        Assert.Contains(logs.Lines, l => l.EventId.Id == 105);
        Assert.DoesNotContain(logs.Lines, l => l.EventId.Id == 102);
        Assert.Contains(logs.Lines, l => l.EventId.Id is 106 or 107);

        File.Delete(filler);
        var deadline = DateTime.UtcNow + TestDaemon.Timeout;
        while (true)
        {
            try
            {
                await client.ExportAsync(refused!, deadline: TestDaemon.Deadline());
                acked.AddRange(RunIds(refused!));
                break;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }
        }

        using (var ready = await daemon.Api.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        var stored = await daemon.Api.PostAsync("/api/sql", Json("SELECT count(DISTINCT run_id) AS n, count(*) AS rows FROM runs"));
        var answer = JsonDocument.Parse(await stored.Content.ReadAsStringAsync()).RootElement.GetProperty("rows")[0];
        Assert.Equal(acked.Count, answer[0].GetInt32());
        Assert.Equal(acked.Count, answer[1].GetInt32());
    }

    [Fact]
    public void Failures_AreSortedByDuckDbsOwnErrorType()
    {
        using var connection = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        connection.Open();
        Exception Fail(string sql)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            return Assert.ThrowsAny<Exception>(() => command.ExecuteNonQuery());
        }

        // What rows can do (a value that does not fit its column) is the rows' fault; an I/O error is the store's, typed
        // or not (a scan's comes typed Invalid, with the kind in its message).
        Assert.Equal(Pipeline.Storage.StorageFailureKind.Rows, Pipeline.Storage.StorageFailure.Classify(Fail("SELECT 'not a number'::INTEGER")));
        Assert.Equal(Pipeline.Storage.StorageFailureKind.Rows, Pipeline.Storage.StorageFailure.Classify(Fail("SELECT [1, 2][1]::TINYINT + 300::TINYINT")));
        Assert.Equal(Pipeline.Storage.StorageFailureKind.Store, Pipeline.Storage.StorageFailure.Classify(Fail($"COPY (SELECT 1) TO '{Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"), "missing-folder", "x.csv")}'")));
        Assert.Equal(Pipeline.Storage.StorageFailureKind.Store, Pipeline.Storage.StorageFailure.Classify(Fail("SELECT * FROM read_csv('/nonexistent-folder/x.csv')")));
        Assert.Equal(Pipeline.Storage.StorageFailureKind.Store, Pipeline.Storage.StorageFailure.Classify(new IOException("disk gone")));
    }

    /// <summary>Forty runs with printed text (8,000 lines: a quarter megabyte each).</summary>
    private static ExportTraceServiceRequest Batch(int i, int lines) =>
        Traces("disk", [.. Enumerable.Range(0, 40).Select(j =>
            RunSpan($"b{i}-{j}", T0.AddSeconds(i).AddMilliseconds(j), TimeSpan.FromMilliseconds(5), stdout: string.Concat(Enumerable.Repeat($"line {i} {j} of printed text\n", lines))))]);

    private static IEnumerable<string> RunIds(ExportTraceServiceRequest request) =>
        request.ResourceSpans.SelectMany(r => r.ScopeSpans).SelectMany(s => s.Spans)
            .Select(s => s.Attributes.First(a => a.Key == "run_id").Value.StringValue);

    private static StringContent Json(string sql) =>
        new(JsonSerializer.Serialize(new { sql }), System.Text.Encoding.UTF8, "application/json");
}
