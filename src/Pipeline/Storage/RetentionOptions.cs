using Pipeline.Hosting;

namespace Pipeline.Storage;

/// <summary>Config section <c>Retention</c>: how long data is kept and how much disk it may take.</summary>
public sealed class RetentionOptions : IValidatedOptions
{
    public const string Section = "Retention";

    /// <summary>Runs that started longer ago than this are deleted with their logs and spans; records older than this are refused on arrival.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// The most bytes the database may take on disk (its blocks in use plus its write-ahead log); the oldest runs go
    /// first when it is reached. 0 means no cap. The file itself stays at the largest size it ever had, but no larger:
    /// DuckDB reuses the blocks that deletes free.
    /// </summary>
    public long MaxDiskBytes { get; set; } = 10L * 1024 * 1024 * 1024;

    /// <summary>How often the writer checks age and size between commits.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    public IEnumerable<string> Validate()
    {
        if (MaxAge < TimeSpan.FromMinutes(10) || MaxAge > TimeSpan.FromDays(36500))
        {
            yield return $"{Section}:{nameof(MaxAge)} must be between 00:10:00 and 36500.00:00:00 (got {MaxAge}).";
        }

        if (MaxDiskBytes != 0 && MaxDiskBytes < 4L * 1024 * 1024)
        {
            yield return $"{Section}:{nameof(MaxDiskBytes)} must be 0 (no cap) or at least 4194304 (got {MaxDiskBytes}).";
        }

        if (Interval < TimeSpan.FromSeconds(1) || Interval > TimeSpan.FromHours(1))
        {
            yield return $"{Section}:{nameof(Interval)} must be between 00:00:01 and 01:00:00 (got {Interval}).";
        }
    }
}
