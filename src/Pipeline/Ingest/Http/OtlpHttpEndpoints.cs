using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.Extensions.Options;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Buffering;
using Pipeline.Diagnostics;
using Pipeline.Security;

namespace Pipeline.Ingest.Http;

/// <summary>
/// OTLP/HTTP: <c>POST /v1/traces</c> and <c>/v1/logs</c>, protobuf or JSON, optionally gzip. Answers in the request's
/// content type; errors carry a <c>google.rpc.Status</c> naming the problem (400 malformed or not storable, 413 too
/// large, 415 wrong type or encoding, 503 with Retry-After when the export must be retried). A body the client fails
/// to deliver is a client fault: 408 when it came too slowly, 400 when it was cut short, nothing when the connection
/// is gone.
/// </summary>
internal static class OtlpHttpEndpoints
{
    public static IEndpointRouteBuilder MapOtlpHttp(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/traces", (HttpContext context, OtlpIngest ingest, InFlightBytes inFlight, ClientFaultLog faults, IOptions<ReceiverOptions> options) =>
            HandleAsync(context, options.Value.MaxMessageBytes, inFlight, faults, "traces", ExportTraceServiceRequest.Parser, ingest.ExportTracesAsync))
            .ExcludeFromDescription();
        app.MapPost("/v1/logs", (HttpContext context, OtlpIngest ingest, InFlightBytes inFlight, ClientFaultLog faults, IOptions<ReceiverOptions> options) =>
            HandleAsync(context, options.Value.MaxMessageBytes, inFlight, faults, "logs", ExportLogsServiceRequest.Parser, ingest.ExportLogsAsync))
            .ExcludeFromDescription();
        return app;
    }

    private static async Task HandleAsync<TRequest, TResponse>(
        HttpContext context,
        int maxBytes,
        InFlightBytes inFlight,
        ClientFaultLog faults,
        string signal,
        MessageParser<TRequest> parser,
        Func<OtlpPayload<TRequest>, Admission?, ScriptScope, CancellationToken, Task<TResponse>> export)
        where TRequest : IMessage<TRequest>, new()
        where TResponse : IMessage<TResponse>
    {
        var cancellationToken = context.RequestAborted;
        var format = BodyFormat.Json;
        var admission = context.Features.Get<Admission>();
        OtlpPayload<TRequest> request;
        try
        {
            format = OtlpHttpBody.FormatOf(context.Request);
            var body = await OtlpHttpBody.ReadAsync(
                context.Request, maxBytes, bytes => admission is null || admission.TryGrowTo(bytes) ? null : inFlight.Refusal(bytes), cancellationToken).ConfigureAwait(false);
            request = new OtlpPayload<TRequest>(Decode(body, format, parser), ExportDigest.Of(signal, body), body.Length);
        }
        catch (BodyRejectedException ex)
        {
            await WriteAsync(context, ex.StatusCode, format, Status(ex.StatusCode, ex.Message)).ConfigureAwait(false);
            return;
        }
        catch (ClientFaultException ex)
        {
            faults.Report(ex.Fault, context);
            await AnswerClientFaultAsync(context, ex.Fault, format).ConfigureAwait(false);
            return;
        }
        catch (RetryLaterException ex)
        {
            await RetryLaterAsync(context, ex).ConfigureAwait(false);
            return;
        }

        try
        {
            var response = await export(request, admission, context.Scope(), cancellationToken).ConfigureAwait(false);
            await WriteAsync(context, StatusCodes.Status200OK, format, response).ConfigureAwait(false);
        }
        catch (RetryLaterException ex)
        {
            await RetryLaterAsync(context, ex).ConfigureAwait(false);
        }
        catch (ExportRejectedException ex)
        {
            await WriteAsync(context, StatusCodes.Status400BadRequest, format, Status(StatusCodes.Status400BadRequest, ex.Message)).ConfigureAwait(false);
        }
    }

    private static TRequest Decode<TRequest>(byte[] body, BodyFormat format, MessageParser<TRequest> parser)
        where TRequest : IMessage<TRequest>, new()
    {
        try
        {
            return format == BodyFormat.Protobuf ? parser.ParseFrom(body) : OtlpJson.Parse(body, parser);
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or JsonException or FormatException
                                       or InvalidOperationException or IOException)
        {
            var what = format == BodyFormat.Protobuf ? "protobuf" : "JSON";
            throw new BodyRejectedException(StatusCodes.Status400BadRequest, $"malformed OTLP {what} body: {ex.Message}");
        }
    }

    /// <summary>
    /// Answers a body the client failed to deliver, if the connection still allows it, and closes the connection: its
    /// request body is in an unknown state. An aborted body has nobody to answer; its connection is dropped at once,
    /// or Kestrel would try to drain a body whose read broke off and log that as an error.
    /// </summary>
    private static async Task AnswerClientFaultAsync(HttpContext context, ClientFault fault, BodyFormat format)
    {
        if (fault == ClientFault.AbortedBody || context.RequestAborted.IsCancellationRequested)
        {
            context.Abort();
            return;
        }

        var (statusCode, status) = fault == ClientFault.SlowBody
            ? (StatusCodes.Status408RequestTimeout, new Google.Rpc.Status
            {
                Code = (int)Google.Rpc.Code.DeadlineExceeded,
                Message = "request body arrived too slowly (below the server's minimum data rate)",
            })
            : (StatusCodes.Status400BadRequest, new Google.Rpc.Status
            {
                Code = (int)Google.Rpc.Code.InvalidArgument,
                Message = "request body ended before its declared length, or its chunked framing is broken",
            });
        context.Response.Headers.Connection = "close";
        try
        {
            await WriteAsync(context, statusCode, format, status).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // The client went away while being answered: nothing more to do.
        }
    }

    /// <summary>401 with <c>WWW-Authenticate: Bearer</c> and a google.rpc.Status (UNAUTHENTICATED) naming why.</summary>
    internal static Task UnauthenticatedAsync(HttpContext context, string message)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return WriteAsync(context, StatusCodes.Status401Unauthorized, FormatOrJson(context.Request), Status(StatusCodes.Status401Unauthorized, message));
    }

    /// <summary>503 with Retry-After and a google.rpc.Status naming why, in the request's body format (JSON when unknown).</summary>
    internal static Task RetryLaterAsync(HttpContext context, RetryLaterException refusal) =>
        RetryLaterAsync(context, FormatOrJson(context.Request), refusal.Message, refusal.RetryAfter);

    private static BodyFormat FormatOrJson(HttpRequest request)
    {
        try
        {
            return OtlpHttpBody.FormatOf(request);
        }
        catch (BodyRejectedException)
        {
            return BodyFormat.Json;
        }
    }

    private static Task RetryLaterAsync(HttpContext context, BodyFormat format, string message, TimeSpan retryAfter)
    {
        context.Response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        return WriteAsync(context, StatusCodes.Status503ServiceUnavailable, format, Status(StatusCodes.Status503ServiceUnavailable, message));
    }

    private static Google.Rpc.Status Status(int httpStatus, string message) => new()
    {
        Code = httpStatus switch
        {
            StatusCodes.Status400BadRequest => (int)Google.Rpc.Code.InvalidArgument,
            StatusCodes.Status401Unauthorized => (int)Google.Rpc.Code.Unauthenticated,
            StatusCodes.Status413PayloadTooLarge => (int)Google.Rpc.Code.ResourceExhausted,
            StatusCodes.Status415UnsupportedMediaType => (int)Google.Rpc.Code.InvalidArgument,
            _ => (int)Google.Rpc.Code.Unavailable,
        },
        Message = message,
    };

    private static async Task WriteAsync(HttpContext context, int statusCode, BodyFormat format, IMessage message)
    {
        context.Response.StatusCode = statusCode;
        if (format == BodyFormat.Protobuf)
        {
            context.Response.ContentType = "application/x-protobuf";
            await context.Response.Body.WriteAsync(message.ToByteArray(), context.RequestAborted).ConfigureAwait(false);
        }
        else
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(OtlpJson.Format(message), context.RequestAborted).ConfigureAwait(false);
        }
    }
}
