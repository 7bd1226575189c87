using Microsoft.Extensions.Options;
using Pipeline.Api;
using Pipeline.Diagnostics;

namespace Pipeline.Query;

/// <summary>The heavy questions, each with its own slots: ad hoc SQL and exports.</summary>
internal enum QueryKind
{
    Sql,
    Export,
}

/// <summary>Too many heavy queries at once: answered 429 with Retry-After.</summary>
internal sealed class QueryBusyException(string message, TimeSpan retryAfter) : Exception(message)
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>
/// Admission for the heavy questions, so that they cannot take the machine from ingest: a few SQL queries and a few
/// exports run at once (<see cref="ApiOptions.MaxConcurrentSql"/>, <see cref="ApiOptions.MaxConcurrentExports"/>, and
/// <see cref="ApiOptions.MaxConcurrentHeavy"/> of both together, since they share DuckDB's memory with the writer);
/// the next ones wait up to <see cref="ApiOptions.QueueTimeout"/> for a slot, then are refused as busy. A slot is
/// held until the work has really stopped: a query answered "timed out" keeps its slot until DuckDB has interrupted
/// it, so abandoned queries cannot pile up behind the answers.
/// </summary>
internal sealed class QueryAdmission : IDisposable
{
    private readonly ApiOptions _options;
    private readonly PipelineMetrics _metrics;
    private readonly SemaphoreSlim _sql;
    private readonly SemaphoreSlim _exports;
    private readonly SemaphoreSlim _heavy;

    public QueryAdmission(IOptions<ApiOptions> options, PipelineMetrics metrics)
    {
        _options = options.Value;
        _metrics = metrics;
        _sql = new SemaphoreSlim(_options.MaxConcurrentSql, _options.MaxConcurrentSql);
        _exports = new SemaphoreSlim(_options.MaxConcurrentExports, _options.MaxConcurrentExports);
        _heavy = new SemaphoreSlim(_options.MaxConcurrentHeavy, _options.MaxConcurrentHeavy);
    }

    /// <summary>What a refused client is told to wait: the queue's own wait, at least a second.</summary>
    public TimeSpan RetryAfter => TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(_options.QueueTimeout.TotalSeconds)));

    public void Dispose()
    {
        _sql.Dispose();
        _exports.Dispose();
        _heavy.Dispose();
    }

    /// <summary>
    /// Waits for a slot of this kind, at most the queue's wait (or <paramref name="within"/>, the time left to the
    /// request, when shorter); the lease gives it back once.
    /// </summary>
    public async Task<IDisposable> EnterAsync(QueryKind kind, TimeSpan within, CancellationToken cancellationToken)
    {
        var (slots, limit) = kind == QueryKind.Sql ? (_sql, _options.MaxConcurrentSql) : (_exports, _options.MaxConcurrentExports);
        var wait = within < _options.QueueTimeout ? within : _options.QueueTimeout;
        wait = wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var what = kind == QueryKind.Sql ? "SQL queries" : "exports";
        if (!await slots.WaitAsync(wait, cancellationToken).ConfigureAwait(false))
        {
            Refused(kind, "busy");
            throw new QueryBusyException(
                $"{limit} {what} are already running and none finished within {wait.TotalSeconds:0.#} s; retry later", RetryAfter);
        }

        var left = wait - System.Diagnostics.Stopwatch.GetElapsedTime(started);
        bool heavy;
        try
        {
            heavy = await _heavy.WaitAsync(left < TimeSpan.Zero ? TimeSpan.Zero : left, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            slots.Release(); // The client went away while it waited.
            throw;
        }

        if (!heavy)
        {
            slots.Release();
            Refused(kind, "busy");
            throw new QueryBusyException(
                $"{_options.MaxConcurrentHeavy} heavy queries (SQL and exports together, Api:MaxConcurrentHeavy) are already running and none finished within {wait.TotalSeconds:0.#} s; retry later",
                RetryAfter);
        }

        _metrics.QueryRunning(Name(kind), 1);
        return new Lease(this, slots, kind);
    }

    /// <summary>How many of this kind hold a slot now.</summary>
    public int Running(QueryKind kind) => kind == QueryKind.Sql
        ? _options.MaxConcurrentSql - _sql.CurrentCount
        : _options.MaxConcurrentExports - _exports.CurrentCount;

    public void Refused(QueryKind kind, string reason) => _metrics.QueryRefused(Name(kind), reason);

    private static string Name(QueryKind kind) => kind == QueryKind.Sql ? "sql" : "export";

    private sealed class Lease(QueryAdmission owner, SemaphoreSlim slots, QueryKind kind) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner._metrics.QueryRunning(Name(kind), -1);
                owner._heavy.Release();
                slots.Release();
            }
        }
    }
}
