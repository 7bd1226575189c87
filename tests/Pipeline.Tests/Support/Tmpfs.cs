using System.Diagnostics;

namespace Pipeline.Tests.Support;

/// <summary>
/// A tiny RAM disk (tmpfs) mounted on a temp folder, to run out of space for real. Mounting needs root, as CI runs;
/// elsewhere the test fails and says so.
/// </summary>
internal sealed class Tmpfs : IDisposable
{
    private Tmpfs(string path) => Path = path;

    public string Path { get; }

    public static Tmpfs Mount(string size)
    {
        Assert.True(Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root",
            "this test mounts a tmpfs to fill a disk for real, which needs root (CI runs as root)");
        var folder = new TempFolder().Path;
        Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", folder);
        return new Tmpfs(folder);
    }

    /// <summary>Fills the disk with a file, leaving <paramref name="leaveBytes"/> free (roughly: tmpfs counts in pages).</summary>
    public string Fill(long leaveBytes)
    {
        var filler = System.IO.Path.Combine(Path, "filler");
        var free = new DriveInfo(Path).AvailableFreeSpace;
        using var stream = new FileStream(filler, FileMode.Create);
        var chunk = new byte[1 << 20];
        var left = Math.Max(0, free - leaveBytes);
        while (left > 0)
        {
            var n = (int)Math.Min(chunk.Length, left);
            try
            {
                stream.Write(chunk, 0, n);
            }
            catch (IOException)
            {
                break; // Full already.
            }

            left -= n;
        }

        return filler;
    }

    public void Remount(string options) => Run("mount", "-o", $"remount,{options}", Path);

    public void Dispose() => Run("umount", "-l", Path);

    private static void Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', arguments)} failed: {error}");
    }
}
