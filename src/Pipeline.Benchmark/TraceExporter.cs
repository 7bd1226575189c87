using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace Pipeline.Benchmark;

/// <summary>
/// An OTLP/gRPC trace exporter of pre-encoded requests (so the load generator's protobuf work is not measured): it
/// waits for each answer, and retries a refused export (UNAVAILABLE or RESOURCE_EXHAUSTED) after the delay the
/// daemon's RetryInfo asks for, as a real exporter does. Counts refusals and the spans answered as rejected.
/// </summary>
internal sealed class TraceExporter : IDisposable
{
    private const int MaxAttempts = 30;

    private static readonly TimeSpan DefaultRetryDelay = TimeSpan.FromMilliseconds(250);

    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create<byte[]>(b => b, b => b);

    private static readonly Method<byte[], byte[]> Export = new(
        MethodType.Unary, "opentelemetry.proto.collector.trace.v1.TraceService", "Export", Bytes, Bytes);

    private readonly GrpcChannel _channel;
    private readonly CallInvoker _invoker;
    private long _refusals;
    private long _rejectedSpans;

    public TraceExporter(int grpcPort)
    {
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        _invoker = _channel.CreateCallInvoker();
    }

    /// <summary>Exports refused as "retry later" (each retry of one export that is refused again counts again).</summary>
    public long Refusals => Interlocked.Read(ref _refusals);

    /// <summary>Spans the daemon answered as rejected (partial success).</summary>
    public long RejectedSpans => Interlocked.Read(ref _rejectedSpans);

    /// <summary>The first partial-success message, if any span was rejected.</summary>
    public string? FirstRejection { get; private set; }

    /// <summary>Waits for the daemon to listen: sends an empty export until it is answered.</summary>
    public async Task WaitForDaemonAsync()
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await _invoker.AsyncUnaryCall(Export, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)), []);
                return;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && attempt < 600)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Exports one request; returns once the daemon has acknowledged it (its rows are committed).</summary>
    public async Task ExportAsync(byte[] request)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var answer = ExportTraceServiceResponse.Parser.ParseFrom(await _invoker.AsyncUnaryCall(Export, null, default, request));
                if (answer.PartialSuccess is { RejectedSpans: > 0 } partial)
                {
                    Interlocked.Add(ref _rejectedSpans, partial.RejectedSpans);
                    FirstRejection ??= partial.ErrorMessage;
                }

                return;
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.ResourceExhausted && attempt < MaxAttempts)
            {
                Interlocked.Increment(ref _refusals);
                await Task.Delay(ex.GetRpcStatus()?.GetDetail<RetryInfo>()?.RetryDelay?.ToTimeSpan() ?? DefaultRetryDelay);
            }
        }
    }

    public void Dispose() => _channel.Dispose();
}
