using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Pipeline.Query;
using Pipeline.Security;
using Pipeline.Storage;

namespace Pipeline.Api;

/// <summary>A refusal: the message names what was wrong.</summary>
public sealed record ApiError(string Error);

/// <summary>A script the request's token does not reach: answered 404, as if it did not exist.</summary>
internal sealed class ScriptOutOfScopeException(string message) : Exception(message);

/// <summary>The body of <c>POST /api/sql</c>.</summary>
public sealed record SqlRequest(string? Sql);

/// <summary>
/// The query API: every question of the monitoring page, over HTTP. Handlers parse parameters, call a query, answer;
/// the SQL lives in <see cref="RunQueries"/> and <see cref="LogQueries"/>.
/// </summary>
internal static class QueryEndpoints
{
    /// <summary>The record view's logs when <c>logsLimit</c> is not given.</summary>
    private const int DefaultLogsLimit = 200;

    public static IEndpointRouteBuilder MapQueryApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").AddEndpointFilter(async (context, next) =>
        {
            try
            {
                return await next(context).ConfigureAwait(false);
            }
            catch (Exception ex) when (Refusal(context.HttpContext, ex) is { } refusal)
            {
                return refusal;
            }
        });

        api.MapGet("/scripts", async (HttpContext http, RunQueries runs, CancellationToken ct) =>
                (await runs.ScriptsAsync(ct).ConfigureAwait(false)).Where(s => http.Scope().Allows(s.Name)).ToList())
            .WithSummary("Scripts that have run (those the token reaches): the script dropdown.");
        api.MapGet("/runs", ([AsParameters] ListParameters p, HttpContext http, RunQueries runs, CancellationToken ct) => runs.ListAsync(Runs(http, p), ct))
            .WithSummary("All Runs: a page of runs, newest first by default; keyset pagination with nextCursor.");
        api.MapGet("/runs/summary", ([AsParameters] ListParameters p, HttpContext http, RunQueries runs, CancellationToken ct) => runs.SummaryAsync(Runs(http, p), ct))
            .WithSummary("Total runs, failed and in-progress runs, failure rate (% of completed runs), P90/P99 response time, first and last run.");
        api.MapGet("/runs/trend", async ([AsParameters] ListParameters p, string? bucket, HttpContext http, RunQueries runs, CancellationToken ct) =>
                Bucketed(http, await runs.TrendAsync(Runs(http, p), bucket, ct).ConfigureAwait(false)))
            .WithSummary("Runs, failures and P90/P99 per hour or day (bucket=hour|day; by default hour up to 72 h of data), empty buckets included, from the list's first to its last run; the bucket used in X-Bucket.");
        api.MapGet("/runs/values", ([AsParameters] ListParameters p, string? column, HttpContext http, RunQueries runs, CancellationToken ct) => runs.ValuesAsync(Runs(http, p), column, ct))
            .WithSummary("A filter's pick list: the values of a column (status, deploymentVersion, sourceType, source, function, deploymentId) in the period, most frequent first, at most 200.");
        api.MapGet("/runs/versions", ([AsParameters] ListParameters p, HttpContext http, RunQueries runs, CancellationToken ct) => runs.VersionsAsync(Runs(http, p), ct))
            .WithSummary("Deploy comparison: the list's runs per deployment version, with failure rate and P90/P99 and their change from the version before.");
        api.MapGet("/runs/errors", ([AsParameters] ListParameters p, HttpContext http, RunQueries runs, CancellationToken ct) => runs.ErrorsAsync(Runs(http, p), ct))
            .WithSummary("Top errors: the list's failed runs grouped by their normalised error message (filter column errorGroup), most frequent first, at most limit.");
        api.MapGet("/runs/export", ([AsParameters] ListParameters p, string? format, HttpContext http, Exports exports, CancellationToken ct) => ExportAsync(http, exports, "runs", format, Runs(http, p), ct))
            .WithSummary("The runs of the list as <script>_runs_data.csv or .parquet (format=csv|parquet).");
        api.MapGet("/runs/{runId}", async Task<Results<Ok<RunRecord>, NotFound<ApiError>>> (string runId, [AsParameters] ListParameters p, string? logsLimit, HttpContext http, RunQueries runs, CancellationToken ct) =>
            await runs.RecordAsync(runId, Runs(http, p), LogsLimit(http, logsLimit), ct).ConfigureAwait(false) is { } record
                ? TypedResults.Ok(record)
                : TypedResults.NotFound(new ApiError($"no run '{runId}'")))
            .WithSummary("Record view: the run, its input and output, the first page of its logs (oldest first, logsLimit of them, logsTotal, logsNextCursor for /api/logs), its first 1000 spans, and prev/next run in the list order.");
        api.MapGet("/runs/{runId}/logs/stream", (string runId, string? script, HttpContext http, LogStream stream, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken ct) =>
            stream.StreamAsync(runId, script, http.Scope(), http.StillAuthorized(), http.Response, json.Value.SerializerOptions, ct))
            .WithSummary("Server-Sent Events: the run's logs as they arrive; event 'end' when the run completes.");
        api.MapGet("/logs", ([AsParameters] ListParameters p, HttpContext http, LogQueries logs, CancellationToken ct) => logs.ListAsync(Logs(http, p), ct))
            .WithSummary("Logs: a page of logs, newest first by default; runId narrows to one run (all its logs when from and to are not given).");
        api.MapGet("/logs/summary", ([AsParameters] ListParameters p, HttpContext http, LogQueries logs, CancellationToken ct) => logs.SummaryAsync(Logs(http, p), ct))
            .WithSummary("Total logs, the count per level, and the first and last log.");
        api.MapGet("/logs/trend", async ([AsParameters] ListParameters p, string? bucket, HttpContext http, LogQueries logs, CancellationToken ct) =>
                Bucketed(http, await logs.TrendAsync(Logs(http, p), bucket, ct).ConfigureAwait(false)))
            .WithSummary("Logs per level and hour or day (bucket=hour|day; by default hour up to 72 h of data), empty buckets included, from the list's first to its last log; the bucket used in X-Bucket.");
        api.MapGet("/logs/values", ([AsParameters] ListParameters p, string? column, HttpContext http, LogQueries logs, CancellationToken ct) => logs.ValuesAsync(Logs(http, p), column, ct))
            .WithSummary("A filter's pick list: the values of a column (level) in the period, most frequent first, at most 200.");
        api.MapGet("/logs/export", ([AsParameters] ListParameters p, string? format, HttpContext http, Exports exports, CancellationToken ct) => ExportAsync(http, exports, "logs", format, Logs(http, p), ct))
            .WithSummary("The logs of the list as <script>_logs_data.csv or .parquet (format=csv|parquet).");
        api.MapPost("/backup", BackupAsync)
            .WithSummary("An online backup: a DuckDB file holding the whole store as of one instant, written while ingest goes on (a read token for all scripts).");
        api.MapPost("/sql", async (SqlRequest request, HttpContext http, SqlSandbox sandbox, QueryAdmission admission, IOptions<ApiOptions> options, CancellationToken ct) =>
            {
                var started = Stopwatch.GetTimestamp();
                var limit = options.Value.SqlTimeout;
                var lease = await admission.EnterAsync(QueryKind.Sql, limit, ct).ConfigureAwait(false);
                var result = await Deadline.RunAsync(
                    token => sandbox.RunAsync(request.Sql, http.Scope(), options.Value.SqlMaxRows, options.Value.SqlMaxBytes, token),
                    limit - Stopwatch.GetElapsedTime(started),
                    "the query",
                    lease,
                    ct).ConfigureAwait(false);
                lease.Dispose(); // On a failure Deadline gives it back, once DuckDB has stopped.
                return result;
            })
            .WithSummary("Read-only SQL: one SELECT over the views runs, logs and spans; rows, bytes, time and concurrency limited.");

        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "alive" })).WithSummary("Alive.");
        app.MapGet("/readyz", async Task<Results<Ok<object>, JsonHttpResult<object>>> (Hosting.Readiness readiness, ReadStore store, CancellationToken ct) =>
        {
            var reason = readiness.Reason() ?? await store.ProbeAsync(ct).ConfigureAwait(false);
            return reason is null
                ? TypedResults.Ok<object>(new { status = "ready" })
                : TypedResults.Json<object>(new { status = "not ready", reason }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }).WithSummary("Ready: storage open, the writer running, and the last commit (or probe of the store) succeeded (lake mode: the lake's folder there and its views answering); 503 with the reason otherwise.");
        app.MapOpenApi();
        return app;
    }

    /// <summary>
    /// Streams the export's file; the file is deleted when the response ends, however it ends. The export holds its
    /// slot until then, and <see cref="ApiOptions.ExportTimeout"/> covers the writing and the download: a download
    /// still going at the limit is cut.
    /// </summary>
    private static async Task<FileStreamHttpResult> ExportAsync(HttpContext http, Exports exports, string list, string? format, ListRequest request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var limit = http.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value.ExportTimeout;
        Exports.Format(format); // A request refused for its own sake never waits for a slot.
        var lease = await http.RequestServices.GetRequiredService<QueryAdmission>().EnterAsync(QueryKind.Export, limit, cancellationToken).ConfigureAwait(false);
        var (path, fileName, contentType) = await exports.WriteAsync(list, format, request, limit - Stopwatch.GetElapsedTime(started), lease, cancellationToken).ConfigureAwait(false);
        return Download(http, path, fileName, contentType, lease, limit - Stopwatch.GetElapsedTime(started));
    }

    /// <summary>
    /// The backup, streamed as <c>pipeline-&lt;instant&gt;.duckdb</c> and removed when the response ends; it holds
    /// every script, so a token limited to scripts is refused. <see cref="ApiOptions.BackupTimeout"/> covers the copy and
    /// the download.
    /// </summary>
    private static async Task<IResult> BackupAsync(HttpContext http, Backups backups, QueryAdmission admission, IOptions<ApiOptions> options, TimeProvider clock, Hosting.PipelineMode mode, CancellationToken cancellationToken)
    {
        if (mode.IsLake)
        {
            return TypedResults.BadRequest(new ApiError("a daemon in lake mode (Mode=lake) has no store to back up: its data are the lake's Parquet files (Lake:Path); back those up, or ask a store daemon"));
        }

        if (!http.Scope().IsAll)
        {
            return TypedResults.Json(new ApiError("a backup holds every script: it needs a read token for all scripts"), statusCode: StatusCodes.Status403Forbidden);
        }

        var started = Stopwatch.GetTimestamp();
        var limit = options.Value.BackupTimeout;
        var lease = await admission.EnterAsync(QueryKind.Export, limit, cancellationToken).ConfigureAwait(false);
        var path = await backups.WriteAsync(limit - Stopwatch.GetElapsedTime(started), lease, cancellationToken).ConfigureAwait(false);
        var name = $"pipeline-{clock.GetUtcNow().UtcDateTime:yyyyMMdd'T'HHmmss'Z'}.duckdb";
        return Download(http, path, name, "application/octet-stream", lease, limit - Stopwatch.GetElapsedTime(started));
    }

    /// <summary>Streams a file written for this request, deleting it when the response ends; the download is cut at <paramref name="remaining"/>.</summary>
    private static FileStreamHttpResult Download(HttpContext http, string path, string fileName, string contentType, IDisposable lease, TimeSpan remaining)
    {
        http.Response.RegisterForDispose(lease);
        var download = new CancellationTokenSource(TimeSpan.FromTicks(Math.Max(1, remaining.Ticks)));
        download.Token.Register(http.Abort);
        http.Response.RegisterForDispose(download);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81_920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        return TypedResults.File(stream, contentType, fileName);
    }

    /// <summary>
    /// The answer to a query that could not be answered: 400 when the request is at fault (the same request would
    /// fail again), 429 with Retry-After when the heavy queries are busy, 503 with Retry-After when the store is
    /// failing. Always with a message; null for an error the server does not know (a 500 with its message).
    /// </summary>
    private static IResult? Refusal(HttpContext http, Exception error)
    {
        if (http.Response.HasStarted)
        {
            return null; // A stream already under way (the live tail) cannot change its answer; it ends.
        }

        switch (error)
        {
            case QueryException or QueryTimeoutException:
                return TypedResults.BadRequest(new ApiError(error.Message));
            case ScriptOutOfScopeException:
                return TypedResults.NotFound(new ApiError(error.Message));
            case QueryBusyException busy:
                http.Response.Headers.RetryAfter = Math.Ceiling(busy.RetryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return TypedResults.Json(new ApiError(busy.Message), statusCode: StatusCodes.Status429TooManyRequests);
            case StoreRestartingException or DuckDB.NET.Data.DuckDBException { ErrorType: DuckDB.NET.Native.DuckDBErrorType.Interrupt }:
            case OperationCanceledException when !http.RequestAborted.IsCancellationRequested:
                http.Response.Headers.RetryAfter = RetryAfter(http);
                return TypedResults.Json(
                    new ApiError(error is StoreRestartingException ? error.Message
                        : "the query was stopped to let ingest commit: it needed DuckDB's memory (Storage:MemoryLimit), or storage is being opened afresh; ask again in a moment"),
                    statusCode: StatusCodes.Status503ServiceUnavailable);
            case DuckDB.NET.Data.DuckDBException { ErrorType: DuckDB.NET.Native.DuckDBErrorType.OutOfMemory } duck:
                return TypedResults.BadRequest(new ApiError(
                    $"the query needs more memory than Storage:MemoryLimit and more spill space than Storage:MaxTempBytes allow; narrow it ({StorageFailure.Describe(duck)})"));
            case DuckDB.NET.Data.DuckDBException duck when StorageFailure.Classify(duck) != StorageFailureKind.Rows:
                http.Response.Headers.RetryAfter = RetryAfter(http);
                return TypedResults.Json(new ApiError($"storage is failing: {StorageFailure.Describe(duck)}"), statusCode: StatusCodes.Status503ServiceUnavailable);
            case DuckDB.NET.Data.DuckDBException duck:
                return TypedResults.Json(new ApiError($"the query failed: {StorageFailure.Describe(duck)}"), statusCode: StatusCodes.Status500InternalServerError);
            default:
                return null;
        }
    }

    private static string RetryAfter(HttpContext http) => Math.Ceiling(
        http.RequestServices.GetRequiredService<IOptions<Buffering.ChannelOptions>>().Value.RetryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A trend's points, with the bucket they were counted in as the header X-Bucket.</summary>
    private static IReadOnlyList<T> Bucketed<T>(HttpContext http, (string Bucket, IReadOnlyList<T> Points) trend)
    {
        http.Response.Headers["X-Bucket"] = trend.Bucket;
        return trend.Points;
    }

    /// <summary>The record view's page of logs: 200 by default, at most Api:MaxPageSize.</summary>
    private static int LogsLimit(HttpContext http, string? text)
    {
        var max = http.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value.MaxPageSize;
        if (string.IsNullOrEmpty(text))
        {
            return Math.Min(DefaultLogsLimit, max);
        }

        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var limit) && limit >= 1 && limit <= max
            ? limit
            : throw new QueryException($"logsLimit must be a whole number from 1 to {max} (got '{text}')");
    }

    private static ListRequest Runs(HttpContext http, ListParameters parameters) => Parse(http, parameters, http.RequestServices.GetRequiredService<ListColumns>().Runs);

    private static ListRequest Logs(HttpContext http, ListParameters parameters) => Parse(http, parameters, http.RequestServices.GetRequiredService<ListColumns>().Logs);

    private static ListRequest Parse(HttpContext http, ListParameters parameters, ColumnSet columns)
    {
        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        var maxLimit = http.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value.MaxPageSize;
        var request = ListRequest.Parse(parameters, columns, now, maxLimit);

        // A script the token does not reach is answered as one that does not exist, whatever the question.
        return http.Scope().Allows(request.Script) ? request : throw new ScriptOutOfScopeException($"no script '{request.Script}'");
    }
}
