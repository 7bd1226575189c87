using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Pipeline.Benchmark;

/// <summary>
/// The daemon in its own process, as in production, on free loopback ports and a given database file; and what can
/// be seen of it from outside: what it printed, its exit code, its resident memory (from /proc) and the size of its
/// data folder on disk.
/// </summary>
internal sealed class DaemonProcess : IDisposable
{
    private readonly string _dataFolder;

    private DaemonProcess(Process process, int grpcPort, int apiPort, string databasePath)
    {
        Process = process;
        GrpcPort = grpcPort;
        ApiPort = apiPort;
        _dataFolder = Path.GetDirectoryName(Path.GetFullPath(databasePath))!;
        Output = process.StandardOutput.ReadToEndAsync();
        Errors = PassOnAsync(process.StandardError);
    }

    public Process Process { get; }

    public int GrpcPort { get; }

    public int ApiPort { get; }

    /// <summary>What the daemon printed, complete once it has exited.</summary>
    public Task<string> Output { get; }

    /// <summary>What the daemon wrote to stderr, complete once it has exited; passed on to this process's stderr as it comes.</summary>
    public Task<string> Errors { get; }

    public static DaemonProcess Start(string databasePath, params string[] settings)
    {
        var (grpc, api) = (FreePort(), FreePort());
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     Path.Combine(AppContext.BaseDirectory, "Pipeline.dll"),
                     $"--Receivers:GrpcEndpoint=127.0.0.1:{grpc}",
                     $"--Receivers:HttpEndpoint=127.0.0.1:{FreePort()}",
                     $"--Api:Endpoint=127.0.0.1:{api}",
                     $"--Storage:Path={databasePath}",
                     "--Logging:LogLevel:Default=Warning",
                 }.Concat(settings))
        {
            start.ArgumentList.Add(argument);
        }

        return new DaemonProcess(Process.Start(start)!, grpc, api, databasePath);
    }

    /// <summary>Waits until the daemon answers <c>/readyz</c> with 200; throws with what it printed if it exits first.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ApiPort}"), Timeout = TimeSpan.FromSeconds(5) };
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException($"the daemon exited with {Process.ExitCode} before it was ready: {await Errors}{await Output}");
            }

            try
            {
                using var ready = await http.GetAsync(new Uri("/readyz", UriKind.Relative));
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"the daemon was not ready within {timeout}");
    }

    /// <summary>Waits for the daemon to exit by itself, at most <paramref name="timeout"/>; its exit code.</summary>
    public async Task<int> ExitCodeAsync(TimeSpan timeout)
    {
        await Process.WaitForExitAsync().WaitAsync(timeout);
        return Process.ExitCode;
    }

    /// <summary>Resident memory now (VmRSS), in MiB; 0 where /proc is not there.</summary>
    public double ResidentMiB() => ProcStatusMiB("VmRSS:");

    /// <summary>Peak resident memory so far (VmHWM), in MiB; 0 where /proc is not there.</summary>
    public double PeakResidentMiB() => ProcStatusMiB("VmHWM:");

    /// <summary>
    /// Bytes of every file under the database's folder: the file, its write-ahead log and any temporary folder.
    /// Give the daemon a folder of its own, or this counts the neighbours too.
    /// </summary>
    public long DataFolderBytes() => FolderBytes(_dataFolder);

    /// <summary>Bytes of every file under a folder (0 when it does not exist).</summary>
    public static long FolderBytes(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return 0;
        }

        var bytes = 0L;
        foreach (var file in new DirectoryInfo(folder).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true }))
        {
            try
            {
                bytes += file.Length;
            }
            catch (FileNotFoundException)
            {
                // A temporary file went away while we looked.
            }
        }

        return bytes;
    }

    /// <summary>A graceful stop (SIGTERM): the daemon drains its channel before it exits.</summary>
    public async Task StopAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", Process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        await Process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill();
        }

        Process.Dispose();
    }

    private double ProcStatusMiB(string field)
    {
        var status = $"/proc/{Process.Id}/status";
        var line = File.Exists(status) ? File.ReadLines(status).FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal)) : null;
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
    }

    private static async Task<string> PassOnAsync(StreamReader errors)
    {
        var all = new System.Text.StringBuilder();
        while (await errors.ReadLineAsync() is { } line)
        {
            all.AppendLine(line);
            await Console.Error.WriteLineAsync(line);
        }

        return all.ToString();
    }

    /// <summary>Where the next port is looked for: below Linux's ephemeral range (32768 and up), from a random start.</summary>
    private static int _nextPort = 20_000 + Random.Shared.Next(10_000);

    /// <summary>
    /// A free port for the daemon to bind. Not one the system hands out for port 0: those come from the ephemeral
    /// range, where other processes' outgoing connections take ports too, and one could take ours before the daemon
    /// binds it.
    /// </summary>
    internal static int FreePort()
    {
        while (true)
        {
            var port = 20_000 + (Interlocked.Increment(ref _nextPort) % 12_000);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: the next one.
            }
        }
    }
}
