using System.Buffers.Text;
using System.Globalization;
using System.Text.Json;

namespace Pipeline.Query;

/// <summary>
/// Where a page ended: the sort value and key of its last row. The next page starts strictly after it (keyset
/// pagination): stable while rows are added, and no OFFSET scan. Opaque to clients (base64url JSON).
/// </summary>
internal sealed record Cursor(object? Value, string Key)
{
    public string Encode()
    {
        var value = Value switch
        {
            DateTime t => t.ToString("O", CultureInfo.InvariantCulture),
            _ => Value,
        };
        return Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(new object?[] { value, Key }));
    }

    public static Cursor Decode(string text, Column sort)
    {
        try
        {
            using var document = JsonDocument.Parse(Base64Url.DecodeFromChars(text));
            var parts = document.RootElement;
            var value = parts[0];
            object? typed = value.ValueKind == JsonValueKind.Null ? null : sort.Kind switch
            {
                ColumnKind.Number => value.GetDouble(),
                ColumnKind.Time => DateTime.Parse(value.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
                _ => value.GetString(),
            };
            return new Cursor(typed, parts[1].GetString()!);
        }
        catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException or IndexOutOfRangeException or KeyNotFoundException)
        {
            throw new QueryException($"cursor '{text}' is not one this API gave out for sort '{sort.Name}'");
        }
    }
}
