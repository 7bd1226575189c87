using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pipeline.Query;

/// <summary>
/// The record view of one run: the run, its input and output, the first page of its logs (oldest first; further
/// pages from <c>/api/logs</c> with <c>logsNextCursor</c>), the first spans of its trace, and its neighbours.
/// </summary>
public sealed record RunRecord(
    RunView Run, object? Input, object? Output, IReadOnlyList<LogView> Logs, long LogsTotal, string? LogsNextCursor,
    IReadOnlyList<SpanView> Spans, long SpansTotal, string? PrevRunId, string? NextRunId);

/// <summary>A span of the run's trace.</summary>
public sealed record SpanView(string TraceId, string SpanId, string? ParentSpanId, string Name, int Kind, DateTime Start, DateTime End, double DurationMs, int StatusCode, string? StatusMessage, JsonNode? Attributes);

/// <summary>The questions the All Runs tab asks, as SQL over the <c>runs</c> table (in lake mode, the view of that name).</summary>
internal sealed class RunQueries(ReadStore store, LogQueries logQueries, ListColumns lists)
{
    /// <summary>The spans a record view shows at most (oldest start first).</summary>
    public const int MaxSpans = 1000;

    /// <summary>The columns <c>/api/runs/values</c> answers for.</summary>
    public static readonly string[] PickListColumns = ["status", "deploymentVersion", "sourceType", "source", "function", "deploymentId"];

    private const string Columns = "run_id, script, status, deployment_version, deployment_id, response_time_ms, function, executed_on, source_type, source, error";
    private const string FailureRate = "round(100.0 * count(*) FILTER (WHERE status = 'Failed') / NULLIF(count(*) FILTER (WHERE status IN ('Success', 'Failed')), 0), 2)";
    private const string Percentiles = "quantile_cont(response_time_ms, [0.9, 0.99])";

    /// <summary>The fields of a listed run, node included when the rows carry it; then come the cursor's columns.</summary>
    private readonly string _listed = lists.Runs.HasNode ? $"{Columns}, {ColumnSet.NodeName}" : Columns;
    private readonly int _width = lists.Runs.HasNode ? 12 : 11;

    private ColumnSet Set { get; } = lists.Runs;

    public async Task<IReadOnlyList<ScriptView>> ScriptsAsync(CancellationToken cancellationToken) =>
        await store.ListAsync(
            "SELECT script, count(*), max(executed_on) FROM runs GROUP BY script ORDER BY script", [],
            r => new ScriptView(r.GetString(0), r.GetInt64(1), ReadStore.Utc(r, 2)), cancellationToken).ConfigureAwait(false);

    public async Task<Page<RunView>> ListAsync(ListRequest request, CancellationToken cancellationToken)
    {
        var where = SqlWhere.For(request, Set, afterCursor: true);
        var rows = await store.ListAsync(
            $"SELECT {_listed}, {Cursor.Columns(request.Sort, Set)} FROM {where.From} WHERE {where} {SqlWhere.OrderBy(request.Sort, Set)} LIMIT {request.Limit + 1}",
            where.Parameters, r => (Run: Map(r), Position: Cursor.Read(r, _width, Set)), cancellationToken).ConfigureAwait(false);
        var total = await CountAsync(request, cancellationToken).ConfigureAwait(false);
        var next = rows.Count > request.Limit ? rows[request.Limit - 1].Position.Encode() : null;
        return new Page<RunView>(rows.Take(request.Limit).Select(r => r.Run).ToList(), next, total);
    }

    public async Task<RunSummary> SummaryAsync(ListRequest request, CancellationToken cancellationToken)
    {
        var where = SqlWhere.For(request, Set, afterCursor: false);
        var rows = await store.ListAsync(
            $"""
            SELECT count(*), count(*) FILTER (WHERE status = 'Failed'), count(*) FILTER (WHERE status = 'In Progress'),
                   {FailureRate}, {Percentiles}, min(executed_on), max(executed_on)
            FROM {where.From} WHERE {where}
            """,
            where.Parameters,
            r =>
            {
                var (p90, p99) = ReadStore.Pair(r, 4);
                return new RunSummary(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), ReadStore.Number(r, 3), p90, p99, ReadStore.UtcOrNull(r, 5), ReadStore.UtcOrNull(r, 6));
            },
            cancellationToken).ConfigureAwait(false);
        return rows.Single();
    }

    /// <summary>
    /// Runs per hour or day, empty buckets included, over the period narrowed to the list's first and last run
    /// (<see cref="Buckets"/>); with the bucket used.
    /// </summary>
    public async Task<(string Bucket, IReadOnlyList<TrendPoint> Points)> TrendAsync(ListRequest request, string? bucket, CancellationToken cancellationToken)
    {
        Buckets.Check(bucket);
        var bounds = SqlWhere.For(request, Set, afterCursor: false);
        var (first, last) = (await store.ListAsync(
            $"SELECT min(executed_on), max(executed_on) FROM {bounds.From} WHERE {bounds}", bounds.Parameters,
            r => (ReadStore.UtcOrNull(r, 0), ReadStore.UtcOrNull(r, 1)), cancellationToken).ConfigureAwait(false)).Single();
        var buckets = Buckets.Plan(request, bucket, first, last);
        if (first is null)
        {
            return (buckets.Unit, []);
        }

        var where = SqlWhere.For(request, Set, afterCursor: false);
        var counted = await store.ListAsync(
            $"""
            SELECT (epoch_us(executed_on) - {where.Param(buckets.FromMicroseconds)}) // {where.Param(buckets.StepMicroseconds)},
                   count(*), count(*) FILTER (WHERE status = 'Failed'), {Percentiles}
            FROM {where.From} WHERE {where} GROUP BY 1
            """,
            where.Parameters,
            r =>
            {
                var (p90, p99) = ReadStore.Pair(r, 3);
                return (Index: r.GetInt64(0), Runs: r.GetInt64(1), Failed: r.GetInt64(2), P90: p90, P99: p99);
            },
            cancellationToken).ConfigureAwait(false);
        var byIndex = counted.ToDictionary(c => c.Index);
        return (buckets.Unit, buckets.Starts.Select((start, i) => byIndex.TryGetValue(i, out var c)
            ? new TrendPoint(start, c.Runs, c.Failed, c.P90, c.P99)
            : new TrendPoint(start, 0, 0, null, null)).ToList());
    }

    /// <summary>The values of a pick-list column in the period (filter and search aside).</summary>
    public Task<ColumnValues> ValuesAsync(ListRequest request, string? column, CancellationToken cancellationToken) =>
        PickLists.ValuesAsync(store, Set, PickListColumns, request, column, cancellationToken);

    /// <summary>
    /// The list's runs per deployment version, oldest version first (the runs without one last), each compared with
    /// the version before it in the list: one query, the comparison by window functions.
    /// </summary>
    public async Task<IReadOnlyList<VersionStats>> VersionsAsync(ListRequest request, CancellationToken cancellationToken)
    {
        var where = SqlWhere.For(request, Set, afterCursor: false);
        return await store.ListAsync(
            $"""
            WITH versions AS (
                SELECT deployment_version AS version, count(*) AS runs, count(*) FILTER (WHERE status = 'Failed') AS failed,
                       {FailureRate} AS rate, {Percentiles} AS q, min(executed_on) AS first_run, max(executed_on) AS last_run
                FROM {where.From} WHERE {where} GROUP BY deployment_version
            ),
            compared AS (
                SELECT *, lag(version) OVER w AS previous, lag(rate) OVER w AS previous_rate, lag(q) OVER w AS previous_q
                FROM versions WHERE version IS NOT NULL WINDOW w AS (ORDER BY version)
                UNION ALL
                SELECT *, NULL, NULL, NULL FROM versions WHERE version IS NULL
            )
            SELECT version, runs, failed, rate, q, first_run, last_run, previous,
                   round(rate - previous_rate, 2), round(q[1] / NULLIF(previous_q[1], 0) - 1, 4), round(q[2] / NULLIF(previous_q[2], 0) - 1, 4)
            FROM compared ORDER BY version NULLS LAST
            """,
            where.Parameters,
            r =>
            {
                var (p90, p99) = ReadStore.Pair(r, 4);
                return new VersionStats(
                    ReadStore.Integer(r, 0), r.GetInt64(1), r.GetInt64(2), ReadStore.Number(r, 3), p90, p99, ReadStore.Utc(r, 5), ReadStore.Utc(r, 6),
                    ReadStore.Integer(r, 7), ReadStore.Number(r, 8), ReadStore.Number(r, 9), ReadStore.Number(r, 10));
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The list's failed runs grouped by <see cref="ErrorGroups"/>, most frequent first, at most the request's limit;
    /// each with its latest message as it was. One query, one pass: the normalisation runs once per failed run, in
    /// parallel. (Grouping the distinct messages first would rewrite fewer texts, but DuckDB then rewrites them on one
    /// thread, after the first aggregate: slower. And any condition on the group, even after grouping, is pushed below
    /// it and runs the expressions a second time: the empty group of messages of whitespace only is left out here.)
    /// </summary>
    public async Task<IReadOnlyList<ErrorGroupStats>> ErrorsAsync(ListRequest request, CancellationToken cancellationToken)
    {
        var where = SqlWhere.For(request, Set, afterCursor: false);
        where.Add("status = 'Failed' AND error IS NOT NULL");
        var groups = await store.ListAsync(
            $"""
            SELECT error_group, arg_max(error, executed_on), count(*), min(executed_on), max(executed_on)
            FROM (SELECT {ErrorGroups.Sql} AS error_group, error, executed_on FROM {where.From} WHERE {where})
            GROUP BY error_group ORDER BY count(*) DESC, error_group LIMIT {request.Limit + 1}
            """,
            where.Parameters,
            r => new ErrorGroupStats(r.GetString(0), r.GetString(1), r.GetInt64(2), ReadStore.Utc(r, 3), ReadStore.Utc(r, 4)),
            cancellationToken).ConfigureAwait(false);
        return groups.Where(g => g.Group.Length > 0).Take(request.Limit).ToList();
    }

    /// <summary>
    /// One run's record, with its neighbours in the list order under the same parameters; null if unknown. Its logs
    /// are the first <paramref name="logsLimit"/>, read within the run's log window (<see cref="LogQueries.PageAsync"/>).
    /// </summary>
    public async Task<RunRecord?> RecordAsync(string runId, ListRequest request, int logsLimit, CancellationToken cancellationToken)
    {
        var lookup = new SqlWhere();
        lookup.Add(LogQueries.OfRun(lookup, runId, request.Script));
        var found = await store.ListAsync(
            $"SELECT {_listed}, input, output, log_window_start, log_window_end, {Cursor.Columns(request.Sort, Set)} FROM runs WHERE {lookup}", lookup.Parameters,
            r => (Run: Map(r), Input: ReadStore.Text(r, _width), Output: ReadStore.Text(r, _width + 1),
                Window: r.IsDBNull(_width + 2) || r.IsDBNull(_width + 3) ? ((DateTime Start, DateTime End)?)null : (ReadStore.Utc(r, _width + 2), ReadStore.Utc(r, _width + 3)),
                Position: Cursor.Read(r, _width + 4, Set)),
            cancellationToken).ConfigureAwait(false);
        if (found.Count == 0)
        {
            return null;
        }

        var (run, input, output, window, position) = found[0];
        var logs = window is { } w
            ? await logQueries.PageAsync(
                new ListRequest(request.Script, w.Start, w.End, null, null, logsLimit, new Sort(lists.Logs.Time, Descending: false), null, run.RunId),
                cancellationToken).ConfigureAwait(false)
            : new Page<LogView>([], null, 0);
        var spans = await store.ListAsync(
            $"""
            SELECT trace_id, span_id, parent_span_id, name, kind, start_time, end_time, duration_ms, status_code, status_message, attributes, count(*) OVER ()
            FROM spans WHERE {lookup} ORDER BY start_time, span_id LIMIT {MaxSpans}
            """,
            lookup.Parameters,
            r => (Span: new SpanView(r.GetString(0), r.GetString(1), ReadStore.Text(r, 2), r.GetString(3), r.GetInt32(4), ReadStore.Utc(r, 5), ReadStore.Utc(r, 6),
                r.GetDouble(7), r.GetInt32(8), ReadStore.Text(r, 9), ReadStore.Text(r, 10) is { } json ? JsonNode.Parse(json) : null), Total: r.GetInt64(11)),
            cancellationToken).ConfigureAwait(false);
        var previous = await NeighbourAsync(request, position, forward: false, cancellationToken).ConfigureAwait(false);
        var next = await NeighbourAsync(request, position, forward: true, cancellationToken).ConfigureAwait(false);
        return new RunRecord(
            run, Json(input), Json(output), logs.Items, logs.Total, logs.NextCursor,
            spans.Select(s => s.Span).ToList(), spans.Count == 0 ? 0 : spans[0].Total, previous, next);
    }

    private async Task<string?> NeighbourAsync(ListRequest request, Cursor position, bool forward, CancellationToken cancellationToken)
    {
        var where = SqlWhere.For(request, Set, afterCursor: false);
        where.Add(where.After(request.Sort, Set, position, forward));
        var rows = await store.ListAsync(
            $"SELECT run_id FROM {where.From} WHERE {where} {SqlWhere.OrderBy(request.Sort, Set, reverse: !forward)} LIMIT 1",
            where.Parameters, r => r.GetString(0), cancellationToken).ConfigureAwait(false);
        return rows.FirstOrDefault();
    }

    private async Task<long> CountAsync(ListRequest request, CancellationToken cancellationToken)
    {
        var where = SqlWhere.For(request, Set, afterCursor: false);
        var rows = await store.ListAsync($"SELECT count(*) FROM {where.From} WHERE {where}", where.Parameters, r => r.GetInt64(0), cancellationToken).ConfigureAwait(false);
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

    private RunView Map(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), ReadStore.Integer(r, 3), ReadStore.Text(r, 4), ReadStore.Number(r, 5),
        ReadStore.Text(r, 6), ReadStore.Utc(r, 7), ReadStore.Text(r, 8), ReadStore.Text(r, 9), ReadStore.Text(r, 10),
        Set.HasNode ? ReadStore.Text(r, 11) : null);
}
