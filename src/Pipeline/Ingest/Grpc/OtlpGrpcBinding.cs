using Google.Protobuf;
using Grpc.Core;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;

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

    private static readonly Method<ExportTraceServiceRequest, ExportTraceServiceResponse> TraceExport = new(
        MethodType.Unary, TraceServiceName, "Export", RequestMarshaller(ExportTraceServiceRequest.Parser), ResponseMarshaller<ExportTraceServiceResponse>());

    private static readonly Method<ExportLogsServiceRequest, ExportLogsServiceResponse> LogsExport = new(
        MethodType.Unary, LogsServiceName, "Export", RequestMarshaller(ExportLogsServiceRequest.Parser), ResponseMarshaller<ExportLogsServiceResponse>());

    public static void BindTraceService(ServiceBinderBase binder, TraceGrpcService? service) =>
        binder.AddMethod(TraceExport, service is null ? null : service.Export);

    public static void BindLogsService(ServiceBinderBase binder, LogsGrpcService? service) =>
        binder.AddMethod(LogsExport, service is null ? null : service.Export);

    private static Marshaller<T> RequestMarshaller<T>(MessageParser<T> parser)
        where T : IMessage<T> => Marshallers.Create<T>(
            (message, context) => Serialize(message, context),
            context =>
            {
                try
                {
                    return parser.ParseFrom(context.PayloadAsReadOnlySequence());
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
