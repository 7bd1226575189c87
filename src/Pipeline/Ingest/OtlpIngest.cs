using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Buffering;
using Pipeline.Diagnostics;
using Pipeline.Parsing;

namespace Pipeline.Ingest;

/// <summary>
/// One handler per signal, shared by the gRPC and HTTP transports: parse, queue, wait until committed, and answer
/// with partial success for the records that could not be used. Throws <see cref="ChannelFullException"/> or
/// <see cref="Storage.StorageException"/> when the export must be retried; the transports say so in their terms.
/// </summary>
internal sealed partial class OtlpIngest(
    TraceRequestParser traceParser,
    LogsRequestParser logsParser,
    IngestChannel channel,
    PipelineMetrics metrics,
    TimeProvider clock,
    ILogger<OtlpIngest> logger)
{
    public async Task<ExportTraceServiceResponse> ExportTracesAsync(ExportTraceServiceRequest request, CancellationToken cancellationToken)
    {
        var parsed = traceParser.Parse(request);
        await StoreAsync(parsed, "traces", cancellationToken).ConfigureAwait(false);
        var response = new ExportTraceServiceResponse();
        if (parsed.Rejected > 0)
        {
            response.PartialSuccess = new ExportTracePartialSuccess
            {
                RejectedSpans = parsed.Rejected,
                ErrorMessage = parsed.ErrorMessage("spans"),
            };
        }

        return response;
    }

    public async Task<ExportLogsServiceResponse> ExportLogsAsync(ExportLogsServiceRequest request, CancellationToken cancellationToken)
    {
        var parsed = logsParser.Parse(request, clock.GetUtcNow().UtcDateTime);
        await StoreAsync(parsed, "logs", cancellationToken).ConfigureAwait(false);
        var response = new ExportLogsServiceResponse();
        if (parsed.Rejected > 0)
        {
            response.PartialSuccess = new ExportLogsPartialSuccess
            {
                RejectedLogRecords = parsed.Rejected,
                ErrorMessage = parsed.ErrorMessage("log records"),
            };
        }

        return response;
    }

    private async Task StoreAsync(ParsedExport parsed, string signal, CancellationToken cancellationToken)
    {
        metrics.Received(parsed.Rows.Count, parsed.Rejected, signal);
        if (parsed.Rejected > 0)
        {
            LogRejected(logger, signal, parsed.ErrorMessage(signal == "traces" ? "spans" : "log records")!);
        }

        var ticket = await channel.EnqueueAsync(parsed.RowsToStore(), cancellationToken).ConfigureAwait(false);
        await ticket.Committed.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Warning, Message = "Partial success on {Signal}: {Reasons}")]
    private static partial void LogRejected(ILogger logger, string signal, string reasons);
}
