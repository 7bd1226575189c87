using Pipeline.Hosting;

namespace Pipeline.Buffering;

/// <summary>Config section <c>Dedup</c>: how long a committed export is remembered, so that its retry is stored once.</summary>
public sealed class DedupOptions : IValidatedOptions
{
    public const string Section = "Dedup";

    /// <summary>
    /// How long after its commit an export's digest is remembered. OTLP exporters retry within minutes; an hour covers
    /// a restart of the client, a collector's persistent queue replaying, and long back-offs.
    /// </summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The most digests remembered at once (about 60 bytes each in memory). Under a sustained rate above
    /// MaxExports / Window exports a second the oldest are forgotten early, so the window is shorter than configured.
    /// </summary>
    public int MaxExports { get; set; } = 1_000_000;

    public IEnumerable<string> Validate()
    {
        if (Window < TimeSpan.FromMinutes(1) || Window > TimeSpan.FromDays(7))
        {
            yield return $"{Section}:{nameof(Window)} must be between 00:01:00 and 7.00:00:00 (got {Window}).";
        }

        if (MaxExports is < 1000 or > 50_000_000)
        {
            yield return $"{Section}:{nameof(MaxExports)} must be between 1000 and 50000000 (got {MaxExports}).";
        }
    }
}
