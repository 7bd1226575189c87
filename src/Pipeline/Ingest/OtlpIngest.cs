using Microsoft.Extensions.Options;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Buffering;
using Pipeline.Diagnostics;
using Pipeline.Forwarding;
using Pipeline.Parsing;
using Pipeline.Security;
using Pipeline.Storage;

namespace Pipeline.Ingest;

/// <summary>
/// One handler per signal, shared by the gRPC and HTTP transports: parse, hand the export to the dedup window and
/// the channel, wait until committed, and answer with partial success for the records that could not be used. Throws
/// <see cref="RetryLaterException"/> when the export must be retried and <see cref="ExportRejectedException"/> when it
/// cannot be stored at all; the transports say so in their terms.
/// </summary>
internal sealed partial class OtlpIngest(
    TraceRequestParser traceParser,
    LogsRequestParser logsParser,
    IngestChannel channel,
    InFlightBytes inFlight,
    DedupWindow dedup,
    ForwardQueue forward,
    IOptions<RetentionOptions> retention,
    PipelineMetrics metrics,
    TimeProvider clock,
    ILogger<OtlpIngest> logger)
{
    public async Task<ExportTraceServiceResponse> ExportTracesAsync(OtlpPayload<ExportTraceServiceRequest> request, Admission? admission, ScriptScope scope, CancellationToken cancellationToken)
    {
        Admit(admission, request.Bytes);
        var parsed = traceParser.Parse(request.Message, OldestAccepted(), scope);
        await StoreAsync(parsed, request.Digest.Within(scope.Key), "traces", SignalKind.Traces, request.Message, cancellationToken).ConfigureAwait(false);
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

    public async Task<ExportLogsServiceResponse> ExportLogsAsync(OtlpPayload<ExportLogsServiceRequest> request, Admission? admission, ScriptScope scope, CancellationToken cancellationToken)
    {
        Admit(admission, request.Bytes);
        var parsed = logsParser.Parse(request.Message, clock.GetUtcNow().UtcDateTime, OldestAccepted(), scope);
        await StoreAsync(parsed, request.Digest.Within(scope.Key), "logs", SignalKind.Logs, request.Message, cancellationToken).ConfigureAwait(false);
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

    /// <summary>The request's admission grows to its decompressed size (a gzip body declared only its compressed one).</summary>
    private void Admit(Admission? admission, long bytes)
    {
        if (admission is not null && !admission.TryGrowTo(bytes))
        {
            metrics.ExportRefused("in_flight_bytes");
            throw inFlight.Refusal(bytes);
        }
    }

    private DateTime OldestAccepted() => clock.GetUtcNow().UtcDateTime - retention.Value.MaxAge;

    /// <summary>
    /// Queues the export unless it repeats one committed or in flight (then it waits on that one's commit). The
    /// request's admission is held until it is answered: its decoded message lives that long.
    /// <para>
    /// With forwarding on, the export's room in the forward queue is taken first (under RefuseNew a full queue refuses
    /// it here, before anything is stored), and once it is committed it is appended to that queue durably, before the
    /// answer: an acknowledged export is always on its way upstream. A repeat is appended too, since its first attempt
    /// may have been committed and then failed before it was appended; the upstream's own dedup (a Pipeline daemon's)
    /// drops the copy (docs/forwarding.md).
    /// </para>
    /// </summary>
    private async Task StoreAsync(ParsedExport parsed, ExportDigest digest, string signal, SignalKind kind, Google.Protobuf.IMessage message, CancellationToken cancellationToken)
    {
        metrics.Received(parsed.Rows.Count, parsed.RejectedBy, signal);
        if (parsed.Rejected > 0)
        {
            LogRejected(logger, signal, parsed.ErrorMessage(signal == "traces" ? "spans" : "log records")!);
        }

        if (parsed.Rows.Count == 0)
        {
            return;
        }

        var forwarded = forward.Reserve(kind, message, parsed);
        try
        {
            var ticket = dedup.Claim(digest, out var isRepeat);
            if (!isRepeat)
            {
                var rows = parsed.RowsToStore();
                try
                {
                    await channel.EnqueueAsync(new PendingExport(rows, digest, ParsedExport.EstimateBytes(rows), ticket, parsed.Rows.Count), cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    dedup.Abandon(digest);
                    throw;
                }
            }

            await ticket.Committed.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (forwarded is not null)
            {
                await forward.AppendAsync(forwarded).ConfigureAwait(false);
            }
        }
        finally
        {
            if (forwarded is not null)
            {
                forward.Release(forwarded);
            }
        }
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Warning, Message = "Partial success on {Signal}: {Reasons}")]
    private static partial void LogRejected(ILogger logger, string signal, string reasons);
}
