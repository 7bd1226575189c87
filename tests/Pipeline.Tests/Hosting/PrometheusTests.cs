using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Benchmark;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Hosting;

/// <summary>The daemon's metrics as a real Prometheus server sees them, scraping <c>/metrics</c> on the API port.</summary>
public sealed class PrometheusTests
{
    private const string PrometheusBinary = "/usr/bin/prometheus";

    [Fact]
    public async Task Prometheus_ScrapesTheDaemon_WithItsMetricsToken_AndItsCommittedRowsEqualWhatWasSent()
    {
        Assert.True(File.Exists(PrometheusBinary), "this test runs Debian's prometheus (.ci/run installs it)");
        // Its own process: an OpenTelemetry meter provider collects every meter of its name in the process, and other
        // tests' daemons run in this one.
        var data = new TempFolder();
        const string token = "prometheus-scrape-0123456789";
        using var daemon = DaemonProcess.Start(Path.Combine(data.Path, "pipeline.duckdb"), "--Retention:MaxAge=3650.00:00:00", $"--Security:MetricsToken={token}");
        await daemon.WaitReadyAsync(TestDaemon.Timeout);
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress($"http://127.0.0.1:{daemon.GrpcPort}");
        var client = new TraceService.TraceServiceClient(channel);
        var sent = 0;
        for (var export = 0; export < 3; export++)
        {
            var spans = Enumerable.Range(0, 40).Select(i => LogSpan($"run{export}", "INFO", $"line {i}", T0.AddSeconds(export).AddMilliseconds(i))).ToArray();
            await client.ExportAsync(Traces("prom", spans), deadline: TestDaemon.Deadline());
            sent += spans.Length;
        }

        var folder = new TempFolder().Path;
        var port = DaemonProcess.FreePort();
        await File.WriteAllTextAsync(Path.Combine(folder, "prometheus.yml"), $"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: pipeline
                authorization:
                  credentials: {token}
                static_configs:
                  - targets: ['127.0.0.1:{daemon.ApiPort}']
            """);
        var start = new ProcessStartInfo(PrometheusBinary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[]
                 {
                     $"--config.file={Path.Combine(folder, "prometheus.yml")}", $"--storage.tsdb.path={Path.Combine(folder, "data")}",
                     $"--web.listen-address=127.0.0.1:{port}",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        using var prometheus = Process.Start(start)!;
        _ = prometheus.StandardError.ReadToEndAsync();
        _ = prometheus.StandardOutput.ReadToEndAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            double? committed = null;
            while (committed != sent && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
                committed = await QueryAsync(http, "sum(pipeline_rows_committed_total)");
            }

            Assert.Equal(sent, committed);
            Assert.Equal(sent, await QueryAsync(http, "sum(pipeline_rows_received_total{signal=\"traces\"})"));
            Assert.True(await QueryAsync(http, "sum(pipeline_commit_duration_milliseconds_count)") >= 1);
            Assert.True(await QueryAsync(http, "pipeline_store_bytes") > 0);
            Assert.NotNull(await QueryAsync(http, "pipeline_streams_open"));
            Assert.True(await QueryAsync(http, "dotnet_process_memory_working_set_bytes") > 0, "runtime metrics are scraped too");
        }
        finally
        {
            prometheus.Kill(entireProcessTree: true);
        }
    }

    /// <summary>The value of an instant query, or null while Prometheus has no sample for it.</summary>
    private static async Task<double?> QueryAsync(HttpClient http, string query)
    {
        try
        {
            using var document = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/query?query={Uri.EscapeDataString(query)}"));
            var result = document.RootElement.GetProperty("data").GetProperty("result");
            return result.GetArrayLength() == 0 ? null : double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
        }
        catch (HttpRequestException)
        {
            return null; // Not listening yet.
        }
    }
}
