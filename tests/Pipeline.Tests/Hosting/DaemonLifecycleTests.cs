using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Hosting;
using Pipeline.Storage;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Hosting;

public sealed class DaemonLifecycleTests
{
    [Fact]
    public async Task Restart_RowsArePresentAfterwards()
    {
        var daemon = await TestDaemon.StartAsync();
        var (logs, run) = SeedKoreloggerRun("run_persist");
        await new TraceService.TraceServiceClient(daemon.Grpc).ExportAsync(Traces("s", [.. logs, run]), deadline: DateTime.UtcNow.Add(TestDaemon.Timeout));

        await using var restarted = await daemon.RestartAsync();

        Assert.Equal("Success", restarted.Scalar("SELECT status FROM runs WHERE run_id = 'run_persist'"));
        Assert.Equal(4L, restarted.Scalar("SELECT count(*) FROM logs WHERE run_id = 'run_persist'"));
    }

    [Fact]
    public async Task Shutdown_WhileExportsWait_DrainsAndAnswersThem()
    {
        // A slow writer (it waits 5 s before each commit) holds the exports; stopping must commit them, not drop them.
        var daemon = await TestDaemon.StartAsync(new Dictionary<string, string?> { ["Storage:BatchDelay"] = "00:00:05" });
        var ingest = daemon.Services.GetRequiredService<Pipeline.Ingest.OtlpIngest>();
        var exports = Enumerable.Range(0, 5)
            .Select(i => ingest.ExportTracesAsync(Payload(Traces("s", LogSpan($"run_{i}", "INFO", "m", T0))), null, Pipeline.Security.ScriptScope.All, CancellationToken.None))
            .ToList();
        Assert.DoesNotContain(exports, e => e.IsCompleted);

        await using var restarted = await daemon.RestartAsync();

        Assert.All(await Task.WhenAll(exports).WaitAsync(TestDaemon.Timeout), response => Assert.Null(response.PartialSuccess));
        Assert.Equal(5L, restarted.Scalar("SELECT count(*) FROM logs"));
    }

    [Fact]
    public void Build_CommandLineArgument_OverridesTheConfigFile()
    {
        var error = Assert.Throws<OptionsValidationException>(() =>
        {
            using var app = PipelineApp.Build(["--Storage:Threads=0"]);
            _ = app.Services.GetRequiredService<IOptions<StorageOptions>>().Value;
        });

        Assert.Contains("Storage:Threads must be between 1 and 256 (got 0).", error.Message);
    }

    [Fact]
    public async Task ConcurrentExports_FromManyClients_AreAllStoredOnce()
    {
        await using var daemon = await TestDaemon.StartAsync(new Dictionary<string, string?> { ["Storage:BatchRows"] = "100" });
        var client = new TraceService.TraceServiceClient(daemon.Grpc);

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
        {
            var (logs, run) = SeedKoreloggerRun($"run_{i}");
            // Each run's spans in two exports, the run span first for half of them.
            var first = i % 2 == 0 ? Traces("s", run) : Traces("s", logs);
            var second = i % 2 == 0 ? Traces("s", logs) : Traces("s", run);
            return Task.WhenAll(
                client.ExportAsync(first, deadline: DateTime.UtcNow.Add(TestDaemon.Timeout)).ResponseAsync,
                client.ExportAsync(second, deadline: DateTime.UtcNow.Add(TestDaemon.Timeout)).ResponseAsync);
        }));

        Assert.Equal([20L, 80L, 0L], daemon.Query(
            "SELECT (SELECT count(*) FROM runs WHERE status = 'Success'), (SELECT count(*) FROM logs), (SELECT count(*) FROM logs WHERE origin = 'stdout')").Single());
    }

    [Theory]
    [InlineData("Channel:CapacityBytes", "0", "Channel:CapacityBytes must be at least 1024 (got 0).")]
    [InlineData("Receivers:MaxInFlightBytes", "1024", "Receivers:MaxInFlightBytes must be at least Receivers:MaxMessageBytes")]
    [InlineData("Retention:MaxDiskBytes", "1000", "Retention:MaxDiskBytes must be 0 (no cap) or at least 4194304 (got 1000).")]
    [InlineData("Storage:MemoryLimit", "lots", "Storage:MemoryLimit must be a size such as 512MB or 2GB (got 'lots').")]
    [InlineData("Storage:Threads", "0", "Storage:Threads must be between 1 and 256 (got 0).")]
    [InlineData("Receivers:GrpcEndpoint", "localhost", "Receivers:GrpcEndpoint must be an IP address and port")]
    [InlineData("Mapping:StdoutPattern", "(?<level>x)", "Mapping:StdoutPattern needs a named group 'message'")]
    public async Task Start_InvalidOption_FailsNamingTheKey(string key, string value, string message)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestDaemon.StartAsync(new Dictionary<string, string?> { [key] = value }));

        Assert.Contains(message, error.Message);
    }
}
