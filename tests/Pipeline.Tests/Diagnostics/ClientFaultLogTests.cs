using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Diagnostics;
using Pipeline.Tests.Support;

namespace Pipeline.Tests.Diagnostics;

/// <summary>The client-fault log's rate limit, on a clock the test moves.</summary>
public sealed class ClientFaultLogTests : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();
    private readonly LogCapture _logs = new();
    private readonly ILoggerFactory _factory;

    public ClientFaultLogTests() => _factory = LoggerFactory.Create(logging => logging.AddProvider(_logs).SetMinimumLevel(LogLevel.Trace));

    [Fact]
    public void AFault_IsOneInformationLine_WithoutException_NamingKindRemoteAndPath()
    {
        using var log = Log();

        log.Report(ClientFault.SlowBody, "10.0.0.7", "/v1/traces");

        var line = Assert.Single(_logs.Lines);
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Null(line.Exception);
        Assert.Equal("Client fault SlowBody from 10.0.0.7 on /v1/traces", line.Message);
    }

    [Fact]
    public void MoreOfAKindWithinTheInterval_AreCounted_ThenSummedUpInOneLineWhenItEnds()
    {
        using var log = Log();

        log.Report(ClientFault.AbortedBody, "10.0.0.1", "/v1/logs");
        for (var i = 2; i <= 5; i++)
        {
            log.Report(ClientFault.AbortedBody, $"10.0.0.{i}", "/v1/traces");
        }

        _time.Advance(Interval - TimeSpan.FromMilliseconds(1));
        Assert.Single(_logs.Lines);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(2, _logs.Lines.Count);
        var summary = _logs.Lines[1];
        Assert.Equal(LogLevel.Information, summary.Level);
        Assert.Null(summary.Exception);
        Assert.Equal(4L, summary.Fields["Suppressed"]);
        Assert.Equal("Client fault AbortedBody: 4 more not logged (at most 1 per 00:00:10); the latest from 10.0.0.5 on /v1/traces", summary.Message);
    }

    [Fact]
    public void AfterTheInterval_TheNextFaultIsLoggedAgain_AndAQuietIntervalEndsWithoutSummary()
    {
        using var log = Log();

        log.Report(ClientFault.SlowBody, "10.0.0.1", "/v1/traces");
        _time.Advance(Interval);
        log.Report(ClientFault.SlowBody, "10.0.0.2", "/v1/traces");
        log.Report(ClientFault.SlowBody, "10.0.0.3", "/v1/traces");
        _time.Advance(Interval);

        Assert.Equal(
            ["Client fault SlowBody from 10.0.0.1 on /v1/traces", "Client fault SlowBody from 10.0.0.2 on /v1/traces",
             "Client fault SlowBody: 1 more not logged (at most 1 per 00:00:10); the latest from 10.0.0.3 on /v1/traces"],
            _logs.Lines.Select(l => l.Message));
    }

    [Fact]
    public void EachKind_HasItsOwnLimit()
    {
        using var log = Log();

        log.Report(ClientFault.SlowBody, "10.0.0.1", "/v1/traces");
        log.Report(ClientFault.AbortedBody, "10.0.0.1", "/v1/traces");
        log.Report(ClientFault.IncompleteBody, "10.0.0.1", "/v1/traces");
        log.Report(ClientFault.SlowBody, "10.0.0.1", "/v1/traces");

        Assert.Equal([ClientFault.SlowBody, ClientFault.AbortedBody, ClientFault.IncompleteBody], _logs.Lines.Select(l => l.Fields["Fault"]));
    }

    [Fact]
    public void SeveralLinesPerInterval_AreLetThroughBeforeCounting()
    {
        using var log = Log(linesPerInterval: 3);

        for (var i = 1; i <= 5; i++)
        {
            log.Report(ClientFault.AbortedBody, $"10.0.0.{i}", "/v1/logs");
        }

        _time.Advance(Interval);

        Assert.Equal(4, _logs.Lines.Count);
        Assert.Equal(2L, _logs.Lines[3].Fields["Suppressed"]);
    }

    [Fact]
    public void Dispose_LogsWhatTheOpenIntervalSuppressed()
    {
        var log = Log();
        log.Report(ClientFault.SlowBody, "10.0.0.1", "/v1/traces");
        log.Report(ClientFault.SlowBody, "10.0.0.2", "/v1/traces");

        log.Dispose();

        Assert.Equal(2, _logs.Lines.Count);
        Assert.Equal(1L, _logs.Lines[1].Fields["Suppressed"]);
        // The timer is gone with it: the end of the interval adds nothing.
        _time.Advance(Interval);
        Assert.Equal(2, _logs.Lines.Count);
    }

    public static TheoryData<Exception, bool, string?> Failures => new()
    {
        { new BadHttpRequestException("too slow", StatusCodes.Status408RequestTimeout), false, nameof(ClientFault.SlowBody) },
        { new BadHttpRequestException("unexpected end of request content", StatusCodes.Status400BadRequest), false, nameof(ClientFault.IncompleteBody) },
        { new BadHttpRequestException("too large", StatusCodes.Status413PayloadTooLarge), false, null },
        { new ConnectionResetException("reset by peer"), false, nameof(ClientFault.AbortedBody) },
        { new IOException("The client reset the request stream."), false, nameof(ClientFault.AbortedBody) },
        { new OperationCanceledException(), true, nameof(ClientFault.AbortedBody) },
        { new OperationCanceledException(), false, null },
        { new InvalidDataException("not gzip"), false, null },
        { new InvalidOperationException("a bug"), true, null },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void Classify_NamesClientFaults_AndLeavesTheRest(Exception failure, bool requestAborted, string? expected) =>
        Assert.Equal(expected, ClientFaultLog.Classify(failure, requestAborted)?.ToString());

    public void Dispose() => _factory.Dispose();

    private ClientFaultLog Log(int linesPerInterval = 1) => new(_factory.CreateLogger<ClientFaultLog>(), _time, linesPerInterval, Interval);
}
