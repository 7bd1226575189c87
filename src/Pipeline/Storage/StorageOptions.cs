using System.Text.RegularExpressions;
using Pipeline.Hosting;

namespace Pipeline.Storage;

/// <summary>Config section <c>Storage</c>: the DuckDB file and how the single writer batches into it.</summary>
public sealed partial class StorageOptions : IValidatedOptions
{
    public const string Section = "Storage";

    /// <summary>The DuckDB database file; its folder is created when missing.</summary>
    public string Path { get; set; } = "./data/pipeline.duckdb";

    /// <summary>DuckDB <c>memory_limit</c>. Its own default would take 80% of the machine; a sidecar must not.</summary>
    public string MemoryLimit { get; set; } = "128MB";

    /// <summary>
    /// DuckDB <c>checkpoint_threshold</c>: the write-ahead log size that triggers a checkpoint. DuckDB's 16MB default
    /// checkpoints every few seconds under load, and each checkpoint stalls the commits waiting behind it.
    /// </summary>
    public string CheckpointThreshold { get; set; } = "256MB";

    /// <summary>
    /// DuckDB <c>max_temp_directory_size</c>: how much a query may spill to disk (in <c>&lt;file&gt;.tmp</c> beside the
    /// database) when it does not fit in <see cref="MemoryLimit"/>. A query that needs more fails with a message
    /// saying so; the folder is emptied when the daemon starts.
    /// </summary>
    public string MaxTempBytes { get; set; } = "1GiB";

    /// <summary>
    /// How many runs the writer remembers (the most recently written; about 250 bytes each), so that a run's later
    /// logs and run span find its row without an index. See docs/design.md, "the merge window".
    /// </summary>
    public int RecentRuns { get; set; } = 200_000;

    /// <summary>DuckDB <c>threads</c>.</summary>
    public int Threads { get; set; } = 2;

    /// <summary>The most rows one transaction (group commit) takes from the channel.</summary>
    public int BatchRows { get; set; } = 50_000;

    /// <summary>
    /// How long the writer waits for more rows when a group is smaller than <see cref="BatchRows"/>. Zero by default:
    /// rows that arrive while a commit runs form the next group anyway (group commit), and waiting only adds latency.
    /// </summary>
    public TimeSpan BatchDelay { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// How much of the database file is read at start, before the receivers listen, to find damage that DuckDB can
    /// detect: <see cref="StoreVerification.Full"/> (every block in use, about 3 s per GiB on a 2-core machine),
    /// <see cref="StoreVerification.Metadata"/> or <see cref="StoreVerification.None"/>. A file found damaged stops
    /// the start with a message naming it and the way out. See docs/design.md, "Damaged database files".
    /// </summary>
    public StoreVerification VerifyOnStart { get; set; } = StoreVerification.Full;

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Path))
        {
            yield return $"{Section}:{nameof(Path)} must name a file (got '{Path}').";
        }

        if (!MemoryPattern().IsMatch(MemoryLimit))
        {
            yield return $"{Section}:{nameof(MemoryLimit)} must be a size such as 512MB or 2GB (got '{MemoryLimit}').";
        }

        if (!MemoryPattern().IsMatch(CheckpointThreshold))
        {
            yield return $"{Section}:{nameof(CheckpointThreshold)} must be a size such as 64MB or 1GB (got '{CheckpointThreshold}').";
        }

        if (!MemoryPattern().IsMatch(MaxTempBytes))
        {
            yield return $"{Section}:{nameof(MaxTempBytes)} must be a size such as 512MB or 2GiB (got '{MaxTempBytes}').";
        }

        if (Threads is < 1 or > 256)
        {
            yield return $"{Section}:{nameof(Threads)} must be between 1 and 256 (got {Threads}).";
        }

        if (RecentRuns is < 1000 or > 10_000_000)
        {
            yield return $"{Section}:{nameof(RecentRuns)} must be between 1000 and 10000000 (got {RecentRuns}).";
        }

        if (BatchRows is < 1 or > 1_000_000)
        {
            yield return $"{Section}:{nameof(BatchRows)} must be between 1 and 1000000 (got {BatchRows}).";
        }

        if (BatchDelay < TimeSpan.Zero || BatchDelay > TimeSpan.FromSeconds(5))
        {
            yield return $"{Section}:{nameof(BatchDelay)} must be between 00:00:00 and 00:00:05 (got {BatchDelay}).";
        }

        if (!Enum.IsDefined(VerifyOnStart))
        {
            yield return $"{Section}:{nameof(VerifyOnStart)} must be Full, Metadata or None (got {VerifyOnStart}).";
        }
    }

    /// <summary>
    /// Where exports are written (beside the database, in <c>exports</c>): the one folder DuckDB may touch besides its
    /// own files once the writer has locked the configuration.
    /// </summary>
    internal string ExportDirectory() =>
        System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path)) ?? ".", "exports");

    /// <summary>
    /// The connection string for this file with the configured limits. With a disk cap the write-ahead log, which
    /// counts against it, is checkpointed at a sixteenth of the cap at the latest.
    /// </summary>
    internal string ConnectionString(long maxDiskBytes = 0) =>
        $"Data Source={System.IO.Path.GetFullPath(Path)};memory_limit={MemoryLimit};threads={Threads};checkpoint_threshold={EffectiveCheckpointThreshold(maxDiskBytes)}"
        + $";temp_directory={TempDirectory()}";

    /// <summary>DuckDB's spill folder: beside the database, named after it (DuckDB's own default name).</summary>
    internal string TempDirectory() => System.IO.Path.GetFullPath(Path) + ".tmp";

    private string EffectiveCheckpointThreshold(long maxDiskBytes)
    {
        var configured = Bytes(CheckpointThreshold);
        return maxDiskBytes > 0 && maxDiskBytes / 16 < configured
            ? $"{Math.Max(1, maxDiskBytes / 16 / (1024 * 1024))}MiB"
            : CheckpointThreshold;
    }

    /// <summary>A size such as 256MB or 1GiB in bytes (decimal units are powers of 1000, binary ones of 1024, as DuckDB reads them).</summary>
    internal static long Bytes(string size)
    {
        var match = MemoryPattern().Match(size);
        var number = double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var unit = match.Groups[3].Value.ToUpperInvariant();
        var scale = unit switch
        {
            "B" => 1d,
            "KB" => 1e3, "MB" => 1e6, "GB" => 1e9, "TB" => 1e12,
            "KIB" => 1024d, "MIB" => 1024d * 1024, "GIB" => 1024d * 1024 * 1024, _ => 1024d * 1024 * 1024 * 1024,
        };
        return (long)(number * scale);
    }

    [GeneratedRegex(@"^(\d+(\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", RegexOptions.IgnoreCase)]
    private static partial Regex MemoryPattern();
}
