using Google.Protobuf;
using Grpc.Core;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Buffering;

namespace Pipeline.Ingest.Grpc;

/// <summary>
/// Binds the two OTLP services by hand rather than through generated base classes, for one reason: the request
/// marshaller. A malformed payload must come back as INVALID_ARGUMENT naming the problem; the
/// generated marshaller would surface it as UNKNOWN. (Size limits are enforced before this: grpc-dotnet checks the
/// frame, <see cref="BoundedGzipProvider"/> the decompressed bytes.)
/// </summary>
internal static class OtlpGrpcBinding
{
    private const string TraceServiceName = "opentelemetry.proto.collector.trace.v1.TraceService";
    private const string LogsServiceName = "opentelemetry.proto.collector.logs.v1.LogsService";

    private static readonly Method<OtlpPayload<ExportTraceServiceRequest>, ExportTraceServiceResponse> TraceExport = new(
        MethodType.Unary, TraceServiceName, "Export", RequestMarshaller(ExportTraceServiceRequest.Parser, "traces"), ResponseMarshaller<ExportTraceServiceResponse>());

    private static readonly Method<OtlpPayload<ExportLogsServiceRequest>, ExportLogsServiceResponse> LogsExport = new(
        MethodType.Unary, LogsServiceName, "Export", RequestMarshaller(ExportLogsServiceRequest.Parser, "logs"), ResponseMarshaller<ExportLogsServiceResponse>());

    public static void BindTraceService(ServiceBinderBase binder, TraceGrpcService? service) =>
        binder.AddMethod(TraceExport, service is null ? null : service.Export);

    public static void BindLogsService(ServiceBinderBase binder, LogsGrpcService? service) =>
        binder.AddMethod(LogsExport, service is null ? null : service.Export);

    /// <summary>Decodes the request and, from the same bytes, its digest (the export's identity for deduplication).</summary>
    private static Marshaller<OtlpPayload<T>> RequestMarshaller<T>(MessageParser<T> parser, string signal)
        where T : IMessage<T> => Marshallers.Create<OtlpPayload<T>>(
            (payload, context) => Serialize(payload.Message, context),
            context =>
            {
                try
                {
                    var bytes = context.PayloadAsReadOnlySequence();
                    return new OtlpPayload<T>(parser.ParseFrom(bytes), ExportDigest.Of(signal, bytes), bytes.Length);
                }
                catch (InvalidProtocolBufferException ex)
                {
                    throw new RpcException(new Status(StatusCode.InvalidArgument, $"malformed OTLP protobuf payload: {ex.Message}"));
                }
            });

    private static Marshaller<T> ResponseMarshaller<T>()
        where T : IMessage<T>, new() => Marshallers.Create<T>(
            (message, context) => Serialize(message, context),
            _ => throw new NotSupportedException("The server does not read responses."));

    private static void Serialize<T>(T message, SerializationContext context)
        where T : IMessage<T>
    {
        context.SetPayloadLength(message.CalculateSize());
        message.WriteTo(context.GetBufferWriter());
        context.Complete();
    }
}
