using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Grpc.Core;
using Grpc.Net.Client;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Benchmark;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Forwarding;

/// <summary>
/// The forwarder as a real process (killed with SIGKILL, or forwarding into an upstream that is not there yet), the
/// upstream a daemon in this process; loopback only. What counts is what the client got an acknowledgement for.
/// </summary>
public sealed partial class ForwardingProcessTests
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Sigkill_MidStream_ThenRestart_UpstreamHoldsEveryAcknowledgedRow_Once()
    {
        await using var upstream = await TestDaemon.StartAsync();
        var folder = new TempFolder();
        var database = Path.Combine(folder.Path, "pipeline.duckdb");
        var acknowledged = new ConcurrentBag<string>();

        using (var first = StartForwarder(database, upstream.GrpcAddress))
        {
            await first.WaitReadyAsync(Ready);
            using var stop = new CancellationTokenSource();
            var feeders = Enumerable.Range(0, 3).Select(f => FeedAsync(first.GrpcPort, $"a{f}", acknowledged, stop.Token)).ToList();
            await Poll.Until(() => acknowledged.Count >= 150);

            // Mid-stream: the feeders' calls are in flight, the forwarder is sending.
            first.Process.Kill();
            await first.Process.WaitForExitAsync().WaitAsync(TestDaemon.Timeout);
            await stop.CancelAsync();
            await Task.WhenAll(feeders).WaitAsync(TestDaemon.Timeout);
        }

        using var second = StartForwarder(database, upstream.GrpcAddress);
        await second.WaitReadyAsync(Ready);
        using (var stop = new CancellationTokenSource())
        {
            var before = acknowledged.Count;
            var feeder = FeedAsync(second.GrpcPort, "b", acknowledged, stop.Token);
            await Poll.Until(() => acknowledged.Count >= before + 50);
            await stop.CancelAsync();
            await feeder.WaitAsync(TestDaemon.Timeout);
        }

        var expected = acknowledged.ToHashSet();
        await Poll.Until(() => expected.IsSubsetOf(UpstreamLogIds(upstream).Keys), TimeSpan.FromSeconds(45));
        var stored = UpstreamLogIds(upstream);
        Assert.All(stored, pair => Assert.True(pair.Value == 1, $"{pair.Key} stored {pair.Value} times upstream"));
        await second.StopAsync();
    }

    [Fact]
    public async Task UpstreamDown30Seconds_ThenUp_NothingLost_QueueDrained()
    {
        var upstreamPort = DaemonProcess.FreePort();
        var upstreamAddress = new Uri($"http://127.0.0.1:{upstreamPort}");
        var folder = new TempFolder();
        var acknowledged = new ConcurrentBag<string>();
        using var forwarder = StartForwarder(Path.Combine(folder.Path, "pipeline.duckdb"), upstreamAddress);
        await forwarder.WaitReadyAsync(Ready);

        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await FeedAsync(forwarder.GrpcPort, "down", acknowledged, stop.Token, pause: TimeSpan.FromMilliseconds(50));
        }

        var queue = Path.Combine(folder.Path, "forward");
        Assert.True(acknowledged.Count > 50, $"only {acknowledged.Count} exports acknowledged while the upstream was down");
        Assert.True(DaemonProcess.FolderBytes(queue) > 10_000, "the exports wait in the queue");

        await using var upstream = await TestDaemon.StartAsync(new Dictionary<string, string?> { ["Receivers:GrpcEndpoint"] = $"127.0.0.1:{upstreamPort}" });
        var expected = acknowledged.ToHashSet();
        await Poll.Until(() => expected.IsSubsetOf(UpstreamLogIds(upstream).Keys), TimeSpan.FromSeconds(45));
        Assert.All(UpstreamLogIds(upstream), pair => Assert.Equal(1, pair.Value));

        // Drained: nothing waits, and the queue's files are back to (almost) nothing.
        using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{forwarder.ApiPort}"), Timeout = TestDaemon.Timeout };
        await Poll.Until(() => QueueGauge().IsMatch(api.GetStringAsync(new Uri("/metrics", UriKind.Relative)).GetAwaiter().GetResult()));
        Assert.True(DaemonProcess.FolderBytes(queue) < 64 * 1024, $"the drained queue still takes {DaemonProcess.FolderBytes(queue)} bytes");
        await forwarder.StopAsync();
    }

    private static DaemonProcess StartForwarder(string database, Uri upstream) => DaemonProcess.Start(
        database,
        "--Retention:MaxAge=3650.00:00:00",
        $"--Forward:Endpoint={upstream.ToString().TrimEnd('/')}",
        "--Forward:MinBackoff=00:00:00.2",
        "--Forward:MaxBackoff=00:00:02",
        "--Storage:VerifyOnStart=Metadata");

    /// <summary>Sends one small export after another, each with a log id of its own, and keeps the ids acknowledged.</summary>
    private static async Task FeedAsync(int port, string name, ConcurrentBag<string> acknowledged, CancellationToken stop, TimeSpan? pause = null)
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        var client = new TraceService.TraceServiceClient(channel);
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var logId = $"{name}-{i}";
            try
            {
                await client.ExportAsync(Traces("fwd", LogSpan($"run_{name}_{i / 10}", "INFO", $"line {i}", T0.AddMilliseconds(i), logId: logId)),
                    deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: stop);
                acknowledged.Add(logId);
                if (pause is { } wait)
                {
                    await Task.Delay(wait, stop);
                }
            }
            catch (Exception ex) when (ex is RpcException or OperationCanceledException)
            {
                // Killed, or told to stop: this export was not acknowledged.
                return;
            }
        }
    }

    private static Dictionary<string, long> UpstreamLogIds(TestDaemon upstream) =>
        upstream.Query("SELECT log_id, count(*) FROM logs GROUP BY log_id").ToDictionary(r => (string)r[0]!, r => (long)r[1]!);

    [GeneratedRegex(@"^pipeline_forward_queue_exports(\{[^}]*\})? 0(\s|$)", RegexOptions.Multiline)]
    private static partial Regex QueueGauge();
}
