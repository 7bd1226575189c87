namespace Pipeline.Buffering;

// The two answers an export can get besides success, in the terms both transports translate: gRPC UNAVAILABLE with
// RetryInfo or HTTP 503 with Retry-After for the first, gRPC INVALID_ARGUMENT or HTTP 400 for the second.

/// <summary>
/// Refused for now (no room in a budget, the daemon stopping, the store failing): nothing of the export was kept, and
/// the same export sent again later will be taken.
/// </summary>
internal sealed class RetryLaterException(string message, TimeSpan retryAfter, Exception? inner = null) : Exception(message, inner)
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>Refused for good: the export itself cannot be stored, and sending it again would fail the same way.</summary>
internal sealed class ExportRejectedException(string message, Exception? inner = null) : Exception(message, inner);
