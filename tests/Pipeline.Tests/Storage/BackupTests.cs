using System.Net;
using Grpc.Core;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Tests.Security;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Storage;

/// <summary><c>POST /api/backup</c>: a consistent copy of a live store, taken while ingest goes on, that a daemon opens as its own.</summary>
public sealed class BackupTests
{
    [Fact]
    public async Task Backup_WhileIngestGoesOn_OpensAsAStore_WithEverythingItHeld_AndLeavesNoFile()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var client = new TraceService.TraceServiceClient(daemon.Grpc);
        var first = Batch(0);
        await client.ExportAsync(first, deadline: TestDaemon.Deadline());

        // Exports keep arriving while the backup is written.
        using var stop = new CancellationTokenSource();
        var sent = 1;
        var ingest = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await client.ExportAsync(Batch(sent), deadline: TestDaemon.Deadline());
                sent++;
            }
        });
        using var response = await daemon.Api.PostAsync("/api/backup", content: null);
        var restoredFolder = new TempFolder();
        var backup = Path.Combine(restoredFolder.Path, "pipeline.duckdb");
        await using (var file = File.Create(backup))
        {
            await response.Content.CopyToAsync(file);
        }

        await stop.CancelAsync();
        await ingest;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Matches(@"^pipeline-\d{8}T\d{6}Z\.duckdb$", response.Content.Headers.ContentDisposition!.FileName!.Trim('"'));
        Assert.Empty(Directory.GetFiles(Path.Combine(daemon.Folder.Path, "exports")));

        // A daemon opens the backup as its store: whole exports only (each run with its 10 logs), and the live store
        // holds at least as much.
        await using var restored = await TestDaemon.StartAsync(folder: restoredFolder);
        var runs = (long)restored.Scalar("SELECT count(*) FROM runs")!;
        Assert.True(runs >= 1);
        Assert.Equal(runs * 10, (long)restored.Scalar("SELECT count(*) FROM logs")!);
        Assert.True(runs <= (long)daemon.Scalar("SELECT count(*) FROM runs")!);

        // The export digests came along: a retry of an export the backup holds is stored once.
        await new TraceService.TraceServiceClient(restored.Grpc).ExportAsync(first, deadline: TestDaemon.Deadline());
        Assert.Equal(runs * 10, (long)restored.Scalar("SELECT count(*) FROM logs")!);
    }

    [Fact]
    public async Task Backup_NeedsAReadTokenForAllScripts()
    {
        await using var daemon = await TokenScopeTests.StartWithTokensFileAsync(TokenScopeTests.TokensJson());
        using var anonymous = TokenScopeTests.Client(daemon, null);
        using var teamA = TokenScopeTests.Client(daemon, TokenScopeTests.ReadA);
        using var operators = TokenScopeTests.Client(daemon, TokenScopeTests.ReadAll);

        using var refused = await anonymous.PostAsync("/api/backup", content: null);
        using var scoped = await teamA.PostAsync("/api/backup", content: null);
        using var taken = await operators.PostAsync("/api/backup", content: null);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, scoped.StatusCode);
        Assert.Contains("a read token for all scripts", await scoped.Content.ReadAsStringAsync());
        Assert.True(HttpStatusCode.OK == taken.StatusCode, await taken.Content.ReadAsStringAsync());
        Assert.True((await taken.Content.ReadAsByteArrayAsync()).Length > 0);
    }

    private static ExportTraceServiceRequest Batch(int n) => Traces(
        "backup",
        [.. Enumerable.Range(0, 10).Select(i => LogSpan($"run_{n}", "INFO", $"line {i}", DateTime.UtcNow.AddMinutes(-1).AddMilliseconds(i)))]);
}
