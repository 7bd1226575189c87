using Pipeline.Hosting;
using Pipeline.Tests.Support;

namespace Pipeline.Tests.Hosting;

/// <summary>What <c>--probe</c> asks, and what it answers; a published binary probes a real daemon in <see cref="PublishTests"/>.</summary>
public sealed class ProbeTests
{
    [Theory]
    [InlineData("127.0.0.1:8080", "http://127.0.0.1:8080/readyz")]
    [InlineData("0.0.0.0:9090", "http://127.0.0.1:9090/readyz")]
    [InlineData("[::]:9090", "http://[::1]:9090/readyz")]
    [InlineData("10.1.2.3:8080", "http://10.1.2.3:8080/readyz")]
    public void Target_IsReadyzOnTheConfiguredApiEndpoint_WildcardsAskedOnLoopback(string endpoint, string expected)
    {
        Assert.Equal(new Uri(expected), Probe.Target(["--probe", $"--Api:Endpoint={endpoint}"]));
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", "http://127.0.0.1:8080/readyz")]
    [InlineData("http://127.0.0.1:8080/", "http://127.0.0.1:8080/readyz")]
    [InlineData("http://127.0.0.1:8080/healthz", "http://127.0.0.1:8080/healthz")]
    public void Target_GivenUrl_WinsOverTheSettings(string given, string expected)
    {
        Assert.Equal(new Uri(expected), Probe.Target(["--probe", given, "--Api:Endpoint=127.0.0.1:1"]));
        Assert.Equal(new Uri(expected), Probe.Target([$"--probe={given}"]));
    }

    [Fact]
    public void Target_ReadsTheConfigFile()
    {
        var file = Path.Combine(new TempFolder().Path, "pipeline.json");
        File.WriteAllText(file, """{ "Api": { "Endpoint": "127.0.0.1:18080" } }""");

        Assert.Equal(new Uri("http://127.0.0.1:18080/readyz"), Probe.Target(["--probe", $"--ConfigFile={file}"]));
    }

    [Fact]
    public async Task Run_PortPickedAtStart_IsOneSayingToGiveTheUrl()
    {
        using var output = new StringWriter();
        using var errors = new StringWriter();

        var code = await Probe.RunAsync(["--probe", "--Api:Endpoint=127.0.0.1:0"], output, errors);

        Assert.Equal(1, code);
        Assert.Contains("give the URL", errors.ToString());
    }

    [Fact]
    public async Task Run_AgainstARunningDaemon_IsZero_AndOneForAnAnswerOtherThan200()
    {
        await using var daemon = await TestDaemon.StartAsync();
        using var output = new StringWriter();
        using var errors = new StringWriter();

        var ready = await Probe.RunAsync(["--probe", daemon.ApiAddress.ToString()], output, errors);
        var missing = await Probe.RunAsync(["--probe", new Uri(daemon.ApiAddress, "/nothing-here").ToString()], output, errors);

        Assert.Equal(0, ready);
        Assert.Contains("answered 200", output.ToString());
        Assert.Equal(1, missing);
        Assert.Contains("answered 404", errors.ToString());
    }

    [Fact]
    public async Task Run_ItsOwnDaemonOverTls_IsAskedOverHttps_OnLoopback()
    {
        var pki = new TestPki();
        var settings = TestPki.Settings(pki.Issue(new TempFolder()));
        await using var daemon = await TestDaemon.StartAsync(settings);
        using var output = new StringWriter();
        using var errors = new StringWriter();
        var arguments = new[] { "--probe", $"--Api:Endpoint=127.0.0.1:{daemon.ApiAddress.Port}" }
            .Concat(settings.Where(s => s.Key.StartsWith("Api:", StringComparison.Ordinal)).Select(s => $"--{s.Key}={s.Value}"))
            .ToArray();

        var code = await Probe.RunAsync(arguments, output, errors);

        Assert.True(code == 0, errors.ToString());
        Assert.Contains($"ready: https://127.0.0.1:{daemon.ApiAddress.Port}/readyz answered 200", output.ToString());
    }
}
