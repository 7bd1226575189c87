using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Pipeline.Diagnostics;
using Pipeline.Tests.Support;

namespace Pipeline.Tests.Ingest;

/// <summary>
/// Clients that fail to deliver a body, against a real daemon logging at Information with the shipped per-category
/// levels: they get the answer the connection still allows, and the log gets one quiet line per kind and interval.
/// </summary>
public sealed class ClientFaultTests
{
    private static readonly Dictionary<string, string?> InformationLogs = new() { ["Logging:LogLevel:Default"] = "Information" };

    [Fact]
    public async Task SlowAndAbortedBodies_OverHttp_AreAnswered_AndLoggedOncePerKindWithACount()
    {
        var logs = new LogCapture();
        var daemon = await TestDaemon.StartAsync(InformationLogs, logs: logs);
        string[] slowAnswers;
        try
        {
            // Kestrel's minimum body rate (240 bytes/s) applies after a 5 s grace: these stall past it.
            var slow = new[]
            {
                SlowBodyAsync(daemon.HttpAddress, "/v1/traces", "application/x-protobuf"),
                SlowBodyAsync(daemon.HttpAddress, "/v1/traces", "application/x-protobuf"),
                SlowBodyAsync(daemon.HttpAddress, "/v1/logs", "application/json"),
                SlowBodyAsync(daemon.ApiAddress, "/api/sql", "application/json"),
            };
            for (var i = 0; i < 3; i++)
            {
                await AbortedBodyAsync(daemon.HttpAddress, "/v1/logs", "application/x-protobuf");
            }

            await AbortedBodyAsync(daemon.ApiAddress, "/api/sql", "application/json");
            await AbortedBodyAsync(daemon.ApiAddress, "/api/sql", "application/json");
            slowAnswers = await Task.WhenAll(slow);
        }
        finally
        {
            // Stopping closes the open intervals: what they held back is counted now rather than 10 s later.
            await daemon.StopAsync();
        }

        Assert.All(slowAnswers, answer => Assert.StartsWith("HTTP/1.1 408 Request Timeout\r\n", answer));
        Assert.Contains("Connection: close", slowAnswers[0]);
        Assert.Contains("request body arrived too slowly", slowAnswers[0]);
        Assert.Contains("\"code\": 4", slowAnswers[2]);
        AssertQuiet(logs);
        var faults = FaultLines(logs);
        Assert.Equal(4, faults.Count);
        AssertOnceThenCounted(faults, ClientFault.SlowBody, suppressed: 3);
        AssertOnceThenCounted(faults, ClientFault.AbortedBody, suppressed: 4);
    }

    [Fact]
    public async Task GrpcStreamsResetMidMessage_AreLoggedOnceWithACount()
    {
        var logs = new LogCapture();
        var daemon = await TestDaemon.StartAsync(InformationLogs, logs: logs);
        try
        {
            using var client = RawGrpc.Client();
            for (var i = 0; i < 3; i++)
            {
                // The frame declares 1000 bytes; 3 are sent, then the client cancels and resets the stream.
                using var reset = new CancellationTokenSource();
                using var request = RawGrpc.Request(daemon.GrpcAddress, new StalledContent(RawGrpc.Frame(compressed: false, [1, 2, 3], declaredLength: 1000), reset));
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SendAsync(request, reset.Token));
            }
        }
        finally
        {
            await daemon.StopAsync();
        }

        AssertQuiet(logs);
        var faults = FaultLines(logs);
        Assert.Equal(2, faults.Count);
        AssertOnceThenCounted(faults, ClientFault.AbortedBody, suppressed: 2);
        Assert.Equal(RawGrpc.TraceExport, faults[0].Fields["Path"]);
    }

    /// <summary>Nothing above Information, and no line carries an exception (no stack traces a client can cause).</summary>
    private static void AssertQuiet(LogCapture logs)
    {
        Assert.DoesNotContain(logs.Lines, line => line.Level > LogLevel.Information);
        Assert.DoesNotContain(logs.Lines, line => line.Exception is not null);
    }

    private static List<CapturedLog> FaultLines(LogCapture logs) =>
        [.. logs.Lines.Where(line => line.Category == typeof(ClientFaultLog).FullName)];

    /// <summary>The kind's first fault has its own line (Information, no exception); the rest are one count.</summary>
    private static void AssertOnceThenCounted(List<CapturedLog> faults, ClientFault fault, long suppressed)
    {
        var lines = faults.Where(line => Equals(line.Fields["Fault"], fault)).ToList();
        Assert.Equal(2, lines.Count);
        Assert.All(lines, line => Assert.Equal(LogLevel.Information, line.Level));
        Assert.All(lines, line => Assert.Null(line.Exception));
        Assert.Equal("127.0.0.1", lines[0].Fields["RemoteAddress"]);
        Assert.False(lines[0].Fields.ContainsKey("Suppressed"));
        Assert.Equal(suppressed, lines[1].Fields["Suppressed"]);
    }

    /// <summary>Headers declaring 1000 bytes, a few of them, then nothing: reads what the daemon answers until it closes.</summary>
    private static async Task<string> SlowBodyAsync(Uri address, string path, string contentType)
    {
        using var tcp = await SendHeadAsync(address, path, contentType);
        var answer = new MemoryStream();
        await tcp.GetStream().CopyToAsync(answer, new CancellationTokenSource(TestDaemon.Timeout).Token);
        return Encoding.UTF8.GetString(answer.ToArray());
    }

    /// <summary>Headers declaring 1000 bytes, a few of them, then a reset (RST) once the daemon is reading.</summary>
    private static async Task AbortedBodyAsync(Uri address, string path, string contentType)
    {
        using var tcp = await SendHeadAsync(address, path, contentType);
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        tcp.Client.LingerState = new LingerOption(true, 0);
        tcp.Client.Close();
    }

    private static async Task<TcpClient> SendHeadAsync(Uri address, string path, string contentType)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        var start = contentType == "application/json" ? "{\"sql\":" : "\n\u0001";
        var head = $"POST {path} HTTP/1.1\r\nHost: {address.Authority}\r\nContent-Type: {contentType}\r\nContent-Length: 1000\r\n\r\n{start}";
        await tcp.GetStream().WriteAsync(Encoding.ASCII.GetBytes(head));
        return tcp;
    }

    /// <summary>Sends its bytes, then waits until <paramref name="reset"/> is cancelled, which makes the client reset the stream.</summary>
    private sealed class StalledContent(byte[] bytes, CancellationTokenSource reset) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(bytes);
            await stream.FlushAsync();
            await Task.Delay(TimeSpan.FromMilliseconds(300));
            await reset.CancelAsync();
            await Task.Delay(Timeout.InfiniteTimeSpan, reset.Token);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
