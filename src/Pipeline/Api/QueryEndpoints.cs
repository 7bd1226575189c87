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

        api.MapGet("/scripts", (RunQueries runs, CancellationToken ct) => runs.ScriptsAsync(ct));
        api.MapGet("/runs", (HttpContext http, RunQueries runs, CancellationToken ct) => runs.ListAsync(Runs(http), ct));
        api.MapGet("/runs/summary", (HttpContext http, RunQueries runs, CancellationToken ct) => runs.SummaryAsync(Runs(http), ct));
        api.MapGet("/runs/trend", (HttpContext http, RunQueries runs, string? bucket, CancellationToken ct) => runs.TrendAsync(Runs(http), bucket, ct));
        api.MapGet("/runs/{runId}", async Task<Results<Ok<RunRecord>, NotFound<ApiError>>> (string runId, HttpContext http, RunQueries runs, CancellationToken ct) =>
            await runs.RecordAsync(runId, Runs(http), ct).ConfigureAwait(false) is { } record
                ? TypedResults.Ok(record)
                : TypedResults.NotFound(new ApiError($"no run '{runId}'")));
        api.MapGet("/logs", (HttpContext http, LogQueries logs, CancellationToken ct) => logs.ListAsync(Logs(http), ct));
        api.MapGet("/logs/summary", (HttpContext http, LogQueries logs, CancellationToken ct) => logs.SummaryAsync(Logs(http), ct));

        api.MapGet("/runs/export", (HttpContext http, Exports exports, string? format, CancellationToken ct) => ExportAsync(exports, "runs", format, Runs(http), ct));
        api.MapGet("/logs/export", (HttpContext http, Exports exports, string? format, CancellationToken ct) => ExportAsync(exports, "logs", format, Logs(http), ct));
        api.MapPost("/sql", (SqlRequest request, SqlSandbox sandbox, IOptions<ApiOptions> options, CancellationToken ct) =>
            sandbox.RunAsync(request.Sql, options.Value.SqlMaxRows, options.Value.SqlTimeout, ct));

        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "alive" }));
        app.MapGet("/readyz", async Task<Results<Ok<object>, JsonHttpResult<object>>> (WriterService writer, ReadStore store, CancellationToken ct) =>
        {
            var storageAnswers = (await store.ListAsync("SELECT 1", [], r => r.GetInt32(0), ct).ConfigureAwait(false)).Count == 1;
            return writer.IsRunning && storageAnswers
                ? TypedResults.Ok<object>(new { status = "ready" })
                : TypedResults.Json<object>(new { status = "not ready", writerRunning = writer.IsRunning, storageAnswers }, statusCode: StatusCodes.Status503ServiceUnavailable);
        });
        return app;
    }

    /// <summary>Streams the export's file; the file is deleted when the response ends, however it ends.</summary>
    private static async Task<FileStreamHttpResult> ExportAsync(Exports exports, string list, string? format, ListRequest request, CancellationToken cancellationToken)
    {
        var (path, fileName, contentType) = await exports.WriteAsync(list, format, request, cancellationToken).ConfigureAwait(false);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81_920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        return TypedResults.File(stream, contentType, fileName);
    }

    private static ListRequest Runs(HttpContext http) => Parse(http, ColumnSet.Runs);

    private static ListRequest Logs(HttpContext http) => Parse(http, ColumnSet.Logs);

    private static ListRequest Parse(HttpContext http, ColumnSet columns)
    {
        var query = http.Request.Query;
        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        var maxLimit = http.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value.MaxPageSize;
        return ListRequest.Parse(name => query.TryGetValue(name, out var value) ? value.ToString() : null, columns, now, maxLimit);
    }
}
