namespace Pipeline.Query;

/// <summary>
/// Runs a query on a thread of its own at a lower CPU priority (<see cref="Hosting.CpuPriority"/>), so that on a busy
/// machine the scheduler serves ingest first: a heavy export slows down, ingest much less. DuckDB runs a query on the thread that asks, plus its worker threads (<c>Storage:Threads</c> - 1).
/// Elsewhere than Linux the thread keeps its priority.
/// </summary>
internal static class QueryThread
{
    public static Task<T> RunAsync<T>(Func<Task<T>> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            Hosting.CpuPriority.LowerCurrent();
            try
            {
                // DuckDB answers synchronously: the whole query runs here, on this thread.
                done.SetResult(work().GetAwaiter().GetResult());
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "pipeline query",
        };
        thread.Start();
        return done.Task;
    }
}
