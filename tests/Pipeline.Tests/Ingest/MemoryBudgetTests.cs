using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Benchmark;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Ingest;

/// <summary>
/// Eight concurrent exports of 60 MB each against the daemon in its own process, default configuration: the bytes in
/// flight are admitted one budget at a time, the rest told to retry, and the daemon's peak resident memory stays
/// under 1 GiB. Every export is stored in the end.
/// </summary>
public sealed class MemoryBudgetTests
{
    private const int Exports = 8;
    private const int SpansPerExport = 55_000;

    [Fact]
    public async Task ConcurrentLargeExports_PeakResidentMemory_StaysUnderOneGiB()
    {
        var folder = new TempFolder();
        using var daemon = DaemonProcess.Start(Path.Combine(folder.Path, "pipeline.duckdb"), "--Retention:MaxAge=3650.00:00:00");
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{daemon.GrpcPort}", new GrpcChannelOptions { MaxSendMessageSize = null });
        var invoker = channel.CreateCallInvoker();
        var raw = Marshallers.Create<byte[]>(b => b, b => b);
        var export = new Method<byte[], byte[]>(MethodType.Unary, "opentelemetry.proto.collector.trace.v1.TraceService", "Export", raw, raw);
        var message = new string('m', 430);
        var requests = Enumerable.Range(0, Exports)
            .Select(e => Traces("s", [.. Enumerable.Range(0, SpansPerExport).Select(i => LogSpan($"run_{e}_{i / 100}", "INFO", message, T0.AddMilliseconds(i)))]).ToByteArray())
            .ToList();
        Assert.All(requests, r => Assert.InRange(r.Length, 50_000_000, 67_108_864));

        var refusals = 0;
        var sending = Task.WhenAll(requests.Select(async request =>
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await invoker.AsyncUnaryCall(export, null, new CallOptions(deadline: DateTime.UtcNow.AddMinutes(2)), request);
                    return;
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && attempt < 600)
                {
                    Interlocked.Increment(ref refusals);
                    await Task.Delay(200);
                }
            }
        }));
        try
        {
            await sending.WaitAsync(TimeSpan.FromMinutes(4));
        }
        catch (RpcException ex)
        {
            await daemon.StopAsync();
            Assert.Fail($"{ex.Status}; the daemon said: {await daemon.Output}");
        }

        var peak = daemon.PeakResidentMiB();
        await daemon.StopAsync();
        System.Console.WriteLine($"eight 60 MB exports: peak resident memory {peak:N0} MiB, {refusals} refusals retried");
        Assert.True(peak < 1024, $"peak resident memory {peak:N0} MiB");
        Assert.True(refusals > 0, "with eight 60 MB exports at once, some must have been told to retry");
        Assert.Equal((long)Exports * SpansPerExport, Database.Query(Path.Combine(folder.Path, "pipeline.duckdb"), "SELECT count(*) FROM logs").Single()[0]);
    }
}
