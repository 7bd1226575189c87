using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Logs.V1;
using OpenTelemetry.Proto.Trace.V1;

namespace Pipeline.Forwarding;

/// <summary>
/// An export without the records its sender's token may not write (<see cref="Parsing.ParsedExport.OutOfScope"/>):
/// what was refused here is not sent on under this daemon's own upstream token, and what was accepted is. The same
/// resources and scopes, minus those emptied; the records themselves are shared, not copied.
/// </summary>
internal static class InScopeRecords
{
    public static IMessage Of(IMessage export, IReadOnlySet<object> refused) => export switch
    {
        ExportTraceServiceRequest traces => Traces(traces, refused),
        ExportLogsServiceRequest logs => Logs(logs, refused),
        _ => throw new ArgumentException($"not an OTLP export: {export.Descriptor.FullName}", nameof(export)),
    };

    private static ExportTraceServiceRequest Traces(ExportTraceServiceRequest export, IReadOnlySet<object> refused)
    {
        var kept = new ExportTraceServiceRequest();
        foreach (var resource in export.ResourceSpans)
        {
            var keptResource = new ResourceSpans { Resource = resource.Resource, SchemaUrl = resource.SchemaUrl };
            foreach (var scope in resource.ScopeSpans)
            {
                var keptScope = new ScopeSpans { Scope = scope.Scope, SchemaUrl = scope.SchemaUrl };
                keptScope.Spans.AddRange(scope.Spans.Where(s => !refused.Contains(s)));
                if (keptScope.Spans.Count > 0)
                {
                    keptResource.ScopeSpans.Add(keptScope);
                }
            }

            if (keptResource.ScopeSpans.Count > 0)
            {
                kept.ResourceSpans.Add(keptResource);
            }
        }

        return kept;
    }

    private static ExportLogsServiceRequest Logs(ExportLogsServiceRequest export, IReadOnlySet<object> refused)
    {
        var kept = new ExportLogsServiceRequest();
        foreach (var resource in export.ResourceLogs)
        {
            var keptResource = new ResourceLogs { Resource = resource.Resource, SchemaUrl = resource.SchemaUrl };
            foreach (var scope in resource.ScopeLogs)
            {
                var keptScope = new ScopeLogs { Scope = scope.Scope, SchemaUrl = scope.SchemaUrl };
                keptScope.LogRecords.AddRange(scope.LogRecords.Where(r => !refused.Contains(r)));
                if (keptScope.LogRecords.Count > 0)
                {
                    keptResource.ScopeLogs.Add(keptScope);
                }
            }

            if (keptResource.ScopeLogs.Count > 0)
            {
                kept.ResourceLogs.Add(keptResource);
            }
        }

        return kept;
    }
}
