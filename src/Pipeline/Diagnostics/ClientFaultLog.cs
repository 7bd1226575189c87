namespace Pipeline.Diagnostics;

/// <summary>
/// A client fault: the client failed to deliver a request body. Nothing in the daemon is wrong and nothing can be
/// fixed here, so it is answered where the connection still allows it and logged quietly by <see cref="ClientFaultLog"/>.
/// </summary>
internal enum ClientFault
{
    /// <summary>
    /// The body arrived below Kestrel's minimum data rate (240 bytes/s after a 5 s grace): answered 408 on HTTP/1.1.
    /// On HTTP/2 Kestrel drops the whole connection instead, which is seen as <see cref="AbortedBody"/>.
    /// </summary>
    SlowBody,

    /// <summary>The client reset or closed the connection (or its HTTP/2 stream) mid-body: there is nobody to answer.</summary>
    AbortedBody,

    /// <summary>The body ended before its declared length, or its chunked framing was broken: answered 400.</summary>
    IncompleteBody,
}

/// <summary>
/// Logs client faults at Information without the exception (its stack describes Kestrel, not a problem of the daemon):
/// the kind, the remote address and the path. A client can cause them at will, so each kind is rate-limited: at most
/// a few lines per interval, then one line counting the ones that were not logged.
/// </summary>
internal sealed partial class ClientFaultLog : IDisposable
{
    /// <summary>Lines per kind and interval in the daemon.</summary>
    public const int DefaultLinesPerInterval = 1;

    /// <summary>The daemon's interval.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);

    private readonly ILogger _logger;
    private readonly Window[] _windows;

    public ClientFaultLog(ILogger<ClientFaultLog> logger, TimeProvider time, int linesPerInterval, TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(linesPerInterval, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _logger = logger;
        _windows = [.. Enum.GetValues<ClientFault>().Select(fault => new Window(this, fault, time, linesPerInterval, interval))];
    }

    /// <summary>
    /// What a failed read of a request body says about the client, or null when it is not a client fault (that
    /// exception is the daemon's to handle or report).
    /// </summary>
    public static ClientFault? Classify(Exception exception, bool requestAborted) => exception switch
    {
        BadHttpRequestException { StatusCode: StatusCodes.Status408RequestTimeout } => ClientFault.SlowBody,
        // Over the size limit is a refusal with its own answer (413 / RESOURCE_EXHAUSTED), not a fault.
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => null,
        BadHttpRequestException => ClientFault.IncompleteBody,
        // Kestrel's request body fails with IOException (ConnectionResetException, "the client reset the request
        // stream", "the request stream was aborted") once the connection or stream is gone.
        IOException => ClientFault.AbortedBody,
        OperationCanceledException when requestAborted => ClientFault.AbortedBody,
        _ => null,
    };

    /// <summary>Logs the fault unless its kind has used up its lines for the current interval.</summary>
    public void Report(ClientFault fault, HttpContext context) =>
        Report(fault, context.Connection.RemoteIpAddress?.ToString() ?? "unknown", context.Request.Path.Value ?? "/");

    /// <inheritdoc cref="Report(ClientFault, HttpContext)"/>
    public void Report(ClientFault fault, string remoteAddress, string path)
    {
        if (_windows[(int)fault].Admit(remoteAddress, path))
        {
            LogFault(_logger, fault, remoteAddress, path);
        }
    }

    /// <summary>Logs what the open intervals suppressed, so no count is lost when the daemon stops.</summary>
    public void Dispose()
    {
        foreach (var window in _windows)
        {
            window.Dispose();
        }
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Client fault {Fault} from {RemoteAddress} on {Path}")]
    private static partial void LogFault(ILogger logger, ClientFault fault, string remoteAddress, string path);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information,
        Message = "Client fault {Fault}: {Suppressed} more not logged (at most {Lines} per {Interval}); the latest from {RemoteAddress} on {Path}")]
    private static partial void LogSuppressed(ILogger logger, ClientFault fault, long suppressed, int lines, TimeSpan interval, string remoteAddress, string path);

    /// <summary>
    /// One kind's interval. It opens at the first fault, lets <c>lines</c> through, counts the rest, and when the
    /// timer closes it logs that count; the next fault opens a new interval.
    /// </summary>
    private sealed class Window : IDisposable
    {
        private readonly ClientFaultLog _log;
        private readonly ClientFault _fault;
        private readonly int _lines;
        private readonly TimeSpan _interval;
        private readonly ITimer _timer;
        private readonly Lock _lock = new();
        private bool _open;
        private bool _disposed;
        private int _logged;
        private long _suppressed;
        private string _latestRemote = "";
        private string _latestPath = "";

        public Window(ClientFaultLog log, ClientFault fault, TimeProvider time, int lines, TimeSpan interval)
        {
            _log = log;
            _fault = fault;
            _lines = lines;
            _interval = interval;
            _timer = time.CreateTimer(_ => Close(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        /// <summary>True when this fault gets its own line; false when it is only counted.</summary>
        public bool Admit(string remoteAddress, string path)
        {
            lock (_lock)
            {
                if (_disposed)
                {
                    return true;
                }

                if (!_open)
                {
                    _open = true;
                    _logged = 0;
                    _timer.Change(_interval, Timeout.InfiniteTimeSpan);
                }

                if (_logged < _lines)
                {
                    _logged++;
                    return true;
                }

                _suppressed++;
                _latestRemote = remoteAddress;
                _latestPath = path;
                return false;
            }
        }

        public void Dispose()
        {
            lock (_lock)
            {
                _disposed = true;
            }

            _timer.Dispose();
            Close();
        }

        private void Close()
        {
            long suppressed;
            string remote, path;
            lock (_lock)
            {
                _open = false;
                suppressed = _suppressed;
                remote = _latestRemote;
                path = _latestPath;
                _suppressed = 0;
            }

            if (suppressed > 0)
            {
                LogSuppressed(_log._logger, _fault, suppressed, _lines, _interval, remote, path);
            }
        }
    }
}
