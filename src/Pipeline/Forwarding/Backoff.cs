namespace Pipeline.Forwarding;

/// <summary>
/// Exponential backoff with jitter: the n-th retry waits between half and all of min(MaxBackoff, MinBackoff·2ⁿ⁻¹),
/// so that forwarders that failed together do not retry together; never less than the upstream asked for
/// (RetryInfo, Retry-After), itself capped at an hour. There is no limit on attempts or elapsed time.
/// </summary>
internal static class Backoff
{
    public static readonly TimeSpan LongestHonoured = TimeSpan.FromHours(1);

    public static TimeSpan Delay(int attempt, TimeSpan min, TimeSpan max, TimeSpan? asked, double random)
    {
        var exponent = Math.Min(Math.Max(attempt - 1, 0), 30);
        var ceiling = Math.Min(max.TotalMilliseconds, min.TotalMilliseconds * Math.Pow(2, exponent));
        var delay = TimeSpan.FromMilliseconds(ceiling * (0.5 + (0.5 * random)));
        if (asked is { } wanted)
        {
            var honoured = wanted < LongestHonoured ? wanted : LongestHonoured;
            delay = honoured > delay ? honoured : delay;
        }

        return delay;
    }
}
