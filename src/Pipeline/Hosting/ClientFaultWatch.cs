using Microsoft.AspNetCore.Http.Features;
using Pipeline.Diagnostics;

namespace Pipeline.Hosting;

/// <summary>
/// Client faults (<see cref="ClientFault"/>) on the bodies the daemon does not read itself: gRPC messages, read and
/// answered by grpc-dotnet before any service code runs, and the query API's JSON bodies, read and answered by minimal
/// API binding. Both swallow the failure, so the body is watched and the fault logged here once the request is over.
/// OTLP/HTTP reads its own bodies and reports its faults where it reads them.
/// </summary>
internal sealed class ClientFaultWatch(RequestDelegate next, ClientFaultLog faults)
{
    public async Task InvokeAsync(HttpContext context)
    {
        IWatchedBody? body = ListenerRouting.IsGrpc(context.Request.Path) ? WatchedBodyReader.Install(context)
            : context.Request.Path.StartsWithSegments("/v1") ? null
            : context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true ? WatchedBodyStream.Install(context)
            : null;
        if (body is null)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex == body.Failure && ClientFaultLog.Classify(ex, context.RequestAborted.IsCancellationRequested) is not null)
        {
            // A read outside the frameworks' own handling (the gRPC frame's length, read on admission) failed: the
            // fault is reported below and there is nobody to answer.
        }

        if (body.Failure is { } failure && ClientFaultLog.Classify(failure, context.RequestAborted.IsCancellationRequested) is { } fault)
        {
            faults.Report(fault, context);
            if (fault == ClientFault.AbortedBody)
            {
                // Kestrel would otherwise try to drain a body whose read broke off, and log that as an error.
                context.Abort();
            }
        }
    }
}
