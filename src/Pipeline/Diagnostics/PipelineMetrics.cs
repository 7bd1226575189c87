using System.Diagnostics.Metrics;
using Pipeline.Buffering;
using Pipeline.Storage;

namespace Pipeline.Diagnostics;

/// <summary>
/// High-volume facts as instruments (meter <c>Pipeline</c>), not log lines: what came in, what was refused and why,
/// what was committed and how long commits take, and how full each bounded thing is.
/// </summary>
internal sealed class PipelineMetrics : IDisposable
{
    public const string MeterName = "Pipeline";

    private readonly Meter _meter;
    private readonly Counter<long> _rowsReceived;
    private readonly Counter<long> _recordsRejected;
    private readonly Counter<long> _exportsRefused;
    private readonly Counter<long> _queriesRefused;
    private readonly UpDownCounter<long> _queriesRunning;
    private readonly Counter<long> _exportsDeduplicated;
    private readonly Counter<long> _dedupForgotEarly;
    private readonly Counter<long> _rowsCommitted;
    private readonly Counter<long> _retentionDeleted;
    private readonly Counter<long> _unauthenticated;
    private readonly Counter<long> _tokenReloads;
    private readonly Histogram<double> _commitMs;
    private readonly Counter<long> _forwardSent;
    private readonly Counter<long> _forwardDropped;
    private readonly Counter<long> _forwardRetries;
    private readonly Counter<long> _forwardRejected;

    public PipelineMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _rowsReceived = _meter.CreateCounter<long>("pipeline.rows.received", "{row}", "Rows mapped from accepted OTLP records.");
        _recordsRejected = _meter.CreateCounter<long>("pipeline.records.rejected", "{record}", "OTLP records refused by mapping (partial success), by signal and reason.");
        _exportsRefused = _meter.CreateCounter<long>("pipeline.exports.refused", "{export}", "OTLP exports refused (retry later, or for good when they cannot be stored), by reason.");
        _exportsDeduplicated = _meter.CreateCounter<long>("pipeline.exports.deduplicated", "{export}", "Exports that repeated one already committed or in flight, acknowledged without storing again.");
        _dedupForgotEarly = _meter.CreateCounter<long>("pipeline.dedup.forgotten_early", "{export}", "Export digests forgotten before the end of the dedup window because Dedup:MaxExports was reached.");
        _queriesRefused = _meter.CreateCounter<long>("pipeline.queries.refused", "{query}", "SQL queries and exports refused, by kind and reason (busy, timeout, export_folder_full).");
        _queriesRunning = _meter.CreateUpDownCounter<long>("pipeline.queries.running", "{query}", "SQL queries and exports holding a slot, by kind.");
        _rowsCommitted = _meter.CreateCounter<long>("pipeline.rows.committed", "{row}", "Rows committed to DuckDB, counted as received (pipeline.rows.received): an export is counted once, when its commit succeeds.");
        _unauthenticated = _meter.CreateCounter<long>("pipeline.requests.unauthenticated", "{request}", "Requests refused for a missing or wrong token, by surface (ingest, read, metrics).");
        _tokenReloads = _meter.CreateCounter<long>("pipeline.tokens.reloads", "{reload}", "Times the tokens file changed, by result (ok, or failed: the previous tokens stay).");
        _retentionDeleted = _meter.CreateCounter<long>("pipeline.retention.runs_deleted", "{run}", "Runs deleted by retention, with their logs and spans, by reason (age, disk).");
        _commitMs = _meter.CreateHistogram<double>("pipeline.commit.duration", "ms", "Time to write and commit one group of rows.");
        _forwardSent = _meter.CreateCounter<long>("pipeline.forward.exports.sent", "{export}", "Exports the upstream acknowledged (Forward:Endpoint), by signal.");
        _forwardDropped = _meter.CreateCounter<long>("pipeline.forward.exports.dropped", "{export}", "Accepted exports that will not reach the upstream, by reason (queue_full, rejected, corrupt, too_large).");
        _forwardRetries = _meter.CreateCounter<long>("pipeline.forward.retries", "{attempt}", "Failed attempts to send an export upstream that will be retried, by reason.");
        _forwardRejected = _meter.CreateCounter<long>("pipeline.forward.records.rejected", "{record}", "Records the upstream refused in a partial success, by signal.");
        _meter.CreateObservableGauge("pipeline.store.bytes", () => StoreBytes, "By", "Bytes the database holds on disk (blocks in use and write-ahead log), as of the last retention check.");
    }

    /// <summary>Set by retention at each check.</summary>
    public long StoreBytes { get; set; }

    /// <summary>Gauges over the bounded things the writer owns.</summary>
    public void ObserveWriter(IngestChannel channel, DedupWindow dedup, Func<int> trackedRuns)
    {
        _meter.CreateObservableGauge("pipeline.channel.depth", () => channel.Depth, "{row}", "Rows waiting for the writer.");
        _meter.CreateObservableGauge("pipeline.channel.bytes", () => channel.DepthBytes, "By", "Estimated bytes of rows waiting for the writer.");
        _meter.CreateObservableGauge("pipeline.dedup.exports", () => dedup.Count, "{export}", "Export digests remembered in the dedup window.");
        _meter.CreateObservableGauge("pipeline.runs.tracked", trackedRuns, "{run}", "Runs the writer remembers (Storage:RecentRuns).");
    }

    public void Received(int rows, IReadOnlyDictionary<string, int> rejectedBy, string signal)
    {
        var tag = new KeyValuePair<string, object?>("signal", signal);
        _rowsReceived.Add(rows, tag);
        foreach (var (reason, count) in rejectedBy)
        {
            _recordsRejected.Add(count, tag, new KeyValuePair<string, object?>("reason", reason));
        }
    }

    /// <summary>Live log streams open now (SSE).</summary>
    public void ObserveStreams(Func<int> open) =>
        _meter.CreateObservableGauge("pipeline.streams.open", open, "{stream}", "Live log streams (Server-Sent Events) open now.");

    /// <summary>Gauges over the forward queue, once it is open.</summary>
    public void ObserveForwardQueue(Func<long> diskBytes, Func<long> pendingExports)
    {
        _meter.CreateObservableGauge("pipeline.forward.queue.bytes", diskBytes, "By", "Bytes the forward queue's files take on disk (Forward:QueueBytes).");
        _meter.CreateObservableGauge("pipeline.forward.queue.exports", pendingExports, "{export}", "Exports in the forward queue not yet acknowledged by the upstream.");
    }

    public void ForwardSent(string signal) => _forwardSent.Add(1, new KeyValuePair<string, object?>("signal", signal));

    public void ForwardDropped(string reason, long exports) => _forwardDropped.Add(exports, new KeyValuePair<string, object?>("reason", reason));

    public void ForwardRetry(string reason) => _forwardRetries.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void ForwardRejected(string signal, long records) => _forwardRejected.Add(records, new KeyValuePair<string, object?>("signal", signal));

    public void ExportRefused(string reason) => _exportsRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void QueryRefused(string kind, string reason) =>
        _queriesRefused.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("reason", reason));

    public void QueryRunning(string kind, int delta) => _queriesRunning.Add(delta, new KeyValuePair<string, object?>("kind", kind));

    public void ExportDeduplicated() => _exportsDeduplicated.Add(1);

    public void DedupForgotEarly() => _dedupForgotEarly.Add(1);

    public void RetentionDeleted(long runs, string reason) => _retentionDeleted.Add(runs, new KeyValuePair<string, object?>("reason", reason));

    public void Unauthenticated(string surface) => _unauthenticated.Add(1, new KeyValuePair<string, object?>("surface", surface));

    public void TokensReloaded(string result) => _tokenReloads.Add(1, new KeyValuePair<string, object?>("result", result));

    public void Committed(int rows, double milliseconds)
    {
        _rowsCommitted.Add(rows);
        _commitMs.Record(milliseconds);
    }

    public void Dispose() => _meter.Dispose();
}
