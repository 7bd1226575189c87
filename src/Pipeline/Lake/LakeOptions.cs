using System.Text.RegularExpressions;
using Pipeline.Hosting;

namespace Pipeline.Lake;

/// <summary>
/// Config section <c>Lake</c>: where this daemon publishes closed time slices of its tables as Parquet files (and,
/// with <see cref="S3"/>, uploads them), and where a <c>--Mode=lake</c> daemon reads the fleet's files. See docs/fleet.md.
/// </summary>
public sealed partial class LakeOptions : IValidatedOptions
{
    public const string Section = "Lake";

    /// <summary>The lake folder; empty means no publishing. With <see cref="S3"/> set, files wait here until uploaded.</summary>
    public string Path { get; set; } = "";

    /// <summary>This daemon's name in the lake: the first part of each file name and the <c>node</c> column. Unique per daemon.</summary>
    public string Node { get; set; } = Environment.MachineName;

    /// <summary>The length of a time slice; a whole number of minutes that divides a day.</summary>
    public TimeSpan SliceLength { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long after a slice ends it is published: late rows of the slice arriving within it go in its first file.</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the publisher looks for slices to publish and late rows of published ones.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The S3-compatible store the files go to; off while <see cref="LakeS3Options.Bucket"/> is empty.</summary>
    public LakeS3Options S3 { get; set; } = new();

    public bool Publishes => !string.IsNullOrWhiteSpace(Path);

    public IEnumerable<string> Validate()
    {
        if (!NodePattern().IsMatch(Node))
        {
            yield return $"{Section}:{nameof(Node)} must be 1 to 64 letters, digits, '.', '_' or '-' (got '{Node}').";
        }

        if (SliceLength < TimeSpan.FromMinutes(1) || SliceLength > TimeSpan.FromDays(1)
            || SliceLength.Ticks % TimeSpan.TicksPerMinute != 0 || TimeSpan.TicksPerDay % SliceLength.Ticks != 0)
        {
            yield return $"{Section}:{nameof(SliceLength)} must be a whole number of minutes that divides a day, such as 00:15:00 or 01:00:00 (got {SliceLength}).";
        }

        if (Delay < TimeSpan.Zero || Delay > TimeSpan.FromDays(1))
        {
            yield return $"{Section}:{nameof(Delay)} must be between 00:00:00 and 1.00:00:00 (got {Delay}).";
        }

        if (Interval < TimeSpan.FromMilliseconds(100) || Interval > TimeSpan.FromHours(1))
        {
            yield return $"{Section}:{nameof(Interval)} must be between 00:00:00.1 and 01:00:00 (got {Interval}).";
        }

        foreach (var error in S3.Validate(Publishes))
        {
            yield return error;
        }
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex NodePattern();
}

/// <summary>
/// Config section <c>Lake:S3</c>. Credentials come from the AWS SDK's own chain (the standard environment variables
/// <c>AWS_ACCESS_KEY_ID</c>, <c>AWS_SECRET_ACCESS_KEY</c>, <c>AWS_SESSION_TOKEN</c>, then its profile and instance sources).
/// </summary>
public sealed class LakeS3Options
{
    /// <summary>An S3-compatible endpoint (http://host:port); empty means AWS itself, by <see cref="Region"/>.</summary>
    public string Endpoint { get; set; } = "";

    /// <summary>The bucket; empty means no upload.</summary>
    public string Bucket { get; set; } = "";

    /// <summary>The key prefix the lake layout goes under (no leading or trailing '/').</summary>
    public string Prefix { get; set; } = "";

    /// <summary>The region, for request signing.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>How many times one upload is tried before it waits for the next pass.</summary>
    public int MaxAttempts { get; set; } = 5;

    public bool Uploads => !string.IsNullOrWhiteSpace(Bucket);

    internal IEnumerable<string> Validate(bool publishes)
    {
        const string section = $"{LakeOptions.Section}:S3";
        if (Uploads && !publishes)
        {
            yield return $"{section}:{nameof(Bucket)} needs {LakeOptions.Section}:{nameof(LakeOptions.Path)}, the folder files wait in until uploaded (got Bucket '{Bucket}' and no Path).";
        }

        if (Endpoint.Length > 0 && (!Uri.TryCreate(Endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https")))
        {
            yield return $"{section}:{nameof(Endpoint)} must be an http:// or https:// URL (got '{Endpoint}').";
        }

        if (Prefix.StartsWith('/') || Prefix.EndsWith('/'))
        {
            yield return $"{section}:{nameof(Prefix)} must not start or end with '/' (got '{Prefix}').";
        }

        if (MaxAttempts is < 1 or > 100)
        {
            yield return $"{section}:{nameof(MaxAttempts)} must be between 1 and 100 (got {MaxAttempts}).";
        }
    }
}
