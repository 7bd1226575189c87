using System.Net;
using Google.Rpc;
using Grpc.Core;

namespace Pipeline.Forwarding;

/// <summary>What became of one attempt to send an export upstream.</summary>
internal enum SendOutcome
{
    /// <summary>Acknowledged (perhaps with some records refused in a partial success).</summary>
    Sent,

    /// <summary>Not taken this time; sent again after a delay. Connection errors, timeouts, "retry later" answers.</summary>
    Retry,

    /// <summary>
    /// Not taken, and sending it again would fail the same way while its own configuration is wrong: missing or
    /// wrong token, wrong path or protocol. Retried like <see cref="Retry"/> (a fixed token then delivers it), logged louder.
    /// </summary>
    Misconfigured,

    /// <summary>Refused for good by the upstream (malformed, too large): counted and dropped, the queue moves on.</summary>
    Rejected,
}

/// <summary>One attempt's outcome: the delay the upstream asked for (RetryInfo, Retry-After), its message, and records it refused.</summary>
internal sealed record SendResult(SendOutcome Outcome, string Reason, string Message, TimeSpan? RetryAfter = null, long RejectedRecords = 0)
{
    public static SendResult Sent(long rejectedRecords = 0, string message = "") => new(SendOutcome.Sent, "ok", message, null, rejectedRecords);

    /// <summary>
    /// A gRPC failure, sorted as OTLP says (retryable: CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE,
    /// UNAVAILABLE, DATA_LOSS; RESOURCE_EXHAUSTED only with RetryInfo), except that authentication failures and
    /// codes that mean the endpoint is wrong are retried too, and so are INTERNAL and UNKNOWN (a proxy's or a crashed
    /// upstream's answer more often than the export's fault). Permanent: INVALID_ARGUMENT, FAILED_PRECONDITION,
    /// RESOURCE_EXHAUSTED without RetryInfo (a message too large for the upstream).
    /// </summary>
    public static SendResult FromGrpc(RpcException error)
    {
        var delay = RetryDelay(error);
        var reason = error.StatusCode.ToString();
        var message = error.Status.Detail;
        return error.StatusCode switch
        {
            StatusCode.InvalidArgument or StatusCode.FailedPrecondition => new(SendOutcome.Rejected, reason, message),
            StatusCode.ResourceExhausted when delay is null => new(SendOutcome.Rejected, reason, message),
            StatusCode.Unauthenticated or StatusCode.PermissionDenied or StatusCode.Unimplemented or StatusCode.NotFound =>
                new(SendOutcome.Misconfigured, reason, message, delay),
            _ => new(SendOutcome.Retry, reason, message, delay),
        };
    }

    /// <summary>
    /// An OTLP/HTTP failure: 400, 413 and 422 are permanent; 401, 403, 404, 405 and 415 mean the configuration is
    /// wrong (retried, loudly); everything else (429, 5xx, redirects we do not follow) is retried, after Retry-After
    /// when given.
    /// </summary>
    public static SendResult FromHttp(HttpStatusCode status, TimeSpan? retryAfter, string message)
    {
        var reason = $"http_{(int)status}";
        return (int)status switch
        {
            400 or 413 or 422 => new(SendOutcome.Rejected, reason, message),
            401 or 403 or 404 or 405 or 415 => new(SendOutcome.Misconfigured, reason, message, retryAfter),
            _ => new(SendOutcome.Retry, reason, message, retryAfter),
        };
    }

    /// <summary>The delay of a <c>google.rpc.RetryInfo</c> in the call's status details (<c>grpc-status-details-bin</c>), if any.</summary>
    public static TimeSpan? RetryDelay(RpcException error)
    {
        try
        {
            var info = error.GetRpcStatus()?.GetDetail<RetryInfo>();
            return info?.RetryDelay?.ToTimeSpan() is { } delay && delay >= TimeSpan.Zero ? delay : null;
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            return null;
        }
    }

    /// <summary>Retry-After as seconds or an HTTP date (RFC 9110), relative to <paramref name="now"/>.</summary>
    public static TimeSpan? RetryAfterOf(System.Net.Http.Headers.RetryConditionHeaderValue? header, DateTimeOffset now) =>
        header?.Delta is { } delta ? delta
        : header?.Date is { } date ? (date > now ? date - now : TimeSpan.Zero)
        : null;
}
