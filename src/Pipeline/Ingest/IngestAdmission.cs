using System.Buffers;
using System.Buffers.Binary;
using Microsoft.Extensions.Options;
using Pipeline.Buffering;
using Pipeline.Diagnostics;
using Pipeline.Hosting;
using Pipeline.Ingest.Grpc;
using Pipeline.Ingest.Http;

namespace Pipeline.Ingest;

/// <summary>
/// One request's share of <see cref="ReceiverOptions.MaxInFlightBytes"/>. It starts at the size the request declares
/// (HTTP Content-Length, or the gRPC frame's length prefix) and grows as the body is read and decompressed; it is
/// released when the request has been answered.
/// </summary>
internal sealed class Admission(ByteBudget budget) : IDisposable
{
    private long _held;

    public long Held => Interlocked.Read(ref _held);

    /// <summary>Holds at least <paramref name="bytes"/>; false (holding what it held) when the budget has no room.</summary>
    public bool TryGrowTo(long bytes)
    {
        var more = bytes - _held;
        if (more <= 0)
        {
            return true;
        }

        if (!budget.TryReserve(more))
        {
            return false;
        }

        Interlocked.Add(ref _held, more);
        return true;
    }

    public void Dispose() => budget.Release(Interlocked.Exchange(ref _held, 0));
}

/// <summary>The budget of request bytes in flight (<see cref="ReceiverOptions.MaxInFlightBytes"/>), shared by both transports.</summary>
internal sealed class InFlightBytes(IOptions<ReceiverOptions> receivers, IOptions<ChannelOptions> channel)
{
    public ByteBudget Budget { get; } = new(receivers.Value.MaxInFlightBytes);

    /// <summary>Refused: the bytes in flight would pass the budget.</summary>
    public RetryLaterException Refusal(long bytes) => new(
        $"requests in flight would exceed Receivers:MaxInFlightBytes ({Budget.Capacity} bytes; this one needs {bytes}); retry later",
        channel.Value.RetryAfter);
}

/// <summary>
/// Admits OTLP requests by bytes before their bodies are buffered or decoded: a request that would take the bytes in
/// flight past <see cref="ReceiverOptions.MaxInFlightBytes"/> is refused at once as retryable (UNAVAILABLE with
/// RetryInfo, or 503 with Retry-After), so concurrent large exports cannot grow the daemon's memory without bound.
/// </summary>
internal sealed class IngestAdmission(RequestDelegate next, InFlightBytes inFlight, PipelineMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var grpc = ListenerRouting.IsGrpc(context.Request.Path);
        if (!grpc && !context.Request.Path.StartsWithSegments("/v1"))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var declared = grpc ? await GrpcFrameLengthAsync(context.Request).ConfigureAwait(false) : context.Request.ContentLength ?? 0;
        using var admission = new Admission(inFlight.Budget);
        if (!admission.TryGrowTo(declared))
        {
            metrics.ExportRefused("in_flight_bytes");
            var refusal = inFlight.Refusal(declared);
            await (grpc
                ? GrpcErrors.WriteTrailersOnlyAsync(context, refusal)
                : OtlpHttpEndpoints.RetryLaterAsync(context, refusal)).ConfigureAwait(false);
            return;
        }

        context.Features.Set(admission);
        await next(context).ConfigureAwait(false);
    }

    /// <summary>The length prefix of the first gRPC message, read without consuming it.</summary>
    private static async Task<long> GrpcFrameLengthAsync(HttpRequest request)
    {
        var result = await request.BodyReader.ReadAtLeastAsync(5, request.HttpContext.RequestAborted).ConfigureAwait(false);
        var length = FrameLength(result.Buffer);
        request.BodyReader.AdvanceTo(result.Buffer.Start);
        return length;
    }

    private static long FrameLength(ReadOnlySequence<byte> buffer)
    {
        if (buffer.Length < 5)
        {
            return 0;
        }

        Span<byte> header = stackalloc byte[5];
        buffer.Slice(0, 5).CopyTo(header);
        return BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
    }
}
