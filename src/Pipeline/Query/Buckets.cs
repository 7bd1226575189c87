namespace Pipeline.Query;

/// <summary>
/// The buckets of a trend chart. The period asked for is narrowed to the data in it (its first and last row,
/// truncated to the bucket), so a wide period ("all time") costs what the data spans, not what was asked. Without a
/// bucket asked for: hours when that span is at most 72 hours, else days. At most <see cref="MaxBuckets"/>.
/// </summary>
/// <param name="Unit"><c>hour</c> or <c>day</c>.</param>
/// <param name="From">The first bucket's start.</param>
/// <param name="To">The end of the last bucket, or of the period when it ends sooner; equal to <paramref name="From"/> when there is no data.</param>
internal sealed record Buckets(string Unit, DateTime From, DateTime To)
{
    public const int MaxBuckets = 10_000;

    public static readonly TimeSpan DefaultHourlyUpTo = TimeSpan.FromHours(72);

    public TimeSpan Step => StepOf(Unit);

    /// <summary>Each bucket's start, empty buckets included.</summary>
    public IEnumerable<DateTime> Starts
    {
        get
        {
            for (var start = From; start < To; start += Step)
            {
                yield return start;
            }
        }
    }

    /// <summary>The step in microseconds, as SQL counts with <c>epoch_us</c>.</summary>
    public long StepMicroseconds => Step.Ticks / TimeSpan.TicksPerMicrosecond;

    /// <summary>The start of the buckets in microseconds since the Unix epoch.</summary>
    public long FromMicroseconds => Microseconds(From);

    /// <summary>Refuses a bucket other than hour or day (before any query runs).</summary>
    public static void Check(string? bucket)
    {
        if (bucket is not (null or "hour" or "day"))
        {
            throw new QueryException($"bucket must be hour or day (got '{bucket}')");
        }
    }

    /// <summary>The buckets for the period of <paramref name="request"/> holding data from <paramref name="first"/> to <paramref name="last"/> (null: none).</summary>
    public static Buckets Plan(ListRequest request, string? bucket, DateTime? first, DateTime? last)
    {
        Check(bucket);
        if (first is not { } firstAt || last is not { } lastAt)
        {
            return new Buckets(bucket ?? Default(request.To - request.From), request.From, request.From);
        }

        var start = firstAt > request.From ? firstAt : request.From;
        var end = lastAt < request.To ? lastAt : request.To;
        var unit = bucket ?? Default(end - start);
        var from = Truncate(start, unit);
        var afterLast = Truncate(lastAt, unit) + StepOf(unit);
        var to = afterLast < request.To ? afterLast : request.To;
        var count = Math.Ceiling((to - from) / StepOf(unit));
        return count > MaxBuckets
            ? throw new QueryException(
                $"the data in that period spans {count:0} {unit}s ({from:O} to {to:O}); ask for at most {MaxBuckets} buckets (use bucket=day, or a shorter period)")
            : new Buckets(unit, from, to);
    }

    /// <summary>
    /// Whether the default bucket for data whose first and last row lie in the hours starting at
    /// <paramref name="firstHour"/> and <paramref name="lastHour"/> depends on where in those hours they lie (the span
    /// is within an hour of <see cref="DefaultHourlyUpTo"/>): only then are the exact instants needed. Everything else
    /// <see cref="Plan"/> does is the same with the hours as with the instants, since it truncates them to an hour or a day.
    /// </summary>
    public static bool NeedsExactBounds(ListRequest request, string? bucket, DateTime firstHour, DateTime lastHour)
    {
        if (bucket is not null)
        {
            return false;
        }

        static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;
        static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;
        var longest = Min(request.To, lastHour.AddHours(1)) - Max(request.From, firstHour);
        var shortest = Min(request.To, lastHour) - Max(request.From, firstHour.AddHours(1));
        return longest > DefaultHourlyUpTo && shortest <= DefaultHourlyUpTo;
    }

    public static DateTime Truncate(DateTime instant, string unit)
    {
        var step = StepOf(unit).Ticks;
        return new DateTime(instant.Ticks - (instant.Ticks % step), DateTimeKind.Utc);
    }

    public static long Microseconds(DateTime instant) => (instant - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;

    private static string Default(TimeSpan span) => span <= DefaultHourlyUpTo ? "hour" : "day";

    private static TimeSpan StepOf(string unit) => unit == "hour" ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);
}
