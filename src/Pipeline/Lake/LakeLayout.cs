using System.Globalization;
using System.Text;

namespace Pipeline.Lake;

/// <summary>
/// The lake's file layout, shared by the publisher and the lake-mode reader (docs/fleet.md):
/// <c>&lt;lake&gt;/&lt;table&gt;/script=&lt;name&gt;/date=&lt;YYYY-MM-DD&gt;/&lt;node&gt;-&lt;slice start&gt;-&lt;seq&gt;.parquet</c>.
/// Each file holds one node's rows of one table, one script and one time slice, with every column of the store's
/// table (<c>script</c> included, as stored) and a <c>node</c> column; logs and spans also carry <c>committed_at</c>,
/// and logs a <c>revision</c> flag (true in a later file of a slice, whose rows may replace ones published before).
/// </summary>
public static class LakeLayout
{
    /// <summary>The published tables, by folder name: runs (by executed_on), logs (by timestamp), spans (by start_time).</summary>
    public static readonly IReadOnlyList<string> Tables = ["runs", "logs", "spans"];

    /// <summary>A file is written under this suffix and renamed when complete; readers match <c>*.parquet</c> only.</summary>
    public const string PartialSuffix = ".partial";

    /// <summary>The start of the slice that holds <paramref name="time"/>.</summary>
    public static DateTime SliceStart(DateTime time, TimeSpan sliceLength) =>
        new(time.Ticks - (time.Ticks % sliceLength.Ticks), DateTimeKind.Utc);

    /// <summary>The folder of one table, script and day, relative to the lake, with '/' separators.</summary>
    public static string Folder(string table, string script, DateTime sliceStart) =>
        $"{table}/script={Escape(script)}/date={sliceStart.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}";

    /// <summary>One file's name: node, slice start (UTC, to the minute) and its sequence number within the slice.</summary>
    public static string FileName(string node, DateTime sliceStart, int seq) =>
        $"{node}-{sliceStart.ToString("yyyyMMdd'T'HHmm'Z'", CultureInfo.InvariantCulture)}-{seq.ToString("D4", CultureInfo.InvariantCulture)}.parquet";

    /// <summary>The file's path relative to the lake, with '/' separators (also its object key under the S3 prefix).</summary>
    public static string RelativePath(string table, string script, DateTime sliceStart, string node, int seq) =>
        $"{Folder(table, script, sliceStart)}/{FileName(node, sliceStart, seq)}";

    /// <summary>
    /// A script name as a Hive partition value: letters, digits and <c>._- </c> as they are, every other byte of its
    /// UTF-8 as %XX, as Hive escapes them. Readers take the script from the file's own column, never from the path.
    /// </summary>
    public static string Escape(string value)
    {
        var text = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (b < 0x80 && (char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ' '))
            {
                text.Append(c);
            }
            else
            {
                text.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        // "." and ".." are not folder names to give away.
        return text.ToString() switch
        {
            "" => "%00",
            "." => "%2E",
            ".." => "%2E%2E",
            var escaped => escaped,
        };
    }
}
