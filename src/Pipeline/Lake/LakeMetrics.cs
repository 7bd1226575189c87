using System.Diagnostics.Metrics;
using Pipeline.Diagnostics;

namespace Pipeline.Lake;

/// <summary>The lake publisher's instruments, on the daemon's meter (<see cref="PipelineMetrics.MeterName"/>).</summary>
internal sealed class LakeMetrics
{
    private readonly Counter<long> _files;
    private readonly Counter<long> _rows;
    private readonly Counter<long> _failures;
    private readonly Counter<long> _uploads;

    public LakeMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(PipelineMetrics.MeterName);
        _files = meter.CreateCounter<long>("pipeline.lake.files", "{file}", "Parquet files published to the lake, by table.");
        _rows = meter.CreateCounter<long>("pipeline.lake.rows", "{row}", "Rows published to the lake, by table.");
        _failures = meter.CreateCounter<long>("pipeline.lake.failures", "{failure}", "Publishing passes and uploads that failed (tried again), by stage (publish, upload).");
        _uploads = meter.CreateCounter<long>("pipeline.lake.uploads", "{file}", "Lake files uploaded to the object store and removed locally.");
        meter.CreateObservableGauge("pipeline.lake.cutoff_age", () => Cutoff is { } cutoff ? (DateTime.UtcNow - cutoff).TotalSeconds : 0, "s",
            "How long ago the newest published slice ended (0 before the first pass).");
    }

    /// <summary>The end of the newest published slice.</summary>
    public DateTime? Cutoff { get; set; }

    public void Published(string table, long rows)
    {
        var tag = new KeyValuePair<string, object?>("table", table);
        _files.Add(1, tag);
        _rows.Add(rows, tag);
    }

    public void Failed(string stage) => _failures.Add(1, new KeyValuePair<string, object?>("stage", stage));

    public void Uploaded() => _uploads.Add(1);
}
