using System.Globalization;
using System.Text.RegularExpressions;

namespace Pipeline.Benchmark;

/// <summary>Figures read off a daemon's <c>/metrics</c> (Prometheus text format).</summary>
internal static class PrometheusText
{
    /// <summary>The sum of a metric's samples over all its label sets; 0 when it has none yet.</summary>
    public static long Sum(string metrics, string name) =>
        Regex.Matches(metrics, $@"^{Regex.Escape(name)}(?:\{{[^}}]*\}})? ([0-9.eE+-]+)", RegexOptions.Multiline)
            .Sum(m => (long)double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
}
