using System.Buffers;
using System.Text;
using System.Text.Json;
using Google.Protobuf;

namespace Pipeline.Ingest.Http;

/// <summary>
/// OTLP/JSON in and out. OTLP JSON is protobuf's JSON mapping with one twist: trace and span ids are hex, not
/// base64. This rewrites those ids to base64 in one streaming pass, then lets Google.Protobuf's parser apply the
/// rest of the mapping (lowerCamelCase names, integer enums, 64-bit integers as strings or numbers), ignoring
/// unknown fields as the specification requires.
/// </summary>
internal static class OtlpJson
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default);

    public static T Parse<T>(ReadOnlySpan<byte> utf8Json, MessageParser<T> parser)
        where T : IMessage<T>, new()
    {
        var rewritten = HexIdsToBase64(utf8Json);
        return Parser.Parse<T>(Encoding.UTF8.GetString(rewritten));
    }

    public static string Format(IMessage message) => Formatter.Format(message);

    private static ReadOnlySpan<byte> HexIdsToBase64(ReadOnlySpan<byte> json)
    {
        var output = new ArrayBufferWriter<byte>(json.Length + 64);
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        string? idField = null;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject: writer.WriteStartObject(); break;
                case JsonTokenType.EndObject: writer.WriteEndObject(); break;
                case JsonTokenType.StartArray: writer.WriteStartArray(); break;
                case JsonTokenType.EndArray: writer.WriteEndArray(); break;
                case JsonTokenType.PropertyName:
                    idField = reader.ValueTextEquals("traceId"u8) ? "traceId"
                        : reader.ValueTextEquals("spanId"u8) ? "spanId"
                        : reader.ValueTextEquals("parentSpanId"u8) ? "parentSpanId"
                        : null;
                    writer.WritePropertyName(reader.GetString()!);
                    continue;
                case JsonTokenType.String when idField is not null:
                    writer.WriteStringValue(Convert.ToBase64String(HexId(reader.GetString()!, idField)));
                    break;
                case JsonTokenType.String: writer.WriteStringValue(reader.GetString()); break;
                case JsonTokenType.Number when IsLongInteger(reader.ValueSpan):
                    // Google.Protobuf reads JSON numbers as doubles; a quoted 64-bit integer keeps every digit.
                    writer.WriteStringValue(reader.ValueSpan);
                    break;
                case JsonTokenType.Number: writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true); break;
                case JsonTokenType.True: writer.WriteBooleanValue(true); break;
                case JsonTokenType.False: writer.WriteBooleanValue(false); break;
                case JsonTokenType.Null: writer.WriteNullValue(); break;
                default: break;
            }

            idField = null;
        }

        writer.Flush();
        return output.WrittenSpan;
    }

    private static bool IsLongInteger(ReadOnlySpan<byte> number) =>
        number.Length > 15 && number.IndexOfAny((byte)'.', (byte)'e', (byte)'E') < 0;

    private static byte[] HexId(string hex, string field)
    {
        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            throw new OtlpJsonException($"{field} must be a hex string (OTLP JSON), got '{Truncate(hex)}'");
        }
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : string.Concat(s.AsSpan(0, 40), "...");
}

/// <summary>The JSON body breaks an OTLP JSON rule that Google.Protobuf does not know about.</summary>
internal sealed class OtlpJsonException(string message) : FormatException(message);
