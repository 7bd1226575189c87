using System.Net;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Ingest;

/// <summary>
/// Request bytes in flight are bounded: a request that would pass Receivers:MaxInFlightBytes is refused as retryable
/// before its body is read or decoded (the refused bodies here are not even valid protobuf).
/// </summary>
public sealed class AdmissionTests
{
    private static readonly Dictionary<string, string?> SmallBudget = new()
    {
        ["Receivers:MaxMessageBytes"] = "65536",
        ["Receivers:MaxInFlightBytes"] = "100000",
        ["Channel:RetryAfter"] = "00:00:02",
    };

    [Fact]
    public async Task Request_OverTheBytesInFlight_IsRefusedBeforeDecoding_OnBothTransports()
    {
        await using var daemon = await TestDaemon.StartAsync(SmallBudget);

        // Other requests hold 60,000 of the 100,000 bytes (as slow clients would, mid-body).
        var budget = ((Pipeline.Ingest.InFlightBytes)daemon.Services.GetService(typeof(Pipeline.Ingest.InFlightBytes))!).Budget;
        Assert.True(budget.TryReserve(60_000));

        using var garbage = new ByteArrayContent(new byte[50_000]);
        garbage.Headers.ContentType = new("application/x-protobuf");
        using var refused = await daemon.Http.PostAsync("/v1/traces", garbage);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(2), refused.Headers.RetryAfter?.Delta);
        Assert.Contains("Receivers:MaxInFlightBytes (100000 bytes; this one needs 50000)", Google.Rpc.Status.Parser.ParseFrom(await refused.Content.ReadAsByteArrayAsync()).Message);

        var invoker = daemon.Grpc.CreateCallInvoker();
        var raw = Marshallers.Create<byte[]>(b => b, b => b);
        var export = new Method<byte[], byte[]>(MethodType.Unary, "opentelemetry.proto.collector.trace.v1.TraceService", "Export", raw, raw);
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await invoker.AsyncUnaryCall(export, null, new CallOptions(deadline: TestDaemon.Deadline()), new byte[50_000]));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(2), error.GetRpcStatus()!.GetDetail<RetryInfo>().RetryDelay.ToTimeSpan());

        // When those requests end, their bytes are free again and a real export goes through; its own bytes are released.
        budget.Release(60_000);
        await new TraceService.TraceServiceClient(daemon.Grpc).ExportAsync(Traces("s", LogSpan("run_ok", "INFO", "in", T0)), deadline: TestDaemon.Deadline());
        Assert.Equal(1L, daemon.Scalar("SELECT count(*) FROM logs"));
        Assert.Equal(0L, InFlight(daemon));
    }

    private static long InFlight(TestDaemon daemon) =>
        daemon.Services.GetService(typeof(Pipeline.Ingest.InFlightBytes)) is Pipeline.Ingest.InFlightBytes b ? b.Budget.Used : -1;
}
