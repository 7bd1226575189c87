using System.Runtime.InteropServices;

namespace Pipeline.Query;

/// <summary>
/// Runs a query on a thread of its own at the lowest CPU priority (nice 19, Linux's per-thread priority), so that on a
/// busy machine the scheduler serves ingest first and queries with what is left: a heavy export slows down, ingest
/// does not. DuckDB runs a query on the thread that asks, plus its worker threads (<c>Storage:Threads</c> - 1).
/// Elsewhere than Linux the thread keeps its priority.
/// </summary>
internal static partial class QueryThread
{
    private const int PriorityProcess = 0;
    private const int Lowest = 19;

    public static Task<T> RunAsync<T>(Func<Task<T>> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            Lower();
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

    /// <summary>Lowers the calling thread's CPU priority; true when the system took it.</summary>
    public static bool Lower()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            return SetPriority(PriorityProcess, GetThreadId(), Lowest) == 0;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();
}
