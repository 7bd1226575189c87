using System.Diagnostics;
using Microsoft.Extensions.Options;
using Pipeline.Tests.Support;

namespace Pipeline.Tests.Hosting;

/// <summary>What the daemon says without starting, and the loopback rule it keeps when nobody is authenticated.</summary>
public sealed class CommandLineTests
{
    [Fact]
    public async Task Help_ListsTheListenersAndEveryConfigKeyWithItsDefault_AndExitsZero()
    {
        var (code, output) = await RunAsync("--help");

        Assert.Equal(0, code);
        Assert.Contains("Receives OpenTelemetry (OTLP)", output);
        Assert.Contains("Receivers:GrpcEndpoint", output);
        Assert.Matches(@"Storage:MemoryLimit\s+128MB", output);
        Assert.Matches(@"Api:QueueTimeout\s+00:00:02", output);
        Assert.Matches(@"Security:AllowUnauthenticated\s+false", output);
        Assert.Contains("--ConfigFile=/etc/pipeline/pipeline.json or PIPELINE_ConfigFile", output);
        Assert.Contains("Pipeline --probe [url]", output);
    }

    [Fact]
    public async Task Version_PrintsTheVersion_AndExitsZero()
    {
        var (code, output) = await RunAsync("--version");

        Assert.Equal(0, code);
        Assert.Matches(@"^Pipeline \d+\.\d+\.\d+", output.Trim());
    }

    [Theory]
    [InlineData("Receivers:GrpcEndpoint")]
    [InlineData("Receivers:HttpEndpoint")]
    [InlineData("Api:Endpoint")]
    public async Task NonLoopbackBind_WithoutAuthentication_RefusesToStart_NamingTheSetting(string listener)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestDaemon.StartAsync(new Dictionary<string, string?> { [listener] = "0.0.0.0:0" }));

        Assert.Contains($"{listener} binds 0.0.0.0:0, which is not a loopback address", error.Message);
        Assert.Contains("Security:AllowUnauthenticated=true", error.Message);
    }

    [Fact]
    public async Task NonLoopbackBind_AllowedExplicitly_Starts()
    {
        await using var daemon = await TestDaemon.StartAsync(new Dictionary<string, string?>
        {
            ["Api:Endpoint"] = "0.0.0.0:0",
            ["Security:AllowUnauthenticated"] = "true",
        });

        using var health = await new HttpClient().GetAsync($"http://127.0.0.1:{daemon.ApiAddress.Port}/healthz");
        Assert.True(health.IsSuccessStatusCode);
    }

    private static async Task<(int Code, string Output)> RunAsync(string argument)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Pipeline.dll"));
        start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TestDaemon.Timeout);
        return (process.ExitCode, output);
    }
}
