using System.Runtime.InteropServices;

namespace Pipeline.Hosting;

/// <summary>
/// Linux's per-thread CPU priority (nice): a thread set to the lowest (19) runs only on what the other threads leave.
/// Elsewhere than Linux nothing changes.
/// </summary>
internal static partial class CpuPriority
{
    private const int PriorityProcess = 0;
    private const int Lowest = 10;

    /// <summary>The calling thread's id as the kernel knows it; 0 elsewhere than Linux.</summary>
    public static int CurrentThreadId() => OperatingSystem.IsLinux() ? GetThreadId() : 0;

    /// <summary>Lowers the calling thread; true when the system took it.</summary>
    public static bool LowerCurrent() => Lower(CurrentThreadId());

    /// <summary>Lowers a thread of this process; true when the system took it.</summary>
    public static bool Lower(int threadId)
    {
        if (!OperatingSystem.IsLinux() || threadId == 0)
        {
            return false;
        }

        try
        {
            return SetPriority(PriorityProcess, threadId, Lowest) == 0;
        }
        catch (EntryPointNotFoundException)
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

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();
}
