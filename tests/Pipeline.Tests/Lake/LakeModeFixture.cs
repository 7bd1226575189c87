using System.Net.Http.Headers;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Lake;

/// <summary>
/// Three store daemons (node-a, node-b, node-c) fed over OTLP and stopped, their stores published to a lake
/// (<see cref="TestLake"/>, with a run published again after it changed and mirrors that came late as revision rows);
/// a lake-mode daemon over that lake (read tokens on: one for all scripts, one for Qbalance only); and a reference
/// store daemon fed every request, which answers as one store holding all the data.
/// </summary>
#pragma warning disable CA1515 // xunit needs the fixture public
public sealed class LakeModeFixture : IAsyncLifetime
{
    public const string Shared = "Qbalance";
    public const string Escaped = "Ops/ü nightly";
    internal const string ReadAll = "lake-operators-read-0123456789";
    internal const string ReadQbalance = "lake-qbalance-read-0123456789";

    internal TestDaemon Lake { get; private set; } = null!;

    internal TestDaemon Reference { get; private set; } = null!;

    /// <summary>Run ids by the node that stored them.</summary>
    internal Dictionary<string, List<string>> RunsByNode { get; } = [];

    public async Task InitializeAsync()
    {
        var lake = new TempFolder();
        Reference = await TestDaemon.StartAsync();
        var nodes = new Dictionary<string, TestDaemon>();
        foreach (var node in new[] { "node-a", "node-b", "node-c" })
        {
            nodes[node] = await TestDaemon.StartAsync();
            RunsByNode[node] = [];
        }

        foreach (var (node, runId, request) in Requests())
        {
            RunsByNode[node].Add(runId);
            foreach (var daemon in new[] { nodes[node], Reference })
            {
                await new TraceService.TraceServiceClient(daemon.Grpc).ExportAsync(request, deadline: TestDaemon.Deadline());
            }
        }

        foreach (var (node, daemon) in nodes)
        {
            await daemon.StopAsync();
            TestLake.Publish(daemon.DatabasePath, lake.Path, node, lateMirrors: true);
        }

        // q00 was published first while In Progress (and begun a day earlier), then again as it is now.
        TestLake.PublishOlderRun(nodes["node-a"].DatabasePath, lake.Path, "node-a", Shared, "q00");

        var tokens = Path.Combine(new TempFolder().Path, "tokens.json");
        await File.WriteAllTextAsync(tokens, $$"""
            { "tokens": [
                { "name": "operators", "kind": "read", "token": "{{ReadAll}}" },
                { "name": "qbalance-team", "kind": "read", "token": "{{ReadQbalance}}", "scripts": ["{{Shared}}"] } ] }
            """);
        Lake = await TestDaemon.StartAsync(new Dictionary<string, string?>
        {
            ["Mode"] = "lake",
            ["Lake:Path"] = lake.Path,
            ["Security:TokensFile"] = tokens,
            ["Api:MaxConcurrentSql"] = "4",
            ["Api:MaxConcurrentExports"] = "4",
            ["Api:MaxConcurrentHeavy"] = "8",
        });
        Lake.Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ReadAll);
    }

    public async Task DisposeAsync()
    {
        await Lake.DisposeAsync();
        await Reference.DisposeAsync();
    }

    /// <summary>
    /// Qbalance: 60 runs over three days, alternating between node-a and node-b, some failed (two kinds of errors),
    /// three deployment versions, two logs each, some printing stdout that mirrors a log, a child span now and then,
    /// and one run still in progress; "Ops/ü nightly" (a name escaped in folder names): 20 runs on node-c.
    /// </summary>
    private static IEnumerable<(string Node, string RunId, ExportTraceServiceRequest Request)> Requests()
    {
        string[] levels = ["INFO", "WARNING", "ERROR", "DEBUG"];
        for (var i = 0; i < 60; i++)
        {
            var runId = $"q{i:00}";
            var start = T0.AddMinutes(71 * i);
            var trace = NewTraceId();
            var mirrored = i % 10 == 3;
            var run = RunSpan(
                runId, start, TimeSpan.FromMilliseconds(10 + (i * 37 % 500)), failed: i % 6 == 0, traceId: trace,
                stdout: mirrored ? $"INFO :: step {i} done\nplain print {i}\n" : null,
                function: i % 4 == 0 ? "divide" : "call_openai_chat",
                extra: Attr("deployment.version", 1 + (i / 20)));
            if (i % 12 == 0)
            {
                run.Status.Message = $"TimeoutError: request {Guid.NewGuid()} timed out after {i} s";
            }

            Span[] spans =
            [
                LogSpan(runId, mirrored ? "INFO" : levels[i % 4], $"step {i} done", start.AddMilliseconds(3), trace),
                LogSpan(runId, levels[(i + 1) % 4], $"step {i} checked", start.AddMilliseconds(4), trace),
                run,
                .. i % 5 == 0 ? [ChildSpan(run, runId, "http get")] : Array.Empty<Span>(),
            ];
            yield return (i % 2 == 0 ? "node-a" : "node-b", runId, Traces(Shared, spans));
        }

        yield return ("node-b", "q-open", Traces(Shared, LogSpan("q-open", "DEBUG", "still going", T0.AddHours(30))));

        for (var i = 0; i < 20; i++)
        {
            var runId = $"n{i:00}";
            var start = T0.AddHours(3 * i).AddMinutes(7);
            var trace = NewTraceId();
            yield return ("node-c", runId, Traces(Escaped,
                LogSpan(runId, levels[i % 4], $"nightly {i}", start.AddMilliseconds(1), trace),
                RunSpan(runId, start, TimeSpan.FromMilliseconds(100 + (i * 13 % 90)), failed: i % 7 == 0, traceId: trace)));
        }
    }
}
