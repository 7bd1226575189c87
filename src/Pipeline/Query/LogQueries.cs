using System.Data.Common;
using Pipeline.Security;

namespace Pipeline.Query;

/// <summary>The questions the Logs tab asks, as SQL over the <c>logs</c> view.</summary>
internal sealed class LogQueries(ReadStore store, ListColumns lists)
{
    public const string Columns = "log_id, run_id, script, level, message, timestamp";

    /// <summary>The columns <c>/api/logs/values</c> answers for.</summary>
    public static readonly string[] PickListColumns = ["level"];

    /// <summary>The fields of a listed log, node included when the rows carry it; then come the cursor's columns.</summary>
    private readonly string _listed = lists.Logs.HasNode ? $"{Columns}, {ColumnSet.NodeName}" : Columns;
    private readonly int _width = lists.Logs.HasNode ? 7 : 6;

    private ColumnSet Set { get; } = lists.Logs;

    public async Task<Page<LogView>> ListAsync(ListRequest request, CancellationToken cancellationToken) =>
        await WithinRunAsync(store, request, cancellationToken).ConfigureAwait(false) is { } narrowed
            ? await PageAsync(narrowed, cancellationToken).ConfigureAwait(false)
            : new Page<LogView>([], null, 0);

    /// <summary>A page of logs and the count of the whole list, for a request already narrowed (<see cref="WithinRunAsync"/>).</summary>
    public async Task<Page<LogView>> PageAsync(ListRequest request, CancellationToken cancellationToken)
    {
        var where = SqlWhere.For(request, Set, afterCursor: true);
        var rows = await store.ListAsync(
            $"SELECT {_listed}, {Cursor.Columns(request.Sort, Set)} FROM {where.From} WHERE {where} {SqlWhere.OrderBy(request.Sort, Set)} LIMIT {request.Limit + 1}",
            where.Parameters, r => (Log: Map(r), Position: Cursor.Read(r, _width, Set)), cancellationToken).ConfigureAwait(false);
        var count = SqlWhere.For(request, Set, afterCursor: false);
        var total = (await store.ListAsync($"SELECT count(*) FROM {count.From} WHERE {count}", count.Parameters, r => r.GetInt64(0), cancellationToken).ConfigureAwait(false)).Single();
        var next = rows.Count > request.Limit ? rows[request.Limit - 1].Position.Encode() : null;
        return new Page<LogView>(rows.Take(request.Limit).Select(r => r.Log).ToList(), next, total);
    }

    public async Task<LogSummary> SummaryAsync(ListRequest request, CancellationToken cancellationToken)
    {
        if (await WithinRunAsync(store, request, cancellationToken).ConfigureAwait(false) is not { } narrowed)
        {
            return new LogSummary(0, new Dictionary<string, long>(), null, null);
        }

        var where = SqlWhere.For(narrowed, Set, afterCursor: false);
        var byLevel = await store.ListAsync(
            $"SELECT level, count(*), min(timestamp), max(timestamp) FROM {where.From} WHERE {where} GROUP BY level ORDER BY level", where.Parameters,
            r => (Level: r.GetString(0), Count: r.GetInt64(1), First: ReadStore.Utc(r, 2), Last: ReadStore.Utc(r, 3)), cancellationToken).ConfigureAwait(false);
        return new LogSummary(
            byLevel.Sum(l => l.Count), byLevel.ToDictionary(l => l.Level, l => l.Count),
            byLevel.Count == 0 ? null : byLevel.Min(l => l.First), byLevel.Count == 0 ? null : byLevel.Max(l => l.Last));
    }

    /// <summary>
    /// Logs per level and hour or day, empty buckets included, over the period narrowed to the list's first and last
    /// log (<see cref="Buckets"/>); with the bucket used. One pass counts the logs per hour and level, which also gives
    /// the hours of the first and last log; days are summed from hours. The exact first and last log are read (from
    /// their hour's row groups only) when the default bucket depends on them.
    /// </summary>
    public async Task<(string Bucket, IReadOnlyList<LogTrendPoint> Points)> TrendAsync(ListRequest request, string? bucket, CancellationToken cancellationToken)
    {
        Buckets.Check(bucket);
        if (await WithinRunAsync(store, request, cancellationToken).ConfigureAwait(false) is not { } narrowed)
        {
            return (Buckets.Plan(request, bucket, null, null).Unit, []);
        }

        var where = SqlWhere.For(narrowed, Set, afterCursor: false);
        var origin = Buckets.Truncate(narrowed.From, "hour");
        var hours = await store.ListAsync(
            $"""
            SELECT (epoch_us(timestamp) - {where.Param(Buckets.Microseconds(origin))}) // {TimeSpan.FromHours(1).Ticks / TimeSpan.TicksPerMicrosecond}, level, count(*)
            FROM {where.From} WHERE {where} GROUP BY 1, 2
            """,
            where.Parameters,
            r => (Hour: origin.AddHours(r.GetInt64(0)), Level: r.GetString(1), Count: r.GetInt64(2)),
            cancellationToken).ConfigureAwait(false);
        if (hours.Count == 0)
        {
            return (Buckets.Plan(narrowed, bucket, null, null).Unit, []);
        }

        var (first, last) = (hours.Min(h => h.Hour), hours.Max(h => h.Hour));
        if (Buckets.NeedsExactBounds(narrowed, bucket, first, last))
        {
            first = await EdgeAsync(narrowed, first: true, first, cancellationToken).ConfigureAwait(false);
            last = await EdgeAsync(narrowed, first: false, last, cancellationToken).ConfigureAwait(false);
        }

        var buckets = Buckets.Plan(narrowed, bucket, first, last);
        var levels = hours.Select(h => h.Level).Distinct().Order(StringComparer.Ordinal).ToList();
        var counts = hours
            .GroupBy(h => (Start: Buckets.Truncate(h.Hour, buckets.Unit), h.Level))
            .ToDictionary(g => g.Key, g => g.Sum(h => h.Count));
        return (buckets.Unit, buckets.Starts.Select(start =>
        {
            var byLevel = levels.ToDictionary(level => level, level => counts.GetValueOrDefault((start, level)));
            return new LogTrendPoint(start, byLevel.Values.Sum(), byLevel);
        }).ToList());
    }

    /// <summary>The time of the list's first (or last) log, which lies in the hour starting at <paramref name="hour"/>: a read of that hour's row groups.</summary>
    private async Task<DateTime> EdgeAsync(ListRequest request, bool first, DateTime hour, CancellationToken cancellationToken)
    {
        var where = SqlWhere.For(request, Set, afterCursor: false);
        where.Add(first ? $"timestamp < {where.Param(hour.AddHours(1))}" : $"timestamp >= {where.Param(hour)}");
        var edge = await store.ListAsync(
            $"SELECT {(first ? "min" : "max")}(timestamp) FROM {where.From} WHERE {where}", where.Parameters, r => ReadStore.Utc(r, 0), cancellationToken).ConfigureAwait(false);
        return edge.Single();
    }

    /// <summary>The values of a pick-list column in the period (filter, search and run aside).</summary>
    public Task<ColumnValues> ValuesAsync(ListRequest request, string? column, CancellationToken cancellationToken) =>
        PickLists.ValuesAsync(store, Set, PickListColumns, request, column, cancellationToken);

    /// <summary>
    /// The request narrowed to the log window of its run (kept by the writer; the timestamps bound the read, so DuckDB
    /// reads the row groups of that time instead of every log), when it names one: the whole window when no period
    /// was given, else the part of the period within it. Null when nothing can match (the run has no logs, or none
    /// in the period); the request as it is when it names no run, or a run not stored.
    /// </summary>
    public static async Task<ListRequest?> WithinRunAsync(ReadStore store, ListRequest request, CancellationToken cancellationToken)
    {
        if (request.RunId is not { } runId)
        {
            return request;
        }

        var where = new SqlWhere();
        var ofRun = OfRun(where, runId, request.Script);
        var windows = await store.ListAsync(
            $"SELECT log_window_start, log_window_end FROM runs WHERE {ofRun}", where.Parameters,
            r => r.IsDBNull(0) || r.IsDBNull(1) ? ((DateTime Start, DateTime End)?)null : (ReadStore.Utc(r, 0), ReadStore.Utc(r, 1)),
            cancellationToken).ConfigureAwait(false);
        if (windows.Count == 0)
        {
            return request;
        }

        if (windows[0] is not { } window)
        {
            return null;
        }

        var from = request.DefaultPeriod || window.Start > request.From ? window.Start : request.From;
        var to = request.DefaultPeriod || window.End < request.To ? window.End : request.To;
        return from < to ? request with { From = from, To = to, DefaultPeriod = false } : null;
    }

    /// <summary>A run's status (null while unknown) and all its logs, oldest first.</summary>
    public async Task<(string? Status, IReadOnlyList<LogView> Logs)> RunLogsAsync(string runId, string? script, ScriptScope scope, CancellationToken cancellationToken)
    {
        var where = new SqlWhere();
        where.Add(OfRun(where, runId, script, scope));
        var status = await store.ListAsync($"SELECT status FROM runs WHERE {where}", where.Parameters, r => r.GetString(0), cancellationToken).ConfigureAwait(false);
        return (status.FirstOrDefault(), await OfRunAsync(runId, script, scope, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// The condition for one run: its id, within its script when one is given (a run id is unique per script), and
    /// within the scripts the caller may see.
    /// </summary>
    public static string OfRun(SqlWhere where, string runId, string? script, ScriptScope? scope = null) =>
        (script is null ? $"run_id = {where.Param(runId)}" : $"run_id = {where.Param(runId)} AND script = {where.Param(script)}")
        + (scope is null || scope.IsAll ? string.Empty : $" AND {scope.Sql(where, "script")}");

    /// <summary>
    /// A run's logs, oldest first. The run's log window (kept by the writer) bounds the timestamps, so DuckDB reads
    /// only the row groups of that time instead of scanning every log for the run id.
    /// </summary>
    private async Task<IReadOnlyList<LogView>> OfRunAsync(string runId, string? script, ScriptScope scope, CancellationToken cancellationToken)
    {
        var where = new SqlWhere();
        var ofRun = OfRun(where, runId, script, scope);
        var window = await store.ListAsync(
            $"SELECT log_window_start, log_window_end FROM runs WHERE {ofRun}", where.Parameters,
            r => r.IsDBNull(0) ? ((DateTime, DateTime)?)null : (r.GetDateTime(0), r.GetDateTime(1)), cancellationToken).ConfigureAwait(false);
        if (window.FirstOrDefault() is not { } bounds)
        {
            return [];
        }

        where.Add(ofRun);
        where.Add($"timestamp >= {where.Param(bounds.Item1)} AND timestamp < {where.Param(bounds.Item2)}");
        return await store.ListAsync($"SELECT {_listed} FROM logs WHERE {where} ORDER BY timestamp, seq, log_id", where.Parameters, Map, cancellationToken).ConfigureAwait(false);
    }

    private LogView Map(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), ReadStore.Utc(r, 5), Set.HasNode ? ReadStore.Text(r, 6) : null);
}
