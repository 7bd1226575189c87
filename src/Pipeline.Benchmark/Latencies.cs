namespace Pipeline.Benchmark;

/// <summary>Latencies in milliseconds, recorded by many clients at once and read as sorted snapshots.</summary>
internal sealed class Latencies
{
    private readonly Lock _lock = new();
    private List<double> _values = [];

    public void Add(double milliseconds)
    {
        lock (_lock)
        {
            _values.Add(milliseconds);
        }
    }

    /// <summary>What was recorded since the last take, sorted; recording starts afresh.</summary>
    public List<double> TakeSorted()
    {
        List<double> taken;
        lock (_lock)
        {
            (taken, _values) = (_values, []);
        }

        taken.Sort();
        return taken;
    }

    /// <summary>The middle of a round's figures (the upper one of an even count), as the benchmarks report them.</summary>
    public static double Median(IEnumerable<double> values) => values.Order().ElementAt(values.Count() / 2);

    /// <summary>The nearest-rank percentile <paramref name="p"/> (0..1) of sorted values; 0 when there are none.</summary>
    public static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}
