using Microsoft.Extensions.FileProviders;

namespace Pipeline.Hosting;

/// <summary>
/// Where settings come from, later wins: the defaults built into the binary (<c>config/appsettings.json</c>, embedded),
/// the operator's file named by <c>ConfigFile</c> (if any), environment variables prefixed <c>PIPELINE_</c>
/// (<c>PIPELINE_Storage__Path</c>), then command-line arguments (<c>--Storage:Path=...</c>). The web console is built in
/// too: the binary needs no file beside it.
/// </summary>
internal static class Settings
{
    /// <summary>The key that names the operator's JSON settings file: <c>--ConfigFile=/etc/pipeline/pipeline.json</c>.</summary>
    public const string ConfigFileKey = "ConfigFile";

    public const string EnvironmentPrefix = "PIPELINE_";

    private const string DefaultsResource = "Pipeline.config.appsettings.json";

    /// <summary>Adds the daemon's configuration sources, in order.</summary>
    public static IConfigurationBuilder AddPipelineSources(this IConfigurationBuilder builder, string[] args)
    {
        var file = ConfigFile(args);
        builder.AddJsonStream(typeof(Settings).Assembly.GetManifestResourceStream(DefaultsResource)
            ?? throw new InvalidOperationException($"The built-in defaults ({DefaultsResource}) are missing from the binary."));
        if (file is not null)
        {
            // Not optional: a file that was named but cannot be read stops the start, naming it.
            builder.AddJsonFile(Path.GetFullPath(file), optional: false, reloadOnChange: false);
        }

        return builder.AddEnvironmentVariables(EnvironmentPrefix).AddCommandLine(args);
    }

    /// <summary>The operator's settings file, from the environment or the command line (the latter wins); null when none is named.</summary>
    public static string? ConfigFile(string[] args) =>
        new ConfigurationBuilder().AddEnvironmentVariables(EnvironmentPrefix).AddCommandLine(args).Build()[ConfigFileKey] is { Length: > 0 } file
            ? file
            : null;

    /// <summary>The web console (<c>wwwroot</c>), served from the binary's own resources.</summary>
    public static IFileProvider WebConsole() => new ManifestEmbeddedFileProvider(typeof(Settings).Assembly, "wwwroot");
}
