using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Resource.V1;
using OpenTelemetry.Proto.Trace.V1;

namespace Pipeline.Benchmark;

/// <summary>
/// The logs-only shape: korelogger log spans, as the seed's runtime sends them, 50 to a run and no run spans (each
/// run stays In Progress). Stamped 100 µs apart, the last one at the moment of generation.
/// </summary>
internal static class KoreloggerLoad
{
    public const int LogsPerRun = 50;

    private const long TicksApart = 1000;

    private static readonly string[] Levels = ["DEBUG", "INFO", "WARNING", "ERROR"];

    /// <summary><paramref name="total"/> log spans in requests of <paramref name="perRequest"/>, encoded once.</summary>
    public static List<LoadRequest> EncodedRequests(int total, int perRequest)
    {
        var start = DateTime.UtcNow.AddTicks(-total * TicksApart);
        var requests = new List<LoadRequest>();
        var trace = ByteString.Empty;
        for (var i = 0; i < total; i += perRequest)
        {
            var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "korelogger" } };
            var runs = 0;
            for (var j = i; j < Math.Min(total, i + perRequest); j++)
            {
                if (j % LogsPerRun == 0)
                {
                    trace = ByteString.CopyFrom(Guid.NewGuid().ToByteArray());
                    runs++;
                }

                scope.Spans.Add(LogSpan(j, trace, start.AddTicks(j * TicksApart)));
            }

            var request = new ExportTraceServiceRequest
            {
                ResourceSpans =
                {
                    new ResourceSpans
                    {
                        Resource = new Resource { Attributes = { Otlp.Attr("service.name", "bench-script"), Otlp.Attr("deployment.environment", "bench") } },
                        ScopeSpans = { scope },
                    },
                },
            };
            requests.Add(new LoadRequest(request.ToByteArray(), scope.Spans.Count, runs));
        }

        return requests;
    }

    private static Span LogSpan(int j, ByteString trace, DateTime at)
    {
        var level = Levels[j % Levels.Length];
        var message = $"step {j % LogsPerRun} of the bench script: processed item {j}";
        var nanos = Otlp.Nanos(at);
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
                Otlp.Attr("traceparent", $"00-{Convert.ToHexStringLower(trace.Span)}-{j + 1:x16}-01"),
                Otlp.Attr("run_id", $"run_{j / LogsPerRun}"),
                Otlp.Attr("deployment_id", "deploy_1"),
                Otlp.Attr("source", "api_call"),
                Otlp.Attr("source_type", "API"),
                Otlp.Attr("log.message", message),
                Otlp.Attr("log.level", level),
                Otlp.Attr("log.meta.msg", message),
                Otlp.Attr("log.meta.pid", "41"),
                Otlp.Attr("log.meta.logid", Guid.NewGuid().ToString()),
            },
        };
    }
}
