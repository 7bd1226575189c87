using System.Text;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Ingest.Http;

namespace Pipeline.Tests.Ingest.Http;

public sealed class OtlpJsonTests
{
    [Fact]
    public void Parse_64BitIntegersAsNumbers_KeepEveryDigit()
    {
        const string body = """
            {"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"3453665ab0000000000000000000000a","spanId":"7e30000000000001",
             "name":"x","startTimeUnixNano":1747202847238927001,"endTimeUnixNano":"1747202847238927001","kind":2,
             "attributes":[{"key":"big","value":{"intValue":9007199254740993}},{"key":"d","value":{"doubleValue":1.5}}]}]}]}]}
            """;

        var span = OtlpJson.Parse(Encoding.UTF8.GetBytes(body), ExportTraceServiceRequest.Parser).ResourceSpans[0].ScopeSpans[0].Spans[0];

        Assert.Equal(1747202847238927001UL, span.StartTimeUnixNano);
        Assert.Equal(span.EndTimeUnixNano, span.StartTimeUnixNano);
        Assert.Equal(9007199254740993L, span.Attributes[0].Value.IntValue);
        Assert.Equal(1.5, span.Attributes[1].Value.DoubleValue);
        Assert.Equal(OpenTelemetry.Proto.Trace.V1.Span.Types.SpanKind.Server, span.Kind);
        Assert.Equal("3453665ab0000000000000000000000a", Convert.ToHexStringLower(span.TraceId.Span));
    }

    [Fact]
    public void Parse_BadHexId_NamesTheField()
    {
        var error = Assert.Throws<OtlpJsonException>(() => OtlpJson.Parse(
            """{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"xyz"}]}]}]}"""u8, ExportTraceServiceRequest.Parser));

        Assert.Equal("spanId must be a hex string (OTLP JSON), got 'xyz'", error.Message);
    }
}
