using System.Runtime.InteropServices;

namespace Pipeline.Hosting;

/// <summary>
/// Linux's per-thread CPU priority (nice): a thread at nice 10 gets about a tenth of the share of a normal one when
/// both want the CPU, and all of it when nothing else does. Elsewhere than Linux nothing changes.
/// </summary>
internal static partial class CpuPriority
{
    private const int PriorityProcess = 0;
    private const int Lower = 10;

    /// <summary>
    /// The calling thread's id as the kernel knows it, read from <c>/proc/thread-self</c> (a link to
    /// <c>&lt;pid&gt;/task/&lt;tid&gt;</c>; libc's gettid is missing before glibc 2.30); 0 where it cannot be read.
    /// </summary>
    public static int CurrentThreadId()
    {
        try
        {
            var target = OperatingSystem.IsLinux() ? new FileInfo("/proc/thread-self").LinkTarget : null;
            return target is not null && int.TryParse(Path.GetFileName(target), out var id) ? id : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>Lowers the calling thread; true when the system took it.</summary>
    public static bool LowerCurrent() => LowerThread(CurrentThreadId());

    /// <summary>Lowers a thread of this process; true when the system took it.</summary>
    public static bool LowerThread(int threadId)
    {
        if (!OperatingSystem.IsLinux() || threadId == 0)
        {
            return false;
        }

        try
        {
            return SetPriority(PriorityProcess, threadId, Lower) == 0;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The ids of this process's threads that carry the name <paramref name="name"/> (as the kernel shows it).</summary>
    public static List<int> ThreadsNamed(string name)
    {
        var found = new List<int>();
        if (!OperatingSystem.IsLinux() || !Directory.Exists("/proc/self/task"))
        {
            return found;
        }

        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n') == name && int.TryParse(Path.GetFileName(task), out var id))
                {
                    found.Add(id);
                }
            }
            catch (IOException)
            {
                // The thread ended while we looked.
            }
        }

        return found;
    }

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);
}
