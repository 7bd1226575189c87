using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Resource.V1;
using OpenTelemetry.Proto.Trace.V1;

namespace Pipeline.Benchmark;

/// <summary>Generated korelogger traffic: encoded export requests of log spans, as the seed's runtime sends them.</summary>
internal static class KoreloggerLoad
{
    public const int LogsPerRun = 50;

    private static readonly string[] Levels = ["DEBUG", "INFO", "WARNING", "ERROR"];

    /// <summary><paramref name="total"/> log spans in requests of <paramref name="perRequest"/>, encoded once.</summary>
    public static List<byte[]> EncodedRequests(int total, int perRequest)
    {
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var requests = new List<byte[]>();
        var trace = ByteString.Empty;
        for (var i = 0; i < total; i += perRequest)
        {
            var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "korelogger" } };
            for (var j = i; j < Math.Min(total, i + perRequest); j++)
            {
                if (j % LogsPerRun == 0)
                {
                    trace = ByteString.CopyFrom(Guid.NewGuid().ToByteArray());
                }

                scope.Spans.Add(LogSpan(j, trace, start.AddTicks(j * 1000L)));
            }

            var request = new ExportTraceServiceRequest
            {
                ResourceSpans =
                {
                    new ResourceSpans
                    {
                        Resource = new Resource { Attributes = { Attr("service.name", "bench-script"), Attr("deployment.environment", "bench") } },
                        ScopeSpans = { scope },
                    },
                },
            };
            requests.Add(request.ToByteArray());
        }

        return requests;
    }

    private static Span LogSpan(int j, ByteString trace, DateTime at)
    {
        var level = Levels[j % Levels.Length];
        var message = $"step {j % LogsPerRun} of the bench script: processed item {j}";
        var nanos = (ulong)(at - DateTime.UnixEpoch).Ticks * 100;
        return new Span
        {
            TraceId = trace,
            SpanId = ByteString.CopyFrom(BitConverter.GetBytes((long)j + 1)),
            Name = $"gvisor_{level.ToLowerInvariant()}_log",
            Kind = Span.Types.SpanKind.Internal,
            StartTimeUnixNano = nanos,
            EndTimeUnixNano = nanos + 39_000,
            Attributes =
            {
                Attr("traceparent", $"00-{Convert.ToHexStringLower(trace.Span)}-{j + 1:x16}-01"),
                Attr("run_id", $"run_{j / LogsPerRun}"),
                Attr("deployment_id", "deploy_1"),
                Attr("source", "api_call"),
                Attr("source_type", "API"),
                Attr("log.message", message),
                Attr("log.level", level),
                Attr("log.meta.msg", message),
                Attr("log.meta.pid", "41"),
                Attr("log.meta.logid", Guid.NewGuid().ToString()),
            },
        };
    }

    private static KeyValue Attr(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };
}
