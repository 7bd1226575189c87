using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Collections;
using OpenTelemetry.Proto.Common.V1;

namespace Pipeline.Parsing;

/// <summary>Conversions from OTLP value types to the text, JSON and times we store.</summary>
internal static class OtlpValues
{
    /// <summary>A value as text: strings as they are, scalars invariant, arrays and maps as JSON.</summary>
    public static string? AsText(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => value.StringValue,
        AnyValue.ValueOneofCase.IntValue => value.IntValue.ToString(CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue.ToString("R", CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue ? "true" : "false",
        AnyValue.ValueOneofCase.BytesValue => value.BytesValue.ToBase64(),
        AnyValue.ValueOneofCase.ArrayValue or AnyValue.ValueOneofCase.KvlistValue => ToJson(value),
        _ => null,
    };

    /// <summary>An integer value, or a string that holds one.</summary>
    public static long? AsInteger(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.IntValue => value.IntValue,
        AnyValue.ValueOneofCase.StringValue when long.TryParse(value.StringValue, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) => n,
        _ => null,
    };

    public static DateTime ToDateTime(ulong unixNanos) =>
        DateTime.UnixEpoch.AddTicks((long)(unixNanos / 100));

    public static string Hex(ByteString bytes) => Convert.ToHexStringLower(bytes.Span);

    /// <summary>Attributes as one JSON object, or null when there are none.</summary>
    public static string? ToJsonObject(IReadOnlyList<KeyValue> attributes)
    {
        if (attributes.Count == 0)
        {
            return null;
        }

        var (buffer, writer) = ScratchWriter();
        WriteObject(writer, attributes);
        writer.Flush();
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Span events as a JSON array of {name, time, attributes}, or null when there are none.</summary>
    public static string? EventsToJson(RepeatedField<OpenTelemetry.Proto.Trace.V1.Span.Types.Event> events)
    {
        if (events.Count == 0)
        {
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var e in events)
            {
                writer.WriteStartObject();
                writer.WriteString("name", e.Name);
                writer.WriteString("time", ToDateTime(e.TimeUnixNano));
                writer.WritePropertyName("attributes");
                WriteObject(writer, e.Attributes);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _scratchBuffer;

    [ThreadStatic]
    private static Utf8JsonWriter? _scratchWriter;

    /// <summary>A per-thread buffer and writer, reset: attributes are turned into JSON for every log line.</summary>
    private static (ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer) ScratchWriter()
    {
        var buffer = _scratchBuffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = _scratchWriter ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        return (buffer, writer);
    }

    private static string ToJson(AnyValue value)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteValue(writer, value);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteObject(Utf8JsonWriter writer, IReadOnlyList<KeyValue> attributes)
    {
        writer.WriteStartObject();
        foreach (var kv in attributes)
        {
            writer.WritePropertyName(kv.Key);
            WriteValue(writer, kv.Value);
        }

        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, AnyValue? value)
    {
        switch (value?.ValueCase)
        {
            case AnyValue.ValueOneofCase.StringValue:
                writer.WriteStringValue(value.StringValue);
                break;
            case AnyValue.ValueOneofCase.IntValue:
                writer.WriteNumberValue(value.IntValue);
                break;
            case AnyValue.ValueOneofCase.DoubleValue when double.IsFinite(value.DoubleValue):
                writer.WriteNumberValue(value.DoubleValue);
                break;
            case AnyValue.ValueOneofCase.DoubleValue:
                writer.WriteStringValue(value.DoubleValue.ToString(CultureInfo.InvariantCulture));
                break;
            case AnyValue.ValueOneofCase.BoolValue:
                writer.WriteBooleanValue(value.BoolValue);
                break;
            case AnyValue.ValueOneofCase.BytesValue:
                writer.WriteBase64StringValue(value.BytesValue.Span);
                break;
            case AnyValue.ValueOneofCase.ArrayValue:
                writer.WriteStartArray();
                foreach (var item in value.ArrayValue.Values)
                {
                    WriteValue(writer, item);
                }

                writer.WriteEndArray();
                break;
            case AnyValue.ValueOneofCase.KvlistValue:
                WriteObject(writer, value.KvlistValue.Values);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }
}
