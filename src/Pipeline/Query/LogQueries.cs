using System.Data.Common;
using Pipeline.Security;

namespace Pipeline.Query;

/// <summary>The questions the Logs tab asks, as SQL over the <c>logs</c> view.</summary>
internal sealed class LogQueries(ReadStore store)
{
    public const string Columns = "log_id, run_id, script, level, message, timestamp";
    private static readonly ColumnSet Set = ColumnSet.Logs;

    public async Task<Page<LogView>> ListAsync(ListRequest request, CancellationToken cancellationToken)
    {
        var where = SqlWhere.For(request, Set, afterCursor: true);
        var rows = await store.ListAsync(
            $"SELECT {Columns}, {request.Sort.Column.Sql} FROM logs WHERE {where} {SqlWhere.OrderBy(request.Sort, Set.Key)} LIMIT {request.Limit + 1}",
            where.Parameters, r => (Log: Map(r), Sort: r.IsDBNull(6) ? null : r.GetValue(6)), cancellationToken).ConfigureAwait(false);
        var count = SqlWhere.For(request, Set, afterCursor: false);
        var total = (await store.ListAsync($"SELECT count(*) FROM logs WHERE {count}", count.Parameters, r => r.GetInt64(0), cancellationToken).ConfigureAwait(false)).Single();
        var next = rows.Count > request.Limit ? new Cursor(rows[request.Limit - 1].Sort, rows[request.Limit - 1].Log.LogId).Encode() : null;
        return new Page<LogView>(rows.Take(request.Limit).Select(r => r.Log).ToList(), next, total);
    }

    public async Task<LogSummary> SummaryAsync(ListRequest request, CancellationToken cancellationToken)
    {
        var where = SqlWhere.For(request, Set, afterCursor: false);
        var byLevel = await store.ListAsync(
            $"SELECT level, count(*) FROM logs WHERE {where} GROUP BY level ORDER BY level", where.Parameters,
            r => (Level: r.GetString(0), Count: r.GetInt64(1)), cancellationToken).ConfigureAwait(false);
        return new LogSummary(byLevel.Sum(l => l.Count), byLevel.ToDictionary(l => l.Level, l => l.Count));
    }

    /// <summary>A run's status (null while unknown) and all its logs, oldest first.</summary>
    public async Task<(string? Status, IReadOnlyList<LogView> Logs)> RunLogsAsync(string runId, string? script, ScriptScope scope, CancellationToken cancellationToken)
    {
        var where = new SqlWhere();
        where.Add(OfRun(where, runId, script, scope));
        var status = await store.ListAsync($"SELECT status FROM runs WHERE {where}", where.Parameters, r => r.GetString(0), cancellationToken).ConfigureAwait(false);
        return (status.FirstOrDefault(), await OfRunAsync(store, runId, script, cancellationToken, scope).ConfigureAwait(false));
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
    public static async Task<IReadOnlyList<LogView>> OfRunAsync(ReadStore store, string runId, string? script, CancellationToken cancellationToken, ScriptScope? scope = null)
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
        return await store.ListAsync($"SELECT {Columns} FROM logs WHERE {where} ORDER BY timestamp, seq, log_id", where.Parameters, Map, cancellationToken).ConfigureAwait(false);
    }

    public static LogView Map(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), ReadStore.Utc(r, 5));
}
