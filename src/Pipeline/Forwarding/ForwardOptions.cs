using Pipeline.Hosting;

namespace Pipeline.Forwarding;

/// <summary>What the forwarder does when the disk queue has no room for an export that was accepted.</summary>
public enum WhenQueueFull
{
    /// <summary>The oldest queued exports are dropped (counted, logged) to make room; local ingest never waits on the upstream.</summary>
    DropOldest,

    /// <summary>The new export is refused as retryable before it is stored locally; the client retries later.</summary>
    RefuseNew,
}

/// <summary>
/// Config section <c>Forward</c>: every export this daemon accepted is sent on to another OTLP receiver (a Pipeline
/// daemon, a Collector) through a bounded queue on disk. Off while <see cref="Endpoint"/> is empty. See
/// docs/forwarding.md.
/// </summary>
public sealed class ForwardOptions : IValidatedOptions
{
    public const string Section = "Forward";

    /// <summary>The upstream, <c>http://host:port</c> or <c>https://host:port</c>. Empty: no forwarding.</summary>
    public string Endpoint { get; set; } = string.Empty;

    /// <summary><c>grpc</c> (OTLP/gRPC) or <c>http</c> (OTLP/HTTP protobuf to <c>/v1/traces</c> and <c>/v1/logs</c> under the endpoint).</summary>
    public string Protocol { get; set; } = "grpc";

    /// <summary>Headers sent with every forwarded export (gRPC metadata), e.g. <c>Forward:Headers:Authorization=Bearer …</c>.</summary>
    public Dictionary<string, string> Headers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The queue's folder. Empty: a <c>forward</c> folder beside the <c>Storage:Path</c> database file.</summary>
    public string QueuePath { get; set; } = string.Empty;

    /// <summary>The most bytes the queue's files may take on disk.</summary>
    public long QueueBytes { get; set; } = 1L << 30;

    /// <summary>
    /// The full-policy. <see cref="WhenQueueFull.DropOldest"/> by default: the local store is the primary copy, and an
    /// upstream outage longer than the queue lasts must not stop local ingest (which would push the loss back onto the
    /// scripts' exporters, whose buffers are in memory).
    /// </summary>
    public WhenQueueFull WhenFull { get; set; } = WhenQueueFull.DropOldest;

    /// <summary>How long one attempt to send one export may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The first retry's delay; each failure doubles it, up to <see cref="MaxBackoff"/>, with jitter.</summary>
    public TimeSpan MinBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest delay between two attempts (unless the upstream asks for longer with RetryInfo or Retry-After).</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How many exports are sent at once, in queue order; the read position advances past the acknowledged prefix.</summary>
    public int Concurrency { get; set; } = 4;

    public bool Enabled => Endpoint.Length > 0;

    internal bool IsHttp => string.Equals(Protocol, "http", StringComparison.OrdinalIgnoreCase);

    /// <summary>The queue's folder, from <see cref="QueuePath"/> or beside the database file.</summary>
    internal string QueueFolder(string databasePath) => Path.GetFullPath(QueuePath.Length > 0
        ? QueuePath
        : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(databasePath)) ?? ".", "forward"));

    public IEnumerable<string> Validate()
    {
        if (Endpoint.Length > 0 && (!Uri.TryCreate(Endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0))
        {
            yield return $"{Section}:{nameof(Endpoint)} must be empty (no forwarding) or http://host:port or https://host:port (got '{Endpoint}').";
        }

        if (!string.Equals(Protocol, "grpc", StringComparison.OrdinalIgnoreCase) && !IsHttp)
        {
            yield return $"{Section}:{nameof(Protocol)} must be grpc or http (got '{Protocol}').";
        }

        foreach (var (name, value) in Headers)
        {
            if (name.Length == 0 || name.Any(c => c <= ' ' || c >= 127 || c == ':') || value.Any(c => c is '\r' or '\n'))
            {
                yield return $"{Section}:{nameof(Headers)} has a header that cannot be sent: '{name}' (names are ASCII without spaces or colons; values are one line).";
            }
        }

        if (QueueBytes < 16L * 1024 * 1024)
        {
            yield return $"{Section}:{nameof(QueueBytes)} must be at least 16777216 (16 MiB) (got {QueueBytes}).";
        }

        if (!Enum.IsDefined(WhenFull))
        {
            yield return $"{Section}:{nameof(WhenFull)} must be DropOldest or RefuseNew (got {WhenFull}).";
        }

        if (Timeout < TimeSpan.FromMilliseconds(100) || Timeout > TimeSpan.FromMinutes(10))
        {
            yield return $"{Section}:{nameof(Timeout)} must be between 00:00:00.1 and 00:10:00 (got {Timeout}).";
        }

        if (MinBackoff < TimeSpan.FromMilliseconds(10) || MinBackoff > TimeSpan.FromMinutes(10))
        {
            yield return $"{Section}:{nameof(MinBackoff)} must be between 00:00:00.01 and 00:10:00 (got {MinBackoff}).";
        }

        if (MaxBackoff < MinBackoff || MaxBackoff > TimeSpan.FromHours(1))
        {
            yield return $"{Section}:{nameof(MaxBackoff)} must be at least {nameof(MinBackoff)} and at most 01:00:00 (got {MaxBackoff}).";
        }

        if (Concurrency is < 1 or > 64)
        {
            yield return $"{Section}:{nameof(Concurrency)} must be between 1 and 64 (got {Concurrency}).";
        }
    }
}
