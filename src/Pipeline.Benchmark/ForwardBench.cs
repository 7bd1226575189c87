using System.Diagnostics;

namespace Pipeline.Benchmark;

/// <summary>
/// Forwarding benchmark: the same logs-only load pushed by concurrent gRPC clients into a daemon without forwarding,
/// then into one that forwards everything to a second daemon (each in its own process, loopback). Prints the ingest
/// rate of both (their ratio is what forwarding costs the clients: the durable append before each answer, and the
/// forwarder's CPU on the same cores) and the forwarding throughput: log rows per second arriving upstream, from the
/// first export until the queue is drained, counted in the upstream's file after its stop.
/// </summary>
internal static class ForwardBench
{
    public static async Task<int> RunAsync(int spans, int perRequest, int clients, string[] daemonArgs)
    {
        var folder = Path.Combine(Path.GetTempPath(), "pipeline-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        Console.WriteLine($"forward: spans={spans:N0} perRequest={perRequest} clients={clients} cores={Environment.ProcessorCount}");
        var requests = KoreloggerLoad.EncodedRequests(spans, perRequest);
        var sent = RowCounts.Of(requests);

        // Without forwarding.
        var plainPath = Path.Combine(folder, "plain", "pipeline.duckdb");
        Directory.CreateDirectory(Path.GetDirectoryName(plainPath)!);
        double plainRate;
        using (var plain = DaemonProcess.Start(plainPath, ["--Retention:MaxAge=3650.00:00:00", .. daemonArgs]))
        {
            await plain.WaitReadyAsync(TimeSpan.FromMinutes(1));
            plainRate = sent.Logs / (await PushAsync(plain.GrpcPort, requests, clients)).TotalSeconds;
            await plain.StopAsync();
        }

        // With forwarding, into a second daemon.
        var upstreamPath = Path.Combine(folder, "upstream", "pipeline.duckdb");
        var forwarderPath = Path.Combine(folder, "forwarder", "pipeline.duckdb");
        Directory.CreateDirectory(Path.GetDirectoryName(upstreamPath)!);
        Directory.CreateDirectory(Path.GetDirectoryName(forwarderPath)!);
        using var upstream = DaemonProcess.Start(upstreamPath, ["--Retention:MaxAge=3650.00:00:00", .. daemonArgs]);
        await upstream.WaitReadyAsync(TimeSpan.FromMinutes(1));
        using var forwarder = DaemonProcess.Start(forwarderPath,
            ["--Retention:MaxAge=3650.00:00:00", $"--Forward:Endpoint=http://127.0.0.1:{upstream.GrpcPort}", .. daemonArgs]);
        await forwarder.WaitReadyAsync(TimeSpan.FromMinutes(1));

        var clock = Stopwatch.StartNew();
        var ingest = await PushAsync(forwarder.GrpcPort, requests, clients);
        var forwardRate = sent.Logs / ingest.TotalSeconds;
        using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{forwarder.ApiPort}"), Timeout = TimeSpan.FromSeconds(10) };
        var peakQueue = 0L;
        while (PrometheusText.Sum(await api.GetStringAsync(new Uri("/metrics", UriKind.Relative)), "pipeline_forward_exports_sent_total") < requests.Count)
        {
            peakQueue = Math.Max(peakQueue, DaemonProcess.FolderBytes(Path.Combine(Path.GetDirectoryName(forwarderPath)!, "forward")));
            if (clock.Elapsed > TimeSpan.FromMinutes(10))
            {
                Console.WriteLine("the forward queue did not drain within 10 minutes");
                return 1;
            }

            await Task.Delay(50);
        }

        var drained = clock.Elapsed;
        await forwarder.StopAsync();
        await upstream.StopAsync();
        var arrived = RowCounts.InFile(upstreamPath);

        Console.WriteLine($"ingest, no forwarding            : {plainRate,10:N0} logs/s");
        Console.WriteLine($"ingest, forwarding on            : {forwardRate,10:N0} logs/s  ({forwardRate / plainRate:P0} of no forwarding)");
        Console.WriteLine($"forwarding throughput            : {arrived.Logs / drained.TotalSeconds,10:N0} logs/s arriving upstream "
            + $"(first export to queue drained: {drained.TotalSeconds:N1} s; ingest took {ingest.TotalSeconds:N1} s, drain {(drained - ingest).TotalSeconds:N1} s after)");
        Console.WriteLine($"queue on disk, peak seen         : {peakQueue / 1024.0 / 1024.0,10:N1} MiB");
        Console.WriteLine($"upstream holds                   : {arrived.Against(sent, "sent")}");
        Directory.Delete(folder, recursive: true);
        return arrived == sent ? 0 : 1;
    }

    private static async Task<TimeSpan> PushAsync(int port, List<LoadRequest> requests, int clients)
    {
        using var exporter = new TraceExporter(port);
        await exporter.WaitForDaemonAsync();
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests.Count)
            {
                await exporter.ExportAsync(requests[i].Bytes);
            }
        }));
        return clock.Elapsed;
    }

}
