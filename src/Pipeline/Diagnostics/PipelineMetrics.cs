using System.Diagnostics.Metrics;

namespace Pipeline.Diagnostics;

/// <summary>
/// High-volume facts as counters (meter <c>Pipeline</c>), not log lines: what came in, what was refused,
/// what was committed, and how long commits take.
/// </summary>
internal sealed class PipelineMetrics : IDisposable
{
    public const string MeterName = "Pipeline";

    private readonly Meter _meter;
    private readonly Counter<long> _rowsReceived;
    private readonly Counter<long> _recordsRejected;
    private readonly Counter<long> _exportsRefused;
    private readonly Counter<long> _rowsCommitted;
    private readonly Histogram<double> _commitMs;

    public PipelineMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _rowsReceived = _meter.CreateCounter<long>("pipeline.rows.received", "{row}", "Rows mapped from accepted OTLP records.");
        _recordsRejected = _meter.CreateCounter<long>("pipeline.records.rejected", "{record}", "OTLP records refused by mapping (partial success).");
        _exportsRefused = _meter.CreateCounter<long>("pipeline.exports.refused", "{export}", "Exports answered 'retry later' because the channel stayed full.");
        _rowsCommitted = _meter.CreateCounter<long>("pipeline.rows.committed", "{row}", "Rows committed to DuckDB.");
        _commitMs = _meter.CreateHistogram<double>("pipeline.commit.duration", "ms", "Time to write and commit one group of rows.");
    }

    public void Received(int rows, int rejected, string signal)
    {
        var tag = new KeyValuePair<string, object?>("signal", signal);
        _rowsReceived.Add(rows, tag);
        if (rejected > 0)
        {
            _recordsRejected.Add(rejected, tag);
        }
    }

    public void ExportRefused() => _exportsRefused.Add(1);

    public void Committed(int rows, double milliseconds)
    {
        _rowsCommitted.Add(rows);
        _commitMs.Record(milliseconds);
    }

    public void Dispose() => _meter.Dispose();
}
