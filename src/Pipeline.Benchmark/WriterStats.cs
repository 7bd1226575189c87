using System.Diagnostics.Metrics;

namespace Pipeline.Benchmark;

/// <summary>Reads the daemon's own writer metrics (commits, rows, commit time) while the benchmark runs.</summary>
internal sealed class WriterStats
{
    private double _busyMs;
    private long _commits;
    private long _rows;

    public double BusyMs => Volatile.Read(ref _busyMs);

    public long Commits => Interlocked.Read(ref _commits);

    public long Rows => Interlocked.Read(ref _rows);

    public static WriterStats Listen()
    {
        var stats = new WriterStats();
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Pipeline" && instrument.Name is "pipeline.commit.duration" or "pipeline.rows.committed")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, ms, _, _) =>
        {
            stats._busyMs += ms;
            Interlocked.Increment(ref stats._commits);
        });
        listener.SetMeasurementEventCallback<long>((_, rows, _, _) => Interlocked.Add(ref stats._rows, rows));
        listener.Start();
        return stats;
    }
}
