using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Security;

namespace Pipeline.Ingest.Grpc;

// grpc-dotnet binds a method only if it is virtual and declared on the type that carries [BindServiceMethod],
// hence unsealed classes with virtual Export methods.

/// <summary>OTLP/gRPC <c>TraceService/Export</c>: decode, hand over, answer.</summary>
[BindServiceMethod(typeof(OtlpGrpcBinding), nameof(OtlpGrpcBinding.BindTraceService))]
internal class TraceGrpcService(OtlpIngest ingest)
{
    public virtual Task<ExportTraceServiceResponse> Export(OtlpPayload<ExportTraceServiceRequest> request, ServerCallContext context) =>
        GrpcErrors.Translate(() => ingest.ExportTracesAsync(request, context.GetHttpContext().Features.Get<Admission>(), context.GetHttpContext().Scope(), context.CancellationToken));
}

/// <summary>OTLP/gRPC <c>LogsService/Export</c>: decode, hand over, answer.</summary>
[BindServiceMethod(typeof(OtlpGrpcBinding), nameof(OtlpGrpcBinding.BindLogsService))]
internal class LogsGrpcService(OtlpIngest ingest)
{
    public virtual Task<ExportLogsServiceResponse> Export(OtlpPayload<ExportLogsServiceRequest> request, ServerCallContext context) =>
        GrpcErrors.Translate(() => ingest.ExportLogsAsync(request, context.GetHttpContext().Features.Get<Admission>(), context.GetHttpContext().Scope(), context.CancellationToken));
}
