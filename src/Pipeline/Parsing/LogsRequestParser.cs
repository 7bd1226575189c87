using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Logs.V1;
using Pipeline.Security;

namespace Pipeline.Parsing;

/// <summary>
/// Maps an OTLP logs export to rows: each record with a <c>run_id</c> carries printed text, one log per line.
/// <c>log.iostream</c> = <c>stderr</c> makes lines Stderr; otherwise a line in the stdout pattern takes its level,
/// else the record's severity text, else Stdout. Pure: the receive time comes in as an argument.
/// </summary>
internal sealed class LogsRequestParser(PrintedText printed)
{
    /// <summary>
    /// Maps the request; records stamped before <paramref name="oldestAccepted"/>, or of a script outside
    /// <paramref name="scope"/> (the sender's token), are refused.
    /// </summary>
    public ParsedExport Parse(ExportLogsServiceRequest request, DateTime receivedAt, DateTime oldestAccepted = default, ScriptScope? scope = null)
    {
        var result = new ParsedExport();
        var index = 0;
        foreach (var resourceLogs in request.ResourceLogs)
        {
            var resource = ResourceInfo.From(resourceLogs.Resource);
            foreach (var scopeLogs in resourceLogs.ScopeLogs)
            {
                foreach (var record in scopeLogs.LogRecords)
                {
                    MapRecord(record, resource, receivedAt, oldestAccepted, scope ?? ScriptScope.All, index++, result);
                }
            }
        }

        return result;
    }

    private void MapRecord(LogRecord record, ResourceInfo resource, DateTime receivedAt, DateTime oldestAccepted, ScriptScope scope, int index, ParsedExport result)
    {
        var run = default(RunAttributes);
        string? stream = null, pid = null;
        foreach (var kv in record.Attributes)
        {
            if (run.TryTake(kv))
            {
                continue;
            }

            switch (kv.Key)
            {
                case AttributeNames.IoStream: stream = OtlpValues.AsText(kv.Value); break;
                case AttributeNames.Pid or "process.pid": pid = OtlpValues.AsText(kv.Value); break;
                default: break;
            }
        }

        var runId = run.RunId ?? resource.RunId;
        if (runId is null)
        {
            result.Reject($"log record #{index}: no run_id attribute (on the record or its resource)", "no_run_id");
            return;
        }

        var script = resource.ScriptFor(run.ScriptName);
        if (script is null)
        {
            result.Reject($"log record #{index} (run {runId}): no script name (record or resource script.name, or resource service.name)", "no_script");
            return;
        }

        if (!scope.Allows(script))
        {
            result.RejectOutOfScope(record, $"log record #{index} (run {Shorten(runId)}): script '{script}' is not one this token may write");
            return;
        }

        var body = OtlpValues.AsText(record.Body);
        if (string.IsNullOrEmpty(body))
        {
            result.Reject($"log record #{index} (run {runId}): empty body", "empty_body");
            return;
        }

        if (record.TraceId.Length is not (0 or 16) || record.SpanId.Length is not (0 or 8))
        {
            result.Reject($"log record #{index} (run {runId}): trace_id must be 16 bytes and span_id 8 bytes when present", "invalid_ids");
            return;
        }

        var stamp = record.TimeUnixNano != 0 ? record.TimeUnixNano : record.ObservedTimeUnixNano;
        var timestamp = stamp != 0 ? OtlpValues.ToDateTime(stamp) : receivedAt;
        var context = run.ToContext(runId, script, previous: null);
        if ((IngestLimits.CheckNames(context) ?? IngestLimits.CheckAge(timestamp, oldestAccepted)) is { } refusal)
        {
            result.Reject($"log record #{index} (run {Shorten(runId)}): {refusal}", IngestLimits.CheckNames(context) is null ? "older_than_retention" : "too_long");
            return;
        }

        var traceId = record.TraceId.IsEmpty ? null : OtlpValues.Hex(record.TraceId);
        var spanId = record.SpanId.IsEmpty ? null : OtlpValues.Hex(record.SpanId);
        var isStderr = string.Equals(stream?.Trim(), "stderr", StringComparison.OrdinalIgnoreCase);
        var origin = isStderr ? LogOrigin.Stderr : LogOrigin.Stdout;
        var severity = LogLevels.Normalize(record.SeverityText);
        var recordKey = RecordKey(runId, origin, stamp, traceId, spanId, body, index);

        var lines = PrintedText.SplitLines(body);
        for (var i = 0; i < lines.Count; i++)
        {
            var (level, message) = isStderr ? (LogLevels.Stderr, lines[i]) : printed.ReadStdoutLine(lines[i], severity);
            result.AddLog(new LogRow($"{recordKey}-{i}", context, level, message, timestamp, i, origin, pid, traceId, spanId, null));
        }
    }

    /// <summary>A run id as it may appear in a refusal: no longer than the cap, so a refusal never repeats a huge id.</summary>
    private static string Shorten(string runId) => runId.Length <= IngestLimits.MaxNameLength ? runId : $"{runId[..64]}...";

    /// <summary>
    /// A record's identity: what it says, and where it sits in its export. A retry resends the same export, so it maps
    /// to the same ids; two identical prints in one export (same text, same millisecond) stay two.
    /// </summary>
    private static string RecordKey(string runId, LogOrigin origin, ulong stamp, string? traceId, string? spanId, string body, int position)
    {
        var text = $"{runId}\n{origin}\n{stamp}\n{traceId}\n{spanId}\n{position}\n{body}";
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return $"{BinaryPrimitives.ReadUInt64BigEndian(hash):x16}{BinaryPrimitives.ReadUInt64BigEndian(hash[8..]):x16}";
    }
}
