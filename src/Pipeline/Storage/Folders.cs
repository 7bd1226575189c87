using System.Runtime.InteropServices;

namespace Pipeline.Storage;

/// <summary>Folder entries made durable: what a rename or a new file needs before something else relies on it.</summary>
internal static partial class Folders
{
    /// <summary>
    /// Makes a folder's entries (a file created, renamed or deleted in it) durable, as fsync on the folder does on
    /// Linux. Elsewhere nothing happens: the file's own flush is what the platform offers.
    /// </summary>
    public static void Sync(string folder)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            var fd = Open(folder, 0x10000 /* O_RDONLY | O_DIRECTORY */);
            if (fd >= 0)
            {
                _ = FileSync(fd);
                _ = Close(fd);
            }
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            // No libc to ask: the entries reach the disk when the kernel writes them back.
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FileSync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
