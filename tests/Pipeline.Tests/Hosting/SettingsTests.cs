using System.Reflection;
using Microsoft.Extensions.Configuration;
using Pipeline.Hosting;
using Pipeline.Tests.Support;

namespace Pipeline.Tests.Hosting;

/// <summary>Where settings come from: the defaults inside the binary, the operator's file, the environment, the command line.</summary>
public sealed class SettingsTests
{
    [Fact]
    public void Defaults_AreBuiltIn()
    {
        var configuration = new ConfigurationBuilder().AddPipelineSources([]).Build();

        Assert.Equal("127.0.0.1:8080", configuration["Api:Endpoint"]);
        Assert.Equal("./data/pipeline.duckdb", configuration["Storage:Path"]);
        Assert.Equal("Warning", configuration["Logging:LogLevel:Microsoft.AspNetCore"]);
    }

    [Fact]
    public void ConfigFile_WinsOverTheDefaults_AndLosesToTheEnvironmentAndTheCommandLine()
    {
        var key = $"SettingsTests{Guid.NewGuid():N}"; // Its own key: other tests read the environment at the same time.
        var file = Path.Combine(new TempFolder().Path, "pipeline.json");
        File.WriteAllText(file, $$"""
            {
              // Comments are allowed, as in the example under deploy/.
              "Storage": { "MemoryLimit": "64MB" },
              "{{key}}": { "File": "file", "Environment": "file", "CommandLine": "file" }
            }
            """);
        Environment.SetEnvironmentVariable($"PIPELINE_{key}__Environment", "environment");
        Environment.SetEnvironmentVariable($"PIPELINE_{key}__CommandLine", "environment");
        try
        {
            var configuration = new ConfigurationBuilder().AddPipelineSources([$"--ConfigFile={file}", $"--{key}:CommandLine=command line"]).Build();

            Assert.Equal("64MB", configuration["Storage:MemoryLimit"]);
            Assert.Equal("256MB", configuration["Storage:CheckpointThreshold"]);
            Assert.Equal("file", configuration[$"{key}:File"]);
            Assert.Equal("environment", configuration[$"{key}:Environment"]);
            Assert.Equal("command line", configuration[$"{key}:CommandLine"]);
        }
        finally
        {
            Environment.SetEnvironmentVariable($"PIPELINE_{key}__Environment", null);
            Environment.SetEnvironmentVariable($"PIPELINE_{key}__CommandLine", null);
        }
    }

    [Fact]
    public void ConfigFile_NamedButMissing_StopsTheStartNamingIt()
    {
        var file = Path.Combine(new TempFolder().Path, "absent.json");

        var error = Assert.Throws<FileNotFoundException>(() => PipelineApp.Build([$"--ConfigFile={file}"]));

        Assert.Contains(file, error.Message);
    }

    [Fact]
    public void ConfigFile_NotJson_StopsTheStartNamingIt()
    {
        var file = Path.Combine(new TempFolder().Path, "pipeline.json");
        File.WriteAllText(file, "Storage:Path=/var/lib/pipeline\n");

        var error = Assert.Throws<InvalidDataException>(() => PipelineApp.Build([$"--ConfigFile={file}"]));

        Assert.Contains(file, error.Message);
    }

    [Fact]
    public void DeployedExample_NamesOnlyKnownKeys_WithValidValues()
    {
        var example = Path.Combine(Repository.Root(), "deploy", "pipeline.json");
        var configuration = new ConfigurationBuilder().AddJsonFile(example).Build();

        var known = PipelineApp.Sections
            .SelectMany(s => s.Options.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => $"{s.Section}:{p.Name}"))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        var unknown = configuration.AsEnumerable().Where(pair => pair.Value is not null && !pair.Key.StartsWith("Logging:", StringComparison.Ordinal) && !known.Contains(pair.Key));
        Assert.Empty(unknown);

        var all = new ConfigurationBuilder().AddPipelineSources([$"--ConfigFile={example}"]).Build();
        foreach (var (section, type) in PipelineApp.Sections)
        {
            var options = (IValidatedOptions)(all.GetSection(section).Get(type) ?? Activator.CreateInstance(type)!);
            Assert.Empty(options.Validate());
        }
    }

    [Fact]
    public async Task WebConsole_IsServedFromTheBinary()
    {
        await using var daemon = await TestDaemon.StartAsync();

        var page = await daemon.Api.GetStringAsync(new Uri("/", UriKind.Relative));
        using var script = await daemon.Api.GetAsync(new Uri("/console.js", UriKind.Relative));

        Assert.Contains("<!doctype html>", page, StringComparison.OrdinalIgnoreCase);
        Assert.True(script.IsSuccessStatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
    }
}

/// <summary>The repository's root folder, found from the test binary's folder.</summary>
internal static class Repository
{
    public static string Root()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Pipeline.sln")))
        {
            folder = folder.Parent;
        }

        return folder?.FullName ?? throw new InvalidOperationException($"no Pipeline.sln above {AppContext.BaseDirectory}");
    }
}
