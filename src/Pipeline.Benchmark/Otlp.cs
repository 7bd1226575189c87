using OpenTelemetry.Proto.Common.V1;

namespace Pipeline.Benchmark;

/// <summary>The small OTLP pieces the generated shapes share.</summary>
internal static class Otlp
{
    public static KeyValue Attr(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    public static ulong Nanos(DateTime at) => (ulong)(at - DateTime.UnixEpoch).Ticks * 100;
}
