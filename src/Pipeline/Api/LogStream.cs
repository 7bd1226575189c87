using System.Text.Json;
using Microsoft.Extensions.Options;
using Pipeline.Query;
using Pipeline.Security;
using Pipeline.Storage;

namespace Pipeline.Api;

/// <summary>
/// <c>GET /api/runs/{runId}/logs/stream</c>: the run's logs as Server-Sent Events, as they are committed, oldest
/// first; <c>event: end</c> once the run is no longer In Progress, <c>event: timeout</c> after
/// <see cref="ApiOptions.StreamMaxDuration"/>. At most <see cref="ApiOptions.MaxStreams"/> streams at once.
/// </summary>
internal sealed class LogStream(LogQueries logs, CommitFeed feed, TimeProvider clock, IOptions<ApiOptions> options)
{
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);
    private int _open;

    /// <summary>Streams open now.</summary>
    public int Open => Volatile.Read(ref _open);

    public async Task StreamAsync(string runId, string? script, ScriptScope scope, Func<bool> stillAuthorized, HttpResponse response, JsonSerializerOptions json, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _open) > options.Value.MaxStreams)
        {
            Interlocked.Decrement(ref _open);
            await Refuse(response, StatusCodes.Status503ServiceUnavailable, $"{options.Value.MaxStreams} log streams are open already; try again later", json, cancellationToken).ConfigureAwait(false);
            return;
        }

        try
        {
            // Subscribed before the first read, so a commit between the read and the wait is not missed.
            using var subscription = feed.Subscribe(runId);
            var (status, lines) = await logs.RunLogsAsync(runId, script, scope, cancellationToken).ConfigureAwait(false);
            if (status is null)
            {
                await Refuse(response, StatusCodes.Status404NotFound, $"no run '{runId}'", json, cancellationToken).ConfigureAwait(false);
                return;
            }

            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no";
            using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            lifetime.CancelAfter(options.Value.StreamMaxDuration);
            await TailAsync(runId, script, scope, stillAuthorized, status, lines, subscription, response, json, lifetime.Token).ConfigureAwait(false);
            if (lifetime.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                await response.WriteAsync($"event: timeout\ndata: {JsonSerializer.Serialize(new { runId, after = options.Value.StreamMaxDuration.ToString() }, json)}\n\n", cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    private async Task TailAsync(string runId, string? script, ScriptScope scope, Func<bool> stillAuthorized, string status, IReadOnlyList<LogView> lines, CommitFeed.Subscription subscription, HttpResponse response, JsonSerializerOptions json, CancellationToken cancellationToken)
    {
        var sent = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            while (true)
            {
                // Log ids come from scripts: they travel inside the JSON data only, never as an SSE field of their own.
                foreach (var log in lines.Where(l => sent.Add(l.LogId)))
                {
                    await response.WriteAsync($"event: log\ndata: {JsonSerializer.Serialize(log, json)}\n\n", cancellationToken).ConfigureAwait(false);
                }

                if (status != "In Progress")
                {
                    await response.WriteAsync($"event: end\ndata: {JsonSerializer.Serialize(new { runId, status }, json)}\n\n", cancellationToken).ConfigureAwait(false);
                    return;
                }

                await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                wait.CancelAfter(KeepAlive);
                try
                {
                    await subscription.Signals.ReadAsync(wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    await response.WriteAsync($": keep-alive {clock.GetUtcNow():O}\n\n", cancellationToken).ConfigureAwait(false);
                }

                if (!stillAuthorized())
                {
                    // The token was rotated out: the stream ends, and a reconnect is asked for the token again.
                    await response.WriteAsync($"event: unauthorized\ndata: {JsonSerializer.Serialize(new { runId }, json)}\n\n", cancellationToken).ConfigureAwait(false);
                    return;
                }

                var (nowStatus, nowLines) = await logs.RunLogsAsync(runId, script, scope, cancellationToken).ConfigureAwait(false);
                (status, lines) = (nowStatus ?? status, nowLines);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away, or the stream reached its time limit.
        }
    }

    private static async Task Refuse(HttpResponse response, int statusCode, string message, JsonSerializerOptions json, CancellationToken cancellationToken)
    {
        response.StatusCode = statusCode;
        response.ContentType = "application/json";
        await response.WriteAsync(JsonSerializer.Serialize(new ApiError(message), json), cancellationToken).ConfigureAwait(false);
    }
}
