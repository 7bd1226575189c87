using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Benchmark;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Hosting;

/// <summary>
/// The installable binary: README's publish command gives one self-contained file that starts with no file beside
/// it, takes the operator's settings file, answers <c>--version</c> and <c>--probe</c>, stores an export, serves the
/// console and stops cleanly on SIGTERM; and the systemd unit that runs it passes <c>systemd-analyze verify</c>.
/// </summary>
public sealed class PublishTests(PublishedBinary published) : IClassFixture<PublishedBinary>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public void Publish_GivesOneFile()
    {
        var files = Directory.GetFileSystemEntries(published.Folder).Select(Path.GetFileName).ToList();

        Assert.Equal(["Pipeline"], files);
        Assert.True(new FileInfo(published.Binary).Length > 50 * 1024 * 1024, "the runtime and DuckDB's native library are inside");
    }

    [Fact]
    public async Task SingleFile_FromAnEmptyFolder_ProbesStoresAnExportServesTheConsoleAndStopsWithZero()
    {
        var work = new TempFolder().Path; // The working directory: empty, and where ./data/pipeline.duckdb goes.
        var scratch = new TempFolder().Path;
        var cache = Path.Combine(scratch, "cache");
        var (grpc, http, api) = (DaemonProcess.FreePort(), DaemonProcess.FreePort(), DaemonProcess.FreePort());
        var settings = Path.Combine(scratch, "pipeline.json");
        await File.WriteAllTextAsync(settings, $$"""
            {
              "Receivers": { "GrpcEndpoint": "127.0.0.1:{{grpc}}", "HttpEndpoint": "127.0.0.1:{{http}}" },
              "Api": { "Endpoint": "127.0.0.1:{{api}}" }
            }
            """);
        var environment = new Dictionary<string, string>
        {
            ["PIPELINE_ConfigFile"] = settings,
            ["PIPELINE_Logging__LogLevel__Default"] = "Warning",
            ["DOTNET_BUNDLE_EXTRACT_BASE_DIR"] = cache,
        };

        var version = await RunAsync(published.Binary, ["--version"], environment, work);
        Assert.Equal(0, version.Code);
        Assert.Matches(@"^Pipeline \d+\.\d+\.\d+", version.Output.Trim());

        // Not listening yet: 1, saying why.
        var refused = await RunAsync(published.Binary, ["--probe"], environment, work);
        Assert.True(refused.Code == 1, $"probe before the start: {refused.Code}, {refused.Output}{refused.Errors}");
        Assert.Contains($"not ready: http://127.0.0.1:{api}/readyz", refused.Errors);

        var start = new ProcessStartInfo(published.Binary)
        {
            WorkingDirectory = work,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var daemon = Process.Start(start)!;
        var output = daemon.StandardOutput.ReadToEndAsync();
        var errors = daemon.StandardError.ReadToEndAsync();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{api}"), Timeout = TimeSpan.FromSeconds(10) };
            await WaitReadyAsync(client, daemon, output, errors);

            // Ready: 0, from the settings file (the API endpoint is the file's), and from a URL given on the command line.
            var ready = await RunAsync(published.Binary, ["--probe"], environment, work);
            Assert.True(ready.Code == 0, $"probe when ready: {ready.Code}, {ready.Output}{ready.Errors}");
            Assert.Contains($"ready: http://127.0.0.1:{api}/readyz answered 200", ready.Output);
            var given = await RunAsync(published.Binary, ["--probe", $"http://127.0.0.1:{api}"], environment, work);
            Assert.True(given.Code == 0, $"probe of a given URL: {given.Code}, {given.Output}{given.Errors}");
            var elsewhere = await RunAsync(published.Binary, ["--probe", $"http://127.0.0.1:{http}/readyz"], environment, work);
            Assert.True(elsewhere.Code == 1, "the OTLP/HTTP port does not serve /readyz");
            Assert.Contains("answered 404", elsewhere.Errors);

            // DuckDB's native library was unpacked where it was told to go.
            Assert.NotEmpty(Directory.GetFiles(cache, "libduckdb.so", SearchOption.AllDirectories));

            // One OTLP/HTTP protobuf export, read back through the query API.
            var at = DateTime.UtcNow.AddMinutes(-1);
            var request = Traces("published", LogSpan("run_published", "INFO", "hello from the single file", at), RunSpan("run_published", at, TimeSpan.FromMilliseconds(250)));
            using (var otlp = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
            using (var export = await otlp.PostAsync(new Uri($"http://127.0.0.1:{http}/v1/traces"), Protobuf(request.ToByteArray())))
            {
                Assert.Equal(HttpStatusCode.OK, export.StatusCode);
                var answer = ExportTraceServiceResponse.Parser.ParseFrom(await export.Content.ReadAsByteArrayAsync());
                Assert.Null(answer.PartialSuccess);
            }

            using (var runs = JsonDocument.Parse(await client.GetStringAsync(new Uri("/api/runs?script=published", UriKind.Relative))))
            {
                var run = Assert.Single(runs.RootElement.GetProperty("items").EnumerateArray());
                Assert.Equal("run_published", run.GetProperty("runId").GetString());
                Assert.Equal("Success", run.GetProperty("status").GetString());
            }

            // The console, from inside the binary.
            using (var page = await client.GetAsync(new Uri("/", UriKind.Relative)))
            {
                Assert.Equal(HttpStatusCode.OK, page.StatusCode);
                Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
                Assert.Contains("console.js", await page.Content.ReadAsStringAsync());
            }

            using (var kill = Process.Start("kill", ["-TERM", daemon.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            await daemon.WaitForExitAsync().WaitAsync(Timeout);
            Assert.True(daemon.ExitCode == 0, $"exit code {daemon.ExitCode}: {await errors}");
            Assert.True(File.Exists(Path.Combine(work, "data", "pipeline.duckdb")), "the default Storage:Path is relative to the working directory");
            Assert.Equal(["data"], Directory.GetFileSystemEntries(work).Select(Path.GetFileName));
        }
        finally
        {
            if (!daemon.HasExited)
            {
                daemon.Kill();
            }
        }

        // Stopped: 1 again.
        var stopped = await RunAsync(published.Binary, ["--probe"], environment, work);
        Assert.Equal(1, stopped.Code);

        // The unpacked native library is 70 MB: not left behind.
        Directory.Delete(scratch, recursive: true);
        Directory.Delete(work, recursive: true);
    }

    [Fact]
    public async Task SingleFile_ConfigFileMissing_ExitsOneNamingIt()
    {
        var work = new TempFolder().Path;
        var missing = Path.Combine(work, "absent.json");
        var environment = new Dictionary<string, string> { ["DOTNET_BUNDLE_EXTRACT_BASE_DIR"] = Path.Combine(work, "cache") };

        var result = await RunAsync(published.Binary, [$"--ConfigFile={missing}"], environment, work);
        Directory.Delete(work, recursive: true);

        Assert.Equal(1, result.Code);
        Assert.StartsWith("Pipeline did not start: ", result.Errors, StringComparison.Ordinal);
        Assert.Contains(missing, result.Errors);
    }

    [Fact]
    public async Task ServiceUnit_PassesSystemdAnalyzeVerify()
    {
        const string analyze = "/usr/bin/systemd-analyze";
        Assert.True(File.Exists(analyze), "this test runs Debian's systemd-analyze (.ci/run installs systemd)");
        var unit = await File.ReadAllTextAsync(Path.Combine(Repository.Root(), "deploy", "pipeline.service"));
        Assert.Contains("ExecStart=/usr/local/bin/pipeline ", unit);

        // verify also checks that ExecStart's binary exists: the one just published stands in for the installed one.
        var folder = new TempFolder().Path;
        var copy = Path.Combine(folder, "pipeline.service");
        await File.WriteAllTextAsync(copy, unit.Replace("ExecStart=/usr/local/bin/pipeline ", $"ExecStart={published.Binary} ", StringComparison.Ordinal));

        var result = await RunAsync(analyze, ["verify", copy], new Dictionary<string, string>(), folder);

        // An unknown key or a value it cannot parse is only a warning (exit code 0): nothing may be printed at all.
        Assert.True(result.Code == 0 && result.Output.Length == 0 && result.Errors.Length == 0, $"systemd-analyze verify: {result.Code}, {result.Output}{result.Errors}");
    }

    private static async Task WaitReadyAsync(HttpClient client, Process daemon, Task<string> output, Task<string> errors)
    {
        var until = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < until)
        {
            if (daemon.HasExited)
            {
                throw new InvalidOperationException($"the daemon exited with {daemon.ExitCode} before it was ready: {await errors}{await output}");
            }

            try
            {
                using var ready = await client.GetAsync(new Uri("/readyz", UriKind.Relative));
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

        throw new TimeoutException($"the daemon was not ready within {Timeout}");
    }

    /// <summary>Runs a command to its end (at most <paramref name="timeout"/>, else it is killed); its exit code and output.</summary>
    internal static async Task<(int Code, string Output, string Errors)> RunAsync(string file, string[] arguments, IDictionary<string, string> environment, string workingDirectory, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout ?? Timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not end within {timeout ?? Timeout}: {await output}{await errors}");
        }

        return (process.ExitCode, await output, await errors);
    }
}

/// <summary>
/// The single file, published once for the class by README's command (<c>dotnet publish src/Pipeline -c Release -r
/// linux-x64 -o DIR</c>), with its intermediate files in a folder of its own so that the source tree's obj/ and bin/,
/// which the running test build uses, are left alone; and without build servers, which would outlive the test run.
/// </summary>
public sealed class PublishedBinary : IAsyncLifetime
{
    private readonly string _root = new TempFolder().Path;

    public string Folder => Path.Combine(_root, "publish");

    public string Binary => Path.Combine(Folder, "Pipeline");

    public async Task InitializeAsync()
    {
        var artifacts = Path.Combine(_root, "artifacts");
        var (code, output, errors) = await PublishTests.RunAsync(
            "dotnet",
            ["publish", "src/Pipeline", "-c", "Release", "-r", "linux-x64", "-o", Folder, "--artifacts-path", artifacts, "--disable-build-servers"],
            new Dictionary<string, string> { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1" },
            Repository.Root(),
            TimeSpan.FromMinutes(8));
        Assert.True(code == 0, $"dotnet publish exited with {code}: {output}{errors}");
        Directory.Delete(artifacts, recursive: true);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }
}
