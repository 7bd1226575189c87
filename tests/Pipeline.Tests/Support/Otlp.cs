using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Logs.V1;
using OpenTelemetry.Proto.Resource.V1;
using OpenTelemetry.Proto.Trace.V1;

namespace Pipeline.Tests.Support;

/// <summary>Builds the OTLP messages a script runtime sends: korelogger log spans, run spans, stdout log records.</summary>
internal static class Otlp
{
    public static readonly DateTime T0 = new(2025, 5, 14, 6, 7, 27, DateTimeKind.Utc);

    private static int _next;

    public static ByteString NewTraceId() => ByteString.CopyFrom(Guid.NewGuid().ToByteArray());

    public static ByteString NewSpanId() => ByteString.CopyFrom(BitConverter.GetBytes(Interlocked.Increment(ref _next) + ((long)Random.Shared.Next() << 32)));

    public static ulong Nanos(DateTime t) => (ulong)(t - DateTime.UnixEpoch).Ticks * 100;

    public static KeyValue Attr(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    public static KeyValue Attr(string key, long value) => new() { Key = key, Value = new AnyValue { IntValue = value } };

    /// <summary>A korelogger log span, as in the seed's trace example.</summary>
    public static Span LogSpan(string runId, string level, string message, DateTime at, ByteString? traceId = null, string? logId = null, string deploymentId = "deploy_67890", params KeyValue[] extra)
    {
        var span = new Span
        {
            TraceId = traceId ?? NewTraceId(),
            SpanId = NewSpanId(),
            Name = $"gvisor_{level.ToLowerInvariant()}_log",
            Kind = Span.Types.SpanKind.Internal,
            StartTimeUnixNano = Nanos(at),
            EndTimeUnixNano = Nanos(at.AddTicks(390)),
            Attributes =
            {
                Attr("traceparent", "00-ab000000000000000000000000000000-1234500000000000-01"),
                Attr("run_id", runId),
                Attr("deployment_id", deploymentId),
                Attr("source", "api_call"),
                Attr("source_type", "test"),
                Attr("log.message", message),
                Attr("log.level", level),
                Attr("log.meta.msg", message),
                Attr("log.meta.pid", "41"),
            },
        };
        if (logId is not null)
        {
            span.Attributes.Add(Attr("log.meta.logid", logId));
        }

        span.Attributes.Add(extra);
        return span;
    }

    /// <summary>A run span: root, carrying run_id and what the script printed.</summary>
    public static Span RunSpan(string runId, DateTime start, TimeSpan duration, bool failed = false, string? stdout = null, string? stderr = null,
        ByteString? traceId = null, string deploymentId = "deploy_67890", string function = "call_openai_chat", params KeyValue[] extra)
    {
        var span = new Span
        {
            TraceId = traceId ?? NewTraceId(),
            SpanId = NewSpanId(),
            Name = "script_run",
            Kind = Span.Types.SpanKind.Server,
            StartTimeUnixNano = Nanos(start),
            EndTimeUnixNano = Nanos(start + duration),
            Status = failed
                ? new Status { Code = Status.Types.StatusCode.Error, Message = "ZeroDivisionError: division by zero" }
                : new Status { Code = Status.Types.StatusCode.Ok },
            Attributes =
            {
                Attr("run_id", runId),
                Attr("deployment_id", deploymentId),
                Attr("source", "Qbalance flow"),
                Attr("source_type", "api"),
                Attr("function", function),
                Attr("input", """{"prompt":"hello"}"""),
                Attr("output", """{"answer":42}"""),
            },
        };
        if (stdout is not null)
        {
            span.Attributes.Add(Attr("stdout", stdout));
        }

        if (stderr is not null)
        {
            span.Attributes.Add(Attr("stderr", stderr));
        }

        span.Attributes.Add(extra);
        return span;
    }

    /// <summary>Another span of the run's trace (a library call inside the run), over the run's whole time.</summary>
    public static Span ChildSpan(Span run, string runId, string name = "child") => new()
    {
        TraceId = run.TraceId, SpanId = NewSpanId(), ParentSpanId = run.SpanId, Name = name,
        StartTimeUnixNano = run.StartTimeUnixNano, EndTimeUnixNano = run.EndTimeUnixNano, Attributes = { Attr("run_id", runId) },
    };

    /// <summary>An OTLP/HTTP protobuf body.</summary>
    public static ByteArrayContent Protobuf(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-protobuf");
        return content;
    }

    /// <summary>The request as a transport hands it over: decoded, with the digest of its bytes.</summary>
    public static Pipeline.Ingest.OtlpPayload<ExportTraceServiceRequest> Payload(ExportTraceServiceRequest request)
    {
        var bytes = request.ToByteArray();
        return new(request, Pipeline.Buffering.ExportDigest.Of("traces", bytes), bytes.Length);
    }

    public static ExportTraceServiceRequest Traces(string service, params Span[] spans) => new()
    {
        ResourceSpans =
        {
            new ResourceSpans
            {
                Resource = new Resource { Attributes = { Attr("service.name", service), Attr("deployment.environment", "test") } },
                ScopeSpans = { new ScopeSpans { Scope = new InstrumentationScope { Name = "korelogger" }, Spans = { spans } } },
            },
        },
    };

    public static LogRecord StdoutRecord(string runId, string body, DateTime at, string? stream = null, string? severityText = null)
    {
        var record = new LogRecord
        {
            TimeUnixNano = Nanos(at),
            ObservedTimeUnixNano = Nanos(at),
            Body = new AnyValue { StringValue = body },
            Attributes = { Attr("run_id", runId) },
        };
        if (stream is not null)
        {
            record.Attributes.Add(Attr("log.iostream", stream));
        }

        if (severityText is not null)
        {
            record.SeverityText = severityText;
        }

        return record;
    }

    public static ExportLogsServiceRequest Logs(string service, params LogRecord[] records) => new()
    {
        ResourceLogs =
        {
            new ResourceLogs
            {
                Resource = new Resource { Attributes = { Attr("service.name", service) } },
                ScopeLogs = { new ScopeLogs { LogRecords = { records } } },
            },
        },
    };

    /// <summary>The seed's korelogger example: four leveled logs, mirrored on stdout, then the run span.</summary>
    public static (Span[] Logs, Span Run) SeedKoreloggerRun(string runId)
    {
        var trace = NewTraceId();
        var logs = new[]
        {
            LogSpan(runId, "DEBUG", "Debug log using korelogger", T0.AddMilliseconds(1), trace),
            LogSpan(runId, "INFO", "Info log using korelogger", T0.AddMilliseconds(2), trace),
            LogSpan(runId, "WARNING", "Warning log using korelogger", T0.AddMilliseconds(3), trace),
            LogSpan(runId, "ERROR", "Error log using korelogger", T0.AddMilliseconds(4), trace),
        };
        var run = RunSpan(runId, T0, TimeSpan.FromMilliseconds(250), traceId: trace, stdout:
            "DEBUG :: Debug log using korelogger\nINFO :: Info log using korelogger\nWARNING :: Warning log using korelogger\nERROR :: Error log using korelogger\n");
        return (logs, run);
    }
}
