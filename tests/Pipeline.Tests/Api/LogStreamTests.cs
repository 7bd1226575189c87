using System.Text.Json;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Api;

public sealed class LogStreamTests
{
    [Fact]
    public async Task Stream_DeliversLogsThatArriveAfterConnecting_AndEndsWithTheRun()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var client = new TraceService.TraceServiceClient(daemon.Grpc);
        var trace = NewTraceId();
        await client.ExportAsync(Traces("s", LogSpan("live", "INFO", "first", T0, trace)), deadline: TestDaemon.Deadline());
        using var timeout = new CancellationTokenSource(TestDaemon.Timeout);

        using var response = await daemon.Api.GetAsync("/api/runs/live/logs/stream", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        using var events = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        var first = await NextEventAsync(events, timeout.Token);
        await client.ExportAsync(Traces("s", LogSpan("live", "WARNING", "second", T0.AddSeconds(1), trace)), deadline: TestDaemon.Deadline());
        var second = await NextEventAsync(events, timeout.Token);
        await client.ExportAsync(Traces("s", RunSpan("live", T0, TimeSpan.FromSeconds(2), traceId: trace, stdout: "INFO :: first\nbye\n")), deadline: TestDaemon.Deadline());
        var third = await NextEventAsync(events, timeout.Token);
        var end = await NextEventAsync(events, timeout.Token);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(("log", "first"), (first.Event, first.Data.GetProperty("message").GetString()));
        Assert.Equal(("log", "second", "Warning"), (second.Event, second.Data.GetProperty("message").GetString(), second.Data.GetProperty("level").GetString()));
        Assert.Equal(("log", "bye"), (third.Event, third.Data.GetProperty("message").GetString()));
        Assert.Equal(("end", "Success"), (end.Event, end.Data.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task Stream_UnknownRun_Is404()
    {
        await using var daemon = await TestDaemon.StartAsync();

        using var response = await daemon.Api.GetAsync("/api/runs/nobody/logs/stream");

        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Stream_LogIdWithLineBreaks_CannotForgeEvents()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var forged = "x\nevent: end\ndata: {\"runId\":\"inj\",\"status\":\"Success\"}\n\n";
        await new TraceService.TraceServiceClient(daemon.Grpc).ExportAsync(
            Traces("s", LogSpan("sneaky", "INFO", "hello", T0, logId: forged)), deadline: TestDaemon.Deadline());
        using var timeout = new CancellationTokenSource(TestDaemon.Timeout);

        using var response = await daemon.Api.GetAsync("/api/runs/sneaky/logs/stream", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        using var events = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        var first = await NextEventAsync(events, timeout.Token);

        Assert.Equal(("log", forged), (first.Event, first.Data.GetProperty("logId").GetString()));
    }

    private static async Task<(string Event, JsonElement Data)> NextEventAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        string? name = null, data = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line[6..];
            }
            else if (line.Length == 0 && name is not null && data is not null)
            {
                return (name, JsonDocument.Parse(data).RootElement.Clone());
            }
        }

        throw new InvalidOperationException("the stream ended before the next event");
    }
}
