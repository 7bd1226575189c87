using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Trace.V1;
using Pipeline.Security;

namespace Pipeline.Parsing;

/// <summary>
/// Maps an OTLP trace export to rows. A span with <c>log.message</c> is a korelogger log; a root span with its own
/// <c>run_id</c> is a run (its <c>stdout</c>/<c>stderr</c> become log lines); any other span of a run is kept as
/// part of the run's trace. Pure: no I/O, no clock.
/// </summary>
internal sealed class TraceRequestParser(PrintedText printed)
{
    /// <summary>
    /// Maps the request; spans that start before <paramref name="oldestAccepted"/>, or of a script outside
    /// <paramref name="scope"/> (the sender's token), are refused.
    /// </summary>
    public ParsedExport Parse(ExportTraceServiceRequest request, DateTime oldestAccepted = default, ScriptScope? scope = null) =>
        new Pass(printed, oldestAccepted, scope ?? ScriptScope.All).Run(request);

    /// <summary>One request's parse, with what consecutive spans share (trace id text, run context) kept once.</summary>
    private sealed class Pass(PrintedText printed, DateTime oldestAccepted, ScriptScope scope)
    {
    private ByteString _lastTraceBytes = ByteString.Empty;
    private string _lastTraceHex = string.Empty;
    private RunContext? _lastContext;

    public ParsedExport Run(ExportTraceServiceRequest request)
    {
        var result = new ParsedExport();
        var runOfTrace = new Dictionary<string, string>();
        List<(Span Span, ResourceInfo Resource, string TraceId)>? orphans = null;

        foreach (var resourceSpans in request.ResourceSpans)
        {
            var resource = ResourceInfo.From(resourceSpans.Resource);
            foreach (var scopeSpans in resourceSpans.ScopeSpans)
            {
                foreach (var span in scopeSpans.Spans)
                {
                    if (Invalid(span) is { } problem)
                    {
                        result.Reject(Describe(span, problem), "invalid_span");
                        continue;
                    }

                    var traceId = TraceHex(span.TraceId);
                    if (!MapSpan(span, resource, traceId, inheritedRunId: null, result, runOfTrace))
                    {
                        (orphans ??= []).Add((span, resource, traceId));
                    }
                }
            }
        }

        // A span without run_id belongs to the run of another span of its trace in the same export, if any.
        foreach (var (span, resource, traceId) in orphans ?? [])
        {
            var inherited = runOfTrace.GetValueOrDefault(traceId) ?? resource.RunId;
            if (inherited is null || !MapSpan(span, resource, traceId, inherited, result, runOfTrace))
            {
                result.Reject(Describe(span, "no run_id attribute (on the span, its resource, or another span of its trace)"), "no_run_id");
            }
        }

        return result;
    }

    /// <summary>Maps one span; false when it has no run_id of its own and none was inherited.</summary>
    private bool MapSpan(Span span, ResourceInfo resource, string traceId, string? inheritedRunId, ParsedExport result, Dictionary<string, string> runOfTrace)
    {
        var run = default(RunAttributes);
        string? message = null, level = null, logId = null, pid = null, function = null, input = null, output = null, stdout = null, stderr = null;
        List<KeyValue>? rest = null;

        foreach (var kv in span.Attributes)
        {
            if (run.TryTake(kv))
            {
                continue;
            }

            switch (kv.Key)
            {
                case AttributeNames.LogMessage: message = OtlpValues.AsText(kv.Value); break;
                case AttributeNames.LogLevel: level = OtlpValues.AsText(kv.Value); break;
                case AttributeNames.LogId: logId = ResourceInfo.NullIfBlank(OtlpValues.AsText(kv.Value)); break;
                case AttributeNames.Pid: pid = OtlpValues.AsText(kv.Value); break;
                case AttributeNames.Function: function = OtlpValues.AsText(kv.Value); break;
                case AttributeNames.CodeFunction or AttributeNames.CodeFunctionName: function ??= OtlpValues.AsText(kv.Value); break;
                case AttributeNames.Input: input = OtlpValues.AsText(kv.Value); break;
                case AttributeNames.Output: output = OtlpValues.AsText(kv.Value); break;
                case AttributeNames.Stdout: stdout = OtlpValues.AsText(kv.Value); break;
                case AttributeNames.Stderr: stderr = OtlpValues.AsText(kv.Value); break;
                default: (rest ??= []).Add(kv); break;
            }
        }

        // Only a run_id on the span itself makes a run span, and tells the other spans of its trace their run.
        var ownRunId = run.RunId;
        var runId = ownRunId ?? inheritedRunId;
        if (runId is null)
        {
            return false;
        }

        if (ownRunId is not null)
        {
            runOfTrace.TryAdd(traceId, ownRunId);
        }
        var script = resource.ScriptFor(run.ScriptName);
        if (script is null)
        {
            result.Reject(Describe(span, "no script name (span or resource script.name, or resource service.name)"), "no_script");
            return true;
        }

        if (!scope.Allows(script))
        {
            result.RejectOutOfScope(span, Describe(span, $"script '{script}' is not one this token may write"));
            return true;
        }

        var context = _lastContext = run.ToContext(runId, script, _lastContext);
        var start = OtlpValues.ToDateTime(span.StartTimeUnixNano);
        if ((IngestLimits.CheckNames(context, logId, function) ?? IngestLimits.CheckAge(start, oldestAccepted)) is { } refusal)
        {
            result.Reject(Describe(span, refusal), IngestLimits.CheckNames(context, logId, function) is null ? "older_than_retention" : "too_long");
            return true;
        }

        var spanId = OtlpValues.Hex(span.SpanId);

        if (message is not null)
        {
            result.AddLog(new LogRow(
                LogId: logId ?? $"{traceId}-{spanId}",
                Run: context,
                Level: LogLevels.Normalize(level) ?? LogLevels.Info,
                Message: message,
                Timestamp: start,
                Seq: 0,
                Origin: LogOrigin.Korelogger,
                Pid: pid,
                TraceId: traceId,
                SpanId: spanId,
                AttributesJson: rest is null ? null : OtlpValues.ToJsonObject(rest)));
            return true;
        }

        if (span.EndTimeUnixNano < span.StartTimeUnixNano)
        {
            result.Reject(Describe(span, "end_time_unix_nano is before start_time_unix_nano"), "invalid_span");
            return true;
        }

        var end = OtlpValues.ToDateTime(span.EndTimeUnixNano);
        var durationMs = (span.EndTimeUnixNano - span.StartTimeUnixNano) / 1e6;
        if (span.ParentSpanId.IsEmpty && ownRunId is not null)
        {
            var failed = span.Status?.Code == Status.Types.StatusCode.Error;
            result.Rows.Add(new RunRow(
                Run: context,
                Status: failed ? RunStatus.Failed : RunStatus.Success,
                Function: ResourceInfo.NullIfBlank(function),
                ExecutedOn: start,
                EndedOn: end,
                DurationMs: durationMs,
                Input: input,
                Output: output,
                Error: failed ? ErrorOf(span) : null,
                TraceId: traceId,
                SpanId: spanId,
                AttributesJson: rest is null ? null : OtlpValues.ToJsonObject(rest),
                ResourceJson: resource.Json));
            AddPrintedLines(result, context, stdout, LogOrigin.Stdout, traceId, spanId, end);
            AddPrintedLines(result, context, stderr, LogOrigin.Stderr, traceId, spanId, end);
            return true;
        }

        result.Rows.Add(new SpanRow(
            TraceId: traceId,
            SpanId: spanId,
            ParentSpanId: span.ParentSpanId.IsEmpty ? null : OtlpValues.Hex(span.ParentSpanId),
            Run: context,
            Name: span.Name,
            Kind: (int)span.Kind,
            Start: start,
            End: end,
            DurationMs: durationMs,
            StatusCode: (int)(span.Status?.Code ?? Status.Types.StatusCode.Unset),
            StatusMessage: ResourceInfo.NullIfBlank(span.Status?.Message),
            AttributesJson: OtlpValues.ToJsonObject(span.Attributes),
            EventsJson: OtlpValues.EventsToJson(span.Events)));
        return true;
    }

    /// <summary>
    /// The run span's printed text, one log per line, stamped with the span's end (when the text was captured)
    /// and numbered in order. Ids derive from the span, so a retried export gives the same ids.
    /// </summary>
    private void AddPrintedLines(ParsedExport result, RunContext context, string? text, LogOrigin origin, string traceId, string spanId, DateTime capturedAt)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        var stream = origin == LogOrigin.Stderr ? "stderr" : "stdout";
        var lines = PrintedText.SplitLines(text);
        for (var i = 0; i < lines.Count; i++)
        {
            var (level, message) = origin == LogOrigin.Stderr
                ? (LogLevels.Stderr, lines[i])
                : printed.ReadStdoutLine(lines[i], fallbackLevel: null);
            result.AddLog(new LogRow($"{traceId}-{spanId}-{stream}-{i}", context, level, message, capturedAt, i, origin, null, traceId, spanId, null));
        }
    }

    /// <summary>The status message, else the message of an <c>exception</c> event, else a plain word.</summary>
    private static string ErrorOf(Span span)
    {
        if (!string.IsNullOrWhiteSpace(span.Status?.Message))
        {
            return span.Status.Message;
        }

        var exceptionMessage = span.Events
            .Where(e => e.Name == "exception")
            .SelectMany(e => e.Attributes)
            .FirstOrDefault(kv => kv.Key == "exception.message");
        return OtlpValues.AsText(exceptionMessage?.Value) ?? "error";
    }

    private string TraceHex(ByteString traceId)
    {
        if (!traceId.Equals(_lastTraceBytes))
        {
            _lastTraceBytes = traceId;
            _lastTraceHex = OtlpValues.Hex(traceId);
        }

        return _lastTraceHex;
    }

    private static string? Invalid(Span span)
    {
        if (span.TraceId.Length != 16)
        {
            return $"trace_id must be 16 bytes (got {span.TraceId.Length})";
        }

        if (span.SpanId.Length != 8)
        {
            return $"span_id must be 8 bytes (got {span.SpanId.Length})";
        }

        if (span.StartTimeUnixNano == 0)
        {
            return "start_time_unix_nano is 0";
        }

        return null;
    }

    private static string Describe(Span span, string problem) =>
        $"span '{span.Name}' ({(span.SpanId.Length == 8 ? OtlpValues.Hex(span.SpanId) : "no valid id")}): {problem}";
}
}
