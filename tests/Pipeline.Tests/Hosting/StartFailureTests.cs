using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Grpc.Net.Client;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Benchmark;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Hosting;

/// <summary>
/// Whatever stops the start ends the daemon's process with exit code 1 and a message on stderr that says why, never
/// with an unhandled exception (SIGABRT, 134). The daemon runs in its own process, on a store it wrote itself through
/// OTLP; a test that damages the file damages its own copy.
/// </summary>
public sealed class StartFailureTests(WrittenStore store) : IClassFixture<WrittenStore>
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Start_OnAnUndamagedCopy_IsReadyWithEveryRow()
    {
        var path = store.Copy();
        using var daemon = DaemonProcess.Start(path, "--Retention:MaxAge=3650.00:00:00");

        await daemon.WaitReadyAsync(ExitTimeout);
        await daemon.StopAsync();

        Assert.Equal(0, daemon.Process.ExitCode);
        Assert.Equal(WrittenStore.Logs, Database.Query(path, "SELECT count(*) FROM logs").Single()[0]);
    }

    [Fact]
    public async Task Start_TruncatedFile_ExitsOneNamingTheFileAndTheWayOut()
    {
        var path = store.Copy();
        using (var file = File.OpenWrite(path))
        {
            file.SetLength(12_000_000);
        }

        var errors = await FailedStartAsync(path);

        AssertDamaged(path, errors);
    }

    [Fact]
    public async Task Start_RandomBytesInTheMiddle_ExitsOneNamingTheFileAndTheWayOut()
    {
        var path = store.Copy();
        using (var file = File.OpenWrite(path))
        {
            file.Position = 8 * 1024 * 1024;
            file.Write(RandomNumberGenerator.GetBytes(4 * 1024 * 1024));
        }

        var errors = await FailedStartAsync(path);

        AssertDamaged(path, errors);
    }

    [Fact]
    public async Task Start_DamagedWriteAheadLog_ExitsOneNamingTheFileAndTheWayOut()
    {
        // Killed after its commits: they are in the write-ahead log, which the next start replays.
        var path = Path.Combine(new TempFolder().Path, "pipeline.duckdb");
        using (var daemon = DaemonProcess.Start(path, "--Retention:MaxAge=3650.00:00:00"))
        {
            await daemon.WaitReadyAsync(ExitTimeout);
            await ExportAsync(daemon, 4, 4000);
            daemon.Process.Kill();
            await daemon.Process.WaitForExitAsync();
        }

        var log = new FileInfo(path + ".wal");
        Assert.True(log.Exists && log.Length > 8 * 1024 * 1024, $"write-ahead log of {(log.Exists ? log.Length : 0)} bytes");
        using (var file = File.OpenWrite(log.FullName))
        {
            file.Position = log.Length / 2;
            file.Write(RandomNumberGenerator.GetBytes(64 * 1024));
        }

        var errors = await FailedStartAsync(path);

        AssertDamaged(path, errors);
        Assert.Contains($"Failure while replaying WAL file \"{path}.wal\"", errors);
    }

    [Fact]
    public async Task Start_FileThatIsNotADuckDbDatabase_ExitsOneSayingSo()
    {
        var path = Path.Combine(new TempFolder().Path, "pipeline.duckdb");
        await File.WriteAllTextAsync(path, "not a database, only some text someone saved under the database's name\n");

        var errors = await FailedStartAsync(path);

        AssertDamaged(path, errors);
        Assert.Contains("not a valid DuckDB database file", errors);
    }

    [RootFact]
    public async Task Start_FileOnAReadOnlyFileSystem_ExitsOneNamingTheFile()
    {
        var mount = new TempFolder().Path;
        await RunAsync("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mount);
        try
        {
            var path = Path.Combine(mount, "pipeline.duckdb");
            using (var daemon = DaemonProcess.Start(path, "--Retention:MaxAge=3650.00:00:00"))
            {
                await daemon.WaitReadyAsync(ExitTimeout);
                await ExportAsync(daemon, 1, 10);
                await daemon.StopAsync();
                Assert.Equal(0, daemon.Process.ExitCode);
            }

            await RunAsync("mount", "-o", "remount,ro", mount);

            var errors = await FailedStartAsync(path);

            Assert.Contains($"The database file {path} cannot be opened", errors);
            Assert.Contains("Read-only file system", errors);
            Assert.DoesNotContain(".damaged", errors); // Nothing is wrong with the file: no advice to move it aside.
        }
        finally
        {
            await RunAsync("umount", mount);
        }
    }

    [Fact]
    public async Task Start_FileHeldByAnotherDaemon_ExitsOneNamingTheFile()
    {
        var path = store.Copy();
        using var first = DaemonProcess.Start(path, "--Retention:MaxAge=3650.00:00:00");
        await first.WaitReadyAsync(ExitTimeout);

        var errors = await FailedStartAsync(path);
        await first.StopAsync();

        Assert.Contains($"The database file {path} cannot be opened", errors);
        Assert.Contains("Conflicting lock", errors);
        Assert.DoesNotContain(".damaged", errors);
    }

    [Theory]
    [InlineData("--Storage:Threads=0", "Storage:Threads must be between 1 and 256 (got 0).")]
    [InlineData("--Storage:VerifyOnStart=7", "Storage:VerifyOnStart must be Full, Metadata or None (got 7).")]
    [InlineData("--Storage:VerifyOnStart=Fast", "Failed to convert configuration value 'Fast' at 'Storage:VerifyOnStart'")]
    [InlineData("--Receivers:GrpcEndpoint=localhost", "Receivers:GrpcEndpoint must be an IP address and port")]
    public async Task Start_InvalidOption_ExitsOneWithTheOptionsMessage(string setting, string message)
    {
        var errors = await FailedStartAsync(Path.Combine(new TempFolder().Path, "pipeline.duckdb"), setting);

        Assert.Contains(message, errors);
    }

    [Fact]
    public async Task Start_PortInUse_ExitsOneNamingTheAddress()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var errors = await FailedStartAsync(Path.Combine(new TempFolder().Path, "pipeline.duckdb"), $"--Receivers:GrpcEndpoint=127.0.0.1:{port}");

        Assert.Contains($"Failed to bind to address http://127.0.0.1:{port}: address already in use.", errors);
    }

    /// <summary>Starts the daemon, expects it to exit by itself with 1 and no unhandled exception; what it wrote to stderr.</summary>
    private static async Task<string> FailedStartAsync(string path, params string[] settings)
    {
        using var daemon = DaemonProcess.Start(path, ["--Retention:MaxAge=3650.00:00:00", .. settings]);
        var code = await daemon.ExitCodeAsync(ExitTimeout);
        var errors = await daemon.Errors;

        Assert.True(code == 1, $"exit code {code}; stderr: {errors}; stdout: {await daemon.Output}");
        Assert.StartsWith("Pipeline did not start: ", errors, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", errors);
        return errors;
    }

    private static void AssertDamaged(string path, string errors)
    {
        Assert.Contains($"The database file {path} cannot be read: ", errors);
        Assert.Contains($"mv '{path}' '{path}.damaged'; mv '{path}.wal' '{path}.damaged.wal'", errors);
        Assert.Contains("A damaged database file", errors);
    }

    internal static async Task ExportAsync(DaemonProcess daemon, int exports, int spansPerExport)
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{daemon.GrpcPort}");
        var client = new TraceService.TraceServiceClient(channel);
        for (var e = 0; e < exports; e++)
        {
            // Random text, which DuckDB cannot compress much: the file grows by about as much as is sent.
            var spans = Enumerable.Range(0, spansPerExport)
                .Select(i => LogSpan($"run_{e}_{i / 100}", "INFO", Convert.ToBase64String(RandomNumberGenerator.GetBytes(750)), T0.AddSeconds(e).AddMilliseconds(i)))
                .ToArray();
            var response = await client.ExportAsync(Traces("s", spans), deadline: TestDaemon.Deadline());
            Assert.Null(response.PartialSuccess);
        }
    }

    private static async Task RunAsync(string command, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(command, arguments) { RedirectStandardError = true })!;
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{command} {string.Join(' ', arguments)}: {errors}");
    }
}

/// <summary>
/// A store the daemon wrote through OTLP and checkpointed at its stop: 32,000 logs of about 1 KB of random text,
/// some 30 MB, so that a cut at 12 MB and damage at 8 MB both fall inside it.
/// </summary>
public sealed class WrittenStore : IAsyncLifetime
{
    public const long Logs = 32_000;

    private string _path = "";

    /// <summary>A copy of the store in a folder of its own; its path.</summary>
    public string Copy()
    {
        var path = Path.Combine(new TempFolder().Path, "pipeline.duckdb");
        File.Copy(_path, path);
        return path;
    }

    public async Task InitializeAsync()
    {
        _path = Path.Combine(new TempFolder().Path, "pipeline.duckdb");
        using var daemon = DaemonProcess.Start(_path, "--Retention:MaxAge=3650.00:00:00");
        await daemon.WaitReadyAsync(TimeSpan.FromSeconds(60));
        await StartFailureTests.ExportAsync(daemon, 8, (int)Logs / 8);
        await daemon.StopAsync();

        Assert.Equal(0, daemon.Process.ExitCode);
        Assert.False(File.Exists(_path + ".wal"), "the stop checkpoints the write-ahead log into the file");
        Assert.InRange(new FileInfo(_path).Length, 16 * 1024 * 1024, 256 * 1024 * 1024);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>A fact that needs root (mounting a file system); skipped, saying so, for anyone else. CI runs as root.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Skip = "needs root, to mount a tmpfs and make it read-only";
        }
    }
}
