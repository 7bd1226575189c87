using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Pipeline.Benchmark;

/// <summary>The daemon in its own process, as in production, on free loopback ports and a given database file.</summary>
internal sealed class DaemonProcess : IDisposable
{
    private DaemonProcess(Process process, int grpcPort, int apiPort)
    {
        Process = process;
        GrpcPort = grpcPort;
        ApiPort = apiPort;
        Output = process.StandardOutput.ReadToEndAsync();
    }

    public Process Process { get; }

    public int GrpcPort { get; }

    public int ApiPort { get; }

    /// <summary>What the daemon printed, complete once it has exited.</summary>
    public Task<string> Output { get; }

    public static DaemonProcess Start(string databasePath, params string[] settings)
    {
        var (grpc, api) = (FreePort(), FreePort());
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
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

        return new DaemonProcess(Process.Start(start)!, grpc, api);
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
