using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Ingest;

/// <summary>OTLP/gRPC against a real daemon on loopback with a real gRPC client.</summary>
public sealed class GrpcReceiverTests
{
    [Fact]
    public async Task Export_TracesAndLogs_AreCommittedBeforeTheAnswer()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var (logs, run) = SeedKoreloggerRun("run_g");

        var traceResponse = await new TraceService.TraceServiceClient(daemon.Grpc)
            .ExportAsync(Traces("gvisor-py-normal", [.. logs, run]), deadline: TestDaemon.Deadline());
        var logsResponse = await new LogsService.LogsServiceClient(daemon.Grpc)
            .ExportAsync(Logs("gvisor-py-normal", StdoutRecord("run_g", "extra print", T0.AddSeconds(1))), deadline: TestDaemon.Deadline());

        Assert.Null(traceResponse.PartialSuccess);
        Assert.Null(logsResponse.PartialSuccess);
        // No waiting: an answered export is already in the database.
        Assert.Equal(["Success", 250.0, "gvisor-py-normal"], daemon.Query("SELECT status, response_time_ms, script FROM runs WHERE run_id = 'run_g'").Single());
        Assert.Equal(5L, daemon.Scalar("SELECT count(*) FROM logs WHERE run_id = 'run_g'"));
    }

    [Fact]
    public async Task Export_SomeBadSpans_PartialSuccessNamesThemAndKeepsTheRest()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var bad = LogSpan("r", "INFO", "m", T0);
        bad.SpanId = ByteString.Empty;

        var response = await new TraceService.TraceServiceClient(daemon.Grpc)
            .ExportAsync(Traces("s", bad, LogSpan("run_ok", "INFO", "kept", T0)), deadline: TestDaemon.Deadline());

        Assert.Equal(1, response.PartialSuccess.RejectedSpans);
        Assert.Contains("span_id must be 8 bytes (got 0)", response.PartialSuccess.ErrorMessage);
        Assert.Equal("kept", daemon.Scalar("SELECT message FROM logs"));
    }

    [Fact]
    public async Task Export_BadLogRecords_PartialSuccessCountsThem()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var orphan = StdoutRecord("r", "x", T0);
        orphan.Attributes.Clear();

        var response = await new LogsService.LogsServiceClient(daemon.Grpc)
            .ExportAsync(Logs("s", orphan, StdoutRecord("run_ok", "kept", T0)), deadline: TestDaemon.Deadline());

        Assert.Equal(1, response.PartialSuccess.RejectedLogRecords);
        Assert.Contains("no run_id", response.PartialSuccess.ErrorMessage);
        Assert.Equal(1L, daemon.Scalar("SELECT count(*) FROM logs"));
    }

    [Fact]
    public async Task Export_Retried_IsStoredOnce()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var (logs, run) = SeedKoreloggerRun("run_retry");
        var request = Traces("s", [.. logs, run]);
        var client = new TraceService.TraceServiceClient(daemon.Grpc);

        await client.ExportAsync(request, deadline: TestDaemon.Deadline());
        await client.ExportAsync(request, deadline: TestDaemon.Deadline());

        Assert.Equal(1L, daemon.Scalar("SELECT count(*) FROM runs"));
        Assert.Equal(8L, daemon.Scalar("SELECT count(*) FROM log_lines"));
        Assert.Equal(4L, daemon.Scalar("SELECT count(*) FROM logs"));
    }

    [Fact]
    public async Task Export_GzipCompressed_IsAccepted()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var client = new TraceService.TraceServiceClient(daemon.Grpc);

        await client.ExportAsync(Traces("s", LogSpan("run_z", "INFO", "zipped", T0)),
            new Metadata { { "grpc-internal-encoding-request", "gzip" } }, TestDaemon.Deadline());

        Assert.Equal("zipped", daemon.Scalar("SELECT message FROM logs"));
    }

    [Fact]
    public async Task Export_MalformedPayload_IsInvalidArgumentWithMessage()
    {
        await using var daemon = await TestDaemon.StartAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() => RawExport(daemon.Grpc, [0x0A, 0xFF, 0xFF, 0xFF]));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("malformed OTLP protobuf payload", error.Status.Detail);
    }

    [Fact]
    public async Task Export_CompressedFrameNotValidGzip_IsInvalidArgument()
    {
        await using var daemon = await TestDaemon.StartAsync();
        using var client = RawGrpc.Client();
        // The compressed flag is set and grpc-encoding says gzip, but the bytes are no deflate stream.
        using var request = RawGrpc.Request(daemon.GrpcAddress, new ByteArrayContent(RawGrpc.Frame(compressed: true, [1, 2, 3, 4, 5, 6, 7, 8])), "gzip");

        using var response = await client.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(((int)StatusCode.InvalidArgument).ToString(System.Globalization.CultureInfo.InvariantCulture), RawGrpc.Status(response, "grpc-status"));
        Assert.StartsWith("body is not valid gzip", Uri.UnescapeDataString(RawGrpc.Status(response, "grpc-message")!));
    }

    [Fact]
    public async Task Export_OverTheLimit_IsResourceExhausted()
    {
        await using var daemon = await TestDaemon.StartAsync(new Dictionary<string, string?> { ["Receivers:MaxMessageBytes"] = "4096" });
        var big = Traces("s", LogSpan("r", "INFO", new string('x', 10_000), T0));
        var client = new TraceService.TraceServiceClient(daemon.Grpc);

        var plain = await Assert.ThrowsAsync<RpcException>(async () => await client.ExportAsync(big, deadline: TestDaemon.Deadline()));
        var zipped = await Assert.ThrowsAsync<RpcException>(async () => await client.ExportAsync(big,
            new Metadata { { "grpc-internal-encoding-request", "gzip" } }, TestDaemon.Deadline()));

        Assert.Equal(StatusCode.ResourceExhausted, plain.StatusCode);
        // 10 kB of 'x' compresses far below 4 kB: only the limit after decompression can catch it.
        Assert.True(Gzip.Compress(big.ToByteArray()).Length < 4096);
        Assert.Equal(StatusCode.ResourceExhausted, zipped.StatusCode);
        Assert.Contains("after decompression", zipped.Status.Detail);
        Assert.Equal(0L, daemon.Scalar("SELECT count(*) FROM log_lines"));
    }


    private static async Task RawExport(GrpcChannel channel, byte[] payload)
    {
        var bytes = Marshallers.Create(b => b, b => b);
        var method = new Method<byte[], byte[]>(MethodType.Unary, "opentelemetry.proto.collector.trace.v1.TraceService", "Export", bytes, bytes);
        await channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(deadline: TestDaemon.Deadline()), payload);
    }
}
