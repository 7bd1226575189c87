using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pipeline.Query;

/// <summary>The record view of one run: the run, its input and output, its logs and trace, and its neighbours.</summary>
public sealed record RunRecord(RunView Run, object? Input, object? Output, IReadOnlyList<LogView> Logs, IReadOnlyList<SpanView> Spans, string? PrevRunId, string? NextRunId);

/// <summary>A span of the run's trace.</summary>
public sealed record SpanView(string TraceId, string SpanId, string? ParentSpanId, string Name, int Kind, DateTime Start, DateTime End, double DurationMs, int StatusCode, string? StatusMessage, JsonNode? Attributes);

/// <summary>The questions the All Runs tab asks, as SQL over the <c>runs</c> table.</summary>
internal sealed class RunQueries(ReadStore store)
{
    private const string Columns = "run_id, script, status, deployment_version, deployment_id, response_time_ms, function, executed_on, source_type, source, error";
    private static readonly ColumnSet Set = ColumnSet.Runs;

    public async Task<IReadOnlyList<ScriptView>> ScriptsAsync(CancellationToken cancellationToken) =>
        await store.ListAsync(
            "SELECT script, count(*), max(executed_on) FROM runs GROUP BY script ORDER BY script", [],
            r => new ScriptView(r.GetString(0), r.GetInt64(1), ReadStore.Utc(r, 2)), cancellationToken).ConfigureAwait(false);

    public async Task<Page<RunView>> ListAsync(ListRequest request, CancellationToken cancellationToken)
    {
        var where = SqlWhere.For(request, Set, afterCursor: true);
        var rows = await store.ListAsync(
            $"SELECT {Columns}, {request.Sort.Column.Sql} FROM runs WHERE {where} {SqlWhere.OrderBy(request.Sort, Set.Key)} LIMIT {request.Limit + 1}",
            where.Parameters, r => (Run: Map(r), Sort: r.IsDBNull(11) ? null : r.GetValue(11)), cancellationToken).ConfigureAwait(false);
        var total = await CountAsync(request, cancellationToken).ConfigureAwait(false);
        var next = rows.Count > request.Limit ? new Cursor(rows[request.Limit - 1].Sort, rows[request.Limit - 1].Run.RunId).Encode() : null;
        return new Page<RunView>(rows.Take(request.Limit).Select(r => r.Run).ToList(), next, total);
    }

    public async Task<RunSummary> SummaryAsync(ListRequest request, CancellationToken cancellationToken)
    {
        var where = SqlWhere.For(request, Set, afterCursor: false);
        var rows = await store.ListAsync(
            $"""
            SELECT count(*),
                   count(*) FILTER (WHERE status = 'Failed'),
                   count(*) FILTER (WHERE status = 'In Progress'),
                   round(100.0 * count(*) FILTER (WHERE status = 'Failed')
                         / NULLIF(count(*) FILTER (WHERE status IN ('Success', 'Failed')), 0), 2),
                   quantile_cont(response_time_ms, 0.9),
                   quantile_cont(response_time_ms, 0.99)
            FROM runs WHERE {where}
            """,
            where.Parameters,
            r => new RunSummary(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), ReadStore.Number(r, 3), ReadStore.Number(r, 4), ReadStore.Number(r, 5)),
            cancellationToken).ConfigureAwait(false);
        return rows.Single();
    }

    /// <summary>Runs per hour or day over the range, empty buckets included.</summary>
    public async Task<IReadOnlyList<TrendPoint>> TrendAsync(ListRequest request, string? bucket, CancellationToken cancellationToken)
    {
        var unit = bucket ?? (request.To - request.From <= TimeSpan.FromDays(2) ? "hour" : "day");
        if (unit is not ("hour" or "day"))
        {
            throw new QueryException($"bucket must be hour or day (got '{bucket}')");
        }

        var buckets = (request.To - request.From) / (unit == "hour" ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1));
        if (buckets > 10_000)
        {
            throw new QueryException($"that range has {buckets:0} {unit}s; ask for at most 10000 buckets (use bucket=day, or a shorter range)");
        }

        var where = SqlWhere.For(request, Set, afterCursor: false);
        var from = where.Param(request.From);
        var to = where.Param(request.To);
        return await store.ListAsync(
            $"""
            WITH buckets AS (
                SELECT unnest(generate_series(date_trunc('{unit}', {from}::TIMESTAMP), {to}::TIMESTAMP - INTERVAL 1 MICROSECOND, INTERVAL 1 {unit})) AS bucket_start
            ),
            counted AS (
                SELECT date_trunc('{unit}', executed_on) AS bucket_start, count(*) AS runs,
                       count(*) FILTER (WHERE status = 'Failed') AS failed,
                       quantile_cont(response_time_ms, 0.9) AS p90, quantile_cont(response_time_ms, 0.99) AS p99
                FROM runs WHERE {where} GROUP BY 1
            )
            SELECT b.bucket_start, COALESCE(c.runs, 0), COALESCE(c.failed, 0), c.p90, c.p99
            FROM buckets b LEFT JOIN counted c USING (bucket_start)
            ORDER BY b.bucket_start
            """,
            where.Parameters,
            r => new TrendPoint(ReadStore.Utc(r, 0), r.GetInt64(1), r.GetInt64(2), ReadStore.Number(r, 3), ReadStore.Number(r, 4)),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One run's record, with its neighbours in the list order under the same parameters; null if unknown.</summary>
    public async Task<RunRecord?> RecordAsync(string runId, ListRequest request, CancellationToken cancellationToken)
    {
        var lookup = new SqlWhere();
        lookup.Add(LogQueries.OfRun(lookup, runId, request.Script));
        var found = await store.ListAsync(
            $"SELECT {Columns}, input, output, {request.Sort.Column.Sql} FROM runs WHERE {lookup}", lookup.Parameters,
            r => (Run: Map(r), Input: ReadStore.Text(r, 11), Output: ReadStore.Text(r, 12), Sort: r.IsDBNull(13) ? null : r.GetValue(13)),
            cancellationToken).ConfigureAwait(false);
        if (found.Count == 0)
        {
            return null;
        }

        var (run, input, output, sortValue) = found[0];
        var position = new Cursor(sortValue, run.RunId);
        var logs = await LogQueries.OfRunAsync(store, run.RunId, request.Script, cancellationToken).ConfigureAwait(false);
        var spans = await store.ListAsync(
            $"""
            SELECT trace_id, span_id, parent_span_id, name, kind, start_time, end_time, duration_ms, status_code, status_message, attributes
            FROM spans WHERE {lookup} ORDER BY start_time, span_id
            """,
            lookup.Parameters,
            r => new SpanView(r.GetString(0), r.GetString(1), ReadStore.Text(r, 2), r.GetString(3), r.GetInt32(4), ReadStore.Utc(r, 5), ReadStore.Utc(r, 6),
                r.GetDouble(7), r.GetInt32(8), ReadStore.Text(r, 9), ReadStore.Text(r, 10) is { } json ? JsonNode.Parse(json) : null),
            cancellationToken).ConfigureAwait(false);
        var previous = await NeighbourAsync(request, position, forward: false, cancellationToken).ConfigureAwait(false);
        var next = await NeighbourAsync(request, position, forward: true, cancellationToken).ConfigureAwait(false);
        return new RunRecord(run, Json(input), Json(output), logs, spans, previous, next);
    }

    private async Task<string?> NeighbourAsync(ListRequest request, Cursor position, bool forward, CancellationToken cancellationToken)
    {
        var where = SqlWhere.For(request, Set, afterCursor: false);
        where.Add(where.After(request.Sort, Set.Key, position, forward));
        var rows = await store.ListAsync(
            $"SELECT run_id FROM runs WHERE {where} {SqlWhere.OrderBy(request.Sort, Set.Key, reverse: !forward)} LIMIT 1",
            where.Parameters, r => r.GetString(0), cancellationToken).ConfigureAwait(false);
        return rows.FirstOrDefault();
    }

    private async Task<long> CountAsync(ListRequest request, CancellationToken cancellationToken)
    {
        var where = SqlWhere.For(request, Set, afterCursor: false);
        var rows = await store.ListAsync($"SELECT count(*) FROM runs WHERE {where}", where.Parameters, r => r.GetInt64(0), cancellationToken).ConfigureAwait(false);
        return rows.Single();
    }

    /// <summary>Input and output as parsed JSON when they are JSON, else as the text that was sent.</summary>
    private static object? Json(string? text)
    {
        if (text is null)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return text;
        }
    }

    private static RunView Map(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), ReadStore.Integer(r, 3), ReadStore.Text(r, 4), ReadStore.Number(r, 5),
        ReadStore.Text(r, 6), ReadStore.Utc(r, 7), ReadStore.Text(r, 8), ReadStore.Text(r, 9), ReadStore.Text(r, 10));
}
