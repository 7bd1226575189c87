using System.Globalization;
using System.Text;

namespace Pipeline.Lake;

/// <summary>
/// The lake's file layout, shared by the publisher and the lake-mode reader (docs/fleet.md):
/// <c>&lt;lake&gt;/&lt;table&gt;/script=&lt;name&gt;/date=&lt;YYYY-MM-DD&gt;/&lt;node&gt;-&lt;slice start&gt;-&lt;seq&gt;.parquet</c>.
/// Each file holds one node's rows of one table, one script and one time slice, with every column of the store's
/// table (<c>script</c> included, as stored) and a <c>node</c> column; logs and spans also carry <c>committed_at</c>,
/// and logs a <c>revision</c> flag (true in a later file of a slice, whose rows may replace ones published before).
/// Readers with Hive partitioning take <c>script</c> from the folder name, URL-decoded (DuckDB does): see <see cref="Escape"/>.
/// </summary>
public static class LakeLayout
{
    /// <summary>The published tables, by folder name: runs (by executed_on), logs (by timestamp), spans (by start_time).</summary>
    public static readonly IReadOnlyList<string> Tables = [.. LakeTable.All.Select(t => t.Name)];

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

    /// <summary>The longest folder value: with <c>script=</c> it stays well within a file system's 255-byte names.</summary>
    public const int MaxFolderValue = 200;

    /// <summary>
    /// A script name as a Hive partition value: letters, digits and <c>._- </c> as they are, every other byte of its
    /// UTF-8 as %XX, as Hive escapes them, so that a reader URL-decoding the folder name (DuckDB does, and its value
    /// wins over the file's column) reads the name as stored. A name whose escaped form passes
    /// <see cref="MaxFolderValue"/> is cut there and ends in <c>~</c> and 16 hex digits of its SHA-256: such a script
    /// shows in the lake under that shortened name (docs/fleet.md).
    /// </summary>
    public static string Escape(string value)
    {
        // "." and ".." are not folder names to give away; an empty name does not occur (ingest needs a script name).
        switch (value)
        {
            case "":
                return "%00";
            case ".":
                return "%2E";
            case "..":
                return "%2E%2E";
        }

        var text = new StringBuilder(value.Length);
        var cutAt = -1;
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in value.EnumerateRunes())
        {
            if (cutAt < 0 && text.Length > MaxFolderValue - 17 - 12)
            {
                cutAt = text.Length; // Whole characters only: a cut inside one would not decode.
            }

            if (rune.IsAscii && (char.IsAsciiLetterOrDigit((char)rune.Value) || rune.Value is '.' or '_' or '-' or ' '))
            {
                text.Append((char)rune.Value);
                continue;
            }

            foreach (var b in utf8[..rune.EncodeToUtf8(utf8)])
            {
                text.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        if (text.Length <= MaxFolderValue)
        {
            return text.ToString();
        }

        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..16];
        return $"{text.ToString(0, cutAt)}~{hash}";
    }
}
