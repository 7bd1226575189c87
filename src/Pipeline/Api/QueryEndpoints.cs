using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Pipeline.Query;
using Pipeline.Storage;

namespace Pipeline.Api;

/// <summary>A refusal: the message names what was wrong.</summary>
public sealed record ApiError(string Error);

/// <summary>The body of <c>POST /api/sql</c>.</summary>
public sealed record SqlRequest(string? Sql);

/// <summary>
/// The query API: every question of the monitoring page, over HTTP. Handlers parse parameters, call a query, answer;
/// the SQL lives in <see cref="RunQueries"/> and <see cref="LogQueries"/>.
/// </summary>
internal static class QueryEndpoints
{
    public static IEndpointRouteBuilder MapQueryApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").AddEndpointFilter(async (context, next) =>
        {
            try
            {
                return await next(context).ConfigureAwait(false);
            }
            catch (QueryException ex)
            {
                return TypedResults.BadRequest(new ApiError(ex.Message));
            }
        });

        api.MapGet("/scripts", (RunQueries runs, CancellationToken ct) => runs.ScriptsAsync(ct))
            .WithSummary("Scripts that have run: the script dropdown.");
        api.MapGet("/runs", ([AsParameters] ListParameters p, HttpContext http, RunQueries runs, CancellationToken ct) => runs.ListAsync(Runs(http, p), ct))
            .WithSummary("All Runs: a page of runs, newest first by default; keyset pagination with nextCursor.");
        api.MapGet("/runs/summary", ([AsParameters] ListParameters p, HttpContext http, RunQueries runs, CancellationToken ct) => runs.SummaryAsync(Runs(http, p), ct))
            .WithSummary("Total runs, failed and in-progress runs, failure rate (% of completed runs), P90/P99 response time.");
        api.MapGet("/runs/trend", ([AsParameters] ListParameters p, string? bucket, HttpContext http, RunQueries runs, CancellationToken ct) => runs.TrendAsync(Runs(http, p), bucket, ct))
            .WithSummary("Runs, failures and P90/P99 per hour or day (bucket=hour|day), empty buckets included.");
        api.MapGet("/runs/export", ([AsParameters] ListParameters p, string? format, HttpContext http, Exports exports, CancellationToken ct) => ExportAsync(exports, "runs", format, Runs(http, p), ct))
            .WithSummary("The runs of the list as <script>_runs_data.csv or .parquet (format=csv|parquet).");
        api.MapGet("/runs/{runId}", async Task<Results<Ok<RunRecord>, NotFound<ApiError>>> (string runId, [AsParameters] ListParameters p, HttpContext http, RunQueries runs, CancellationToken ct) =>
            await runs.RecordAsync(runId, Runs(http, p), ct).ConfigureAwait(false) is { } record
                ? TypedResults.Ok(record)
                : TypedResults.NotFound(new ApiError($"no run '{runId}'")))
            .WithSummary("Record view: the run, its input and output, logs (oldest first), trace, and prev/next run in the list order.");
        api.MapGet("/runs/{runId}/logs/stream", (string runId, string? script, HttpContext http, LogStream stream, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken ct) =>
            stream.StreamAsync(runId, script, http.Response, json.Value.SerializerOptions, ct))
            .WithSummary("Server-Sent Events: the run's logs as they arrive; event 'end' when the run completes.");
        api.MapGet("/logs", ([AsParameters] ListParameters p, HttpContext http, LogQueries logs, CancellationToken ct) => logs.ListAsync(Logs(http, p), ct))
            .WithSummary("Logs: a page of logs, newest first by default; runId narrows to one run.");
        api.MapGet("/logs/summary", ([AsParameters] ListParameters p, HttpContext http, LogQueries logs, CancellationToken ct) => logs.SummaryAsync(Logs(http, p), ct))
            .WithSummary("Total logs and the count per level.");
        api.MapGet("/logs/export", ([AsParameters] ListParameters p, string? format, HttpContext http, Exports exports, CancellationToken ct) => ExportAsync(exports, "logs", format, Logs(http, p), ct))
            .WithSummary("The logs of the list as <script>_logs_data.csv or .parquet (format=csv|parquet).");
        api.MapPost("/sql", (SqlRequest request, SqlSandbox sandbox, IOptions<ApiOptions> options, CancellationToken ct) =>
            sandbox.RunAsync(request.Sql, options.Value.SqlMaxRows, options.Value.SqlMaxBytes, options.Value.SqlTimeout, ct))
            .WithSummary("Read-only SQL: one SELECT over the views runs, logs and spans; rows and time limited.");

        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "alive" })).WithSummary("Alive.");
        app.MapGet("/readyz", async Task<Results<Ok<object>, JsonHttpResult<object>>> (WriterService writer, ReadStore store, CancellationToken ct) =>
        {
            var storageAnswers = (await store.ListAsync("SELECT 1", [], r => r.GetInt32(0), ct).ConfigureAwait(false)).Count == 1;
            return writer.IsRunning && storageAnswers
                ? TypedResults.Ok<object>(new { status = "ready" })
                : TypedResults.Json<object>(new { status = "not ready", writerRunning = writer.IsRunning, storageAnswers }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }).WithSummary("Ready: storage open and the writer running.");
        app.MapOpenApi();
        return app;
    }

    /// <summary>Streams the export's file; the file is deleted when the response ends, however it ends.</summary>
    private static async Task<FileStreamHttpResult> ExportAsync(Exports exports, string list, string? format, ListRequest request, CancellationToken cancellationToken)
    {
        var (path, fileName, contentType) = await exports.WriteAsync(list, format, request, cancellationToken).ConfigureAwait(false);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81_920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        return TypedResults.File(stream, contentType, fileName);
    }

    private static ListRequest Runs(HttpContext http, ListParameters parameters) => Parse(http, parameters, ColumnSet.Runs);

    private static ListRequest Logs(HttpContext http, ListParameters parameters) => Parse(http, parameters, ColumnSet.Logs);

    private static ListRequest Parse(HttpContext http, ListParameters parameters, ColumnSet columns)
    {
        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        var maxLimit = http.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value.MaxPageSize;
        return ListRequest.Parse(parameters, columns, now, maxLimit);
    }
}
