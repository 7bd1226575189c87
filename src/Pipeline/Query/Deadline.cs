namespace Pipeline.Query;

/// <summary>
/// Runs a query with a time limit that holds for its answer: the work runs off the request, on a thread of lower
/// priority (<see cref="QueryThread"/>), DuckDB is interrupted when the limit passes, and the request is answered
/// then, whether or not DuckDB has stopped yet.
/// </summary>
internal static class Deadline
{
    /// <summary>
    /// Runs <paramref name="work"/> (given a token that interrupts it at the limit) for at most <paramref name="limit"/>.
    /// On success the caller keeps <paramref name="lease"/>; on a failure, a timeout or an abort the lease is given
    /// back once the work has really ended.
    /// </summary>
    public static async Task<T> RunAsync<T>(
        Func<CancellationToken, Task<T>> work, TimeSpan limit, string what, IDisposable? lease, CancellationToken aborted, Action<T>? abandoned = null)
    {
        if (limit <= TimeSpan.Zero)
        {
            lease?.Dispose();
            throw TimedOut(what, limit);
        }

        // Armed here, not on the query's thread: a thread of low priority may start late, and the interrupt must not.
        var interrupt = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        interrupt.CancelAfter(limit);
        var task = QueryThread.RunAsync(async () =>
        {
            try
            {
                return await work(interrupt.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not QueryException && interrupt.IsCancellationRequested && !aborted.IsCancellationRequested)
            {
                throw TimedOut(what, limit);
            }
            finally
            {
                interrupt.Dispose();
            }
        });

        try
        {
            return await task.WaitAsync(limit, aborted).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The caller has left: give the lease back once the work has ended, and undo a result that came too late.
            _ = task.ContinueWith(
                t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        abandoned?.Invoke(t.Result);
                    }
                    else
                    {
                        _ = t.Exception;
                    }

                    lease?.Dispose();
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            if (ex is TimeoutException)
            {
                throw TimedOut(what, limit);
            }

            throw;
        }
    }

    private static QueryTimeoutException TimedOut(string what, TimeSpan limit) =>
        new($"{what} ran longer than {limit.TotalSeconds:0.#} s and was stopped; narrow the period or the filters");
}

/// <summary>A query stopped at its time limit (answered 400: the same query would be stopped again).</summary>
internal sealed class QueryTimeoutException(string message) : Exception(message);
