using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Pipeline.Tests.Support;

/// <summary>One line a daemon logged: where from, how severe, the rendered message, its fields and any exception.</summary>
internal sealed record CapturedLog(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception, IReadOnlyDictionary<string, object?> Fields);

/// <summary>A logger provider that keeps every line it is given, for tests that assert on what a daemon logs.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<CapturedLog> _lines = new();

    /// <summary>The lines logged so far, in order.</summary>
    public IReadOnlyList<CapturedLog> Lines => [.. _lines];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var fields = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.First().Value)
                : new Dictionary<string, object?>();
            capture._lines.Enqueue(new CapturedLog(category, logLevel, eventId, formatter(state, exception), exception, fields));
        }
    }
}
