using System.Globalization;
using System.Text;

namespace Pipeline.Query;

/// <summary>
/// The wrapper an ad hoc query runs in: it selects each column of the checked query by position and cuts every value
/// inside DuckDB, so that no value larger than the answer may hold ever reaches .NET. Text is cut to its first
/// <see cref="ValueChars"/> characters; a list, struct, map, blob or any other value whose text form is longer becomes
/// null. A last, hidden column says whether anything in the row was cut.
/// </summary>
internal sealed class SqlAnswer
{
    /// <summary>The fewest characters a value keeps, however many columns share the answer.</summary>
    public const int MinValueChars = 16;

    /// <summary>Types whose values have a small fixed size: returned as they are.</summary>
    private static readonly HashSet<string> Fixed = new(StringComparer.Ordinal)
    {
        "BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "HUGEINT", "UHUGEINT",
        "FLOAT", "DOUBLE", "DATE", "TIME", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE", "UUID",
    };

    /// <summary>Types the database client cannot read, or reads into something JSON shows badly: these travel as text.</summary>
    private static readonly string[] AsText = ["UNION", "BLOB", "BIT", "INTERVAL", "TIME WITH TIME ZONE", "BIGNUM", "VARIANT", "GEOMETRY"];

    private readonly IReadOnlyList<Column> _columns;

    private SqlAnswer(IReadOnlyList<Column> columns, int valueChars)
    {
        _columns = columns;
        ValueChars = valueChars;
    }

    /// <summary>The most characters one value keeps: a quarter of the byte cap (UTF-8 takes up to 4 bytes a character), shared by the columns.</summary>
    public int ValueChars { get; }

    public static SqlAnswer For(IReadOnlyList<Column> columns, int maxBytes) =>
        new(columns, Math.Max(MinValueChars, maxBytes / 4 / Math.Max(1, columns.Count)));

    /// <summary>The checked query <paramref name="text"/>, its columns renamed c0, c1, ... and cut, at most <paramref name="limit"/> rows.</summary>
    public string Wrap(string text, int limit)
    {
        var values = new StringBuilder();
        var cuts = new List<string>();
        for (var i = 0; i < _columns.Count; i++)
        {
            var (value, cut) = Cut(string.Create(CultureInfo.InvariantCulture, $"q.c{i}"), _columns[i].Type);
            values.Append(value).Append(",\n  ");
            if (cut is not null)
            {
                cuts.Add(cut);
            }
        }

        var flag = cuts.Count == 0 ? "false" : string.Join(" OR ", cuts);
        var aliases = string.Join(", ", Enumerable.Range(0, _columns.Count).Select(i => string.Create(CultureInfo.InvariantCulture, $"c{i}")));

        // The query on its own lines, so that a trailing comment in it cannot swallow the wrapper.
        return string.Create(CultureInfo.InvariantCulture, $"SELECT\n  {values}({flag}) AS cut\nFROM (\n{text}\n) AS q({aliases})\nLIMIT {limit}");
    }

    /// <summary>The value to select for a column of <paramref name="type"/>, and the condition that says it was cut.</summary>
    private (string Value, string? Cut) Cut(string column, string type)
    {
        var n = ValueChars.ToString(CultureInfo.InvariantCulture);
        var tooLong = $"coalesce(length(CAST({column} AS VARCHAR)) > {n}, false)";
        if (Fixed.Contains(type) || type.StartsWith("DECIMAL(", StringComparison.Ordinal))
        {
            return (column, null);
        }

        if (type is "VARCHAR" or "JSON" || type.StartsWith("ENUM(", StringComparison.Ordinal))
        {
            return ($"left(CAST({column} AS VARCHAR), {n})", tooLong);
        }

        var nested = type.EndsWith(']') || type.StartsWith("STRUCT(", StringComparison.Ordinal) || type.StartsWith("MAP(", StringComparison.Ordinal);
        var readable = !AsText.Any(t => type.Contains(t, StringComparison.Ordinal));
        var shown = nested && readable ? column : $"CAST({column} AS VARCHAR)";
        return ($"CASE WHEN {tooLong} THEN NULL ELSE {shown} END", tooLong);
    }

    /// <summary>A column of the query as DuckDB describes it.</summary>
    public sealed record Column(string Name, string Type);
}
