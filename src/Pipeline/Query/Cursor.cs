using System.Buffers.Text;
using System.Data.Common;
using System.Globalization;
using System.Text.Json;

namespace Pipeline.Query;

/// <summary>
/// Where a page ended: the sort value and the keys (tie-breakers) of its last row. The next page starts strictly
/// after it (keyset pagination): stable while rows are added, and no OFFSET scan. Opaque to clients (base64url JSON).
/// </summary>
internal sealed record Cursor(object? Value, IReadOnlyList<object> Keys)
{
    /// <summary>The SQL to select after a row's columns so that <see cref="Read"/> can make its cursor: the sort value, then the keys.</summary>
    public static string Columns(Sort sort, ColumnSet set) => string.Join(", ", [sort.Column.Sql, .. set.Keys.Select(k => k.Sql)]);

    /// <summary>The cursor of the row under <paramref name="reader"/>, whose sort value and keys start at <paramref name="ordinal"/> (<see cref="Columns"/>).</summary>
    public static Cursor Read(DbDataReader reader, int ordinal, ColumnSet set) => new(
        reader.IsDBNull(ordinal) ? null : reader.GetValue(ordinal),
        [.. set.Keys.Select((_, i) => reader.GetValue(ordinal + 1 + i))]);

    public string Encode()
    {
        static object? Plain(object? value) => value switch
        {
            DateTime t => t.ToString("O", CultureInfo.InvariantCulture),
            _ => value,
        };

        return Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes<object?[]>([Plain(Value), .. Keys.Select(Plain)]));
    }

    public static Cursor Decode(string text, Column sort, ColumnSet set)
    {
        try
        {
            using var document = JsonDocument.Parse(Base64Url.DecodeFromChars(text));
            var parts = document.RootElement;
            if (parts.GetArrayLength() != set.Keys.Count + 1)
            {
                throw new FormatException("not as many parts as the list has keys");
            }

            return new Cursor(Typed(parts[0], sort), [.. set.Keys.Select((k, i) => Typed(parts[i + 1], k) ?? throw new FormatException("an empty key"))]);
        }
        catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException or IndexOutOfRangeException or KeyNotFoundException)
        {
            throw new QueryException($"cursor '{text}' is not one this API gave out for sort '{sort.Name}'");
        }
    }

    private static object? Typed(JsonElement value, Column column) => value.ValueKind == JsonValueKind.Null ? null : column.Kind switch
    {
        ColumnKind.Number => value.GetDouble(),
        ColumnKind.Time => DateTime.Parse(value.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
        _ => value.GetString(),
    };
}
