using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Pipeline.Buffering;

namespace Pipeline.Ingest.Grpc;

/// <summary>
/// Refusals in gRPC terms, as OTLP asks: retryable ones UNAVAILABLE with a <c>google.rpc.RetryInfo</c> detail,
/// permanent ones INVALID_ARGUMENT (the client drops the export and does not retry).
/// </summary>
internal static class GrpcErrors
{
    public static async Task<T> Translate<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RetryLaterException ex)
        {
            throw Unavailable(ex.Message, ex.RetryAfter);
        }
        catch (ExportRejectedException ex)
        {
            throw new RpcException(new global::Grpc.Core.Status(StatusCode.InvalidArgument, ex.Message));
        }
    }

    /// <summary>
    /// Answers a gRPC call that never reached the service (refused on admission): a trailers-only response carrying
    /// UNAVAILABLE and its RetryInfo, as grpc-dotnet itself would write it.
    /// </summary>
    public static Task WriteTrailersOnlyAsync(HttpContext context, RetryLaterException refusal) =>
        WriteTrailersOnlyAsync(context, UnavailableStatus(refusal.Message, refusal.RetryAfter));

    /// <summary>A trailers-only answer with any status, for a call refused before it reached the service.</summary>
    public static Task WriteTrailersOnlyAsync(HttpContext context, Google.Rpc.Status status)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = status.Code.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = Uri.EscapeDataString(status.Message);
        response.Headers["grpc-status-details-bin"] = Convert.ToBase64String(status.ToByteArray()).TrimEnd('=');
        return response.CompleteAsync();
    }

    private static RpcException Unavailable(string message, TimeSpan retryAfter) => UnavailableStatus(message, retryAfter).ToRpcException();

    private static Google.Rpc.Status UnavailableStatus(string message, TimeSpan retryAfter) => new()
    {
        Code = (int)Code.Unavailable,
        Message = message,
        Details = { Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(retryAfter) }) },
    };
}
