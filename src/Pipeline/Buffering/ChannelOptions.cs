using Pipeline.Hosting;

namespace Pipeline.Buffering;

/// <summary>Config section <c>Channel</c>: the bounded queue between the receivers and the writer.</summary>
public sealed class ChannelOptions : IValidatedOptions
{
    public const string Section = "Channel";

    /// <summary>
    /// How many bytes of rows may wait for the writer (estimated as held in memory: two bytes a character plus a
    /// fixed overhead a row). Bounds memory whatever the rows look like.
    /// </summary>
    public long CapacityBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>How long an export may wait for room while the channel is full before it is answered "retry later".</summary>
    public TimeSpan FullWait { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>What a refused client is told to wait before retrying (gRPC RetryInfo, HTTP Retry-After).</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(1);

    public IEnumerable<string> Validate()
    {
        if (CapacityBytes < 1024)
        {
            yield return $"{Section}:{nameof(CapacityBytes)} must be at least 1024 (got {CapacityBytes}).";
        }

        if (FullWait < TimeSpan.Zero || FullWait > TimeSpan.FromMinutes(1))
        {
            yield return $"{Section}:{nameof(FullWait)} must be between 00:00:00 and 00:01:00 (got {FullWait}).";
        }

        if (RetryAfter < TimeSpan.FromSeconds(1) || RetryAfter > TimeSpan.FromMinutes(5))
        {
            yield return $"{Section}:{nameof(RetryAfter)} must be between 00:00:01 and 00:05:00 (got {RetryAfter}).";
        }
    }
}
