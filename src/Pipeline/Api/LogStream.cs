using System.Text.Json;
using Pipeline.Query;
using Pipeline.Storage;

namespace Pipeline.Api;

/// <summary>
/// <c>GET /api/runs/{runId}/logs/stream</c>: the run's logs as Server-Sent Events, as they are committed, oldest
/// first; <c>event: end</c> once the run is no longer In Progress. A live tail for korelogger runs.
/// </summary>
internal sealed class LogStream(LogQueries logs, CommitFeed feed, TimeProvider clock)
{
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public async Task StreamAsync(string runId, HttpResponse response, JsonSerializerOptions json, CancellationToken cancellationToken)
    {
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";

        // Subscribed before the first read, so a commit between the read and the wait is not missed.
        using var subscription = feed.Subscribe(runId);
        var sent = new HashSet<string>(StringComparer.Ordinal);
        while (!cancellationToken.IsCancellationRequested)
        {
            var (status, lines) = await logs.RunLogsAsync(runId, cancellationToken).ConfigureAwait(false);
            foreach (var log in lines.Where(l => sent.Add(l.LogId)))
            {
                await response.WriteAsync($"id: {log.LogId}\nevent: log\ndata: {JsonSerializer.Serialize(log, json)}\n\n", cancellationToken).ConfigureAwait(false);
            }

            if (status is not null and not "In Progress")
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
        }
    }
}
