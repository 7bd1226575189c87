using System.Globalization;
using System.Reflection;
using System.Text;

namespace Pipeline.Hosting;

/// <summary>
/// What the daemon answers without starting: <c>--help</c> (what it does, where it listens, every config key with its
/// default, read off the options classes themselves) and <c>--version</c>. <c>--probe</c> is <see cref="Probe"/>.
/// </summary>
internal static class CommandLine
{
    /// <summary>The text to print for these arguments, or null when the daemon should start.</summary>
    public static string? Answer(string[] args) =>
        args.Any(a => a is "--help" or "-h" or "-?") ? Help()
        : args.Any(a => a is "--version") ? $"Pipeline {Version()}"
        : null;

    public static string Version() =>
        typeof(CommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(CommandLine).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    private static string Help()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Pipeline {Version()}");
        text.AppendLine("""

            Receives OpenTelemetry (OTLP) from scripts' sandboxes, turns spans and printed text into runs and logs in an
            embedded DuckDB file, and answers the monitoring page's questions over HTTP (query API, SQL, exports, console).

            Usage: Pipeline [--ConfigFile=path] [--Section:Key=value ...]
                   Pipeline --probe [url] [--ConfigFile=path] [--Section:Key=value ...]
                   Pipeline --help | --version

            Listeners (defaults):
              OTLP/gRPC   Receivers:GrpcEndpoint   TraceService/Export, LogsService/Export (HTTP/2)
              OTLP/HTTP   Receivers:HttpEndpoint   POST /v1/traces, POST /v1/logs
              API         Api:Endpoint             /api/..., /metrics, /healthz, /readyz, the web console at /

            Settings come from the defaults built into the binary (listed below), then the JSON file named by ConfigFile
            (--ConfigFile=/etc/pipeline/pipeline.json or PIPELINE_ConfigFile; none by default), then environment
            variables prefixed PIPELINE_ (PIPELINE_Storage__Path), then the command line (--Storage:Path=...), later
            ones winning. Exit codes: 0 after a stop (SIGTERM, Ctrl+C), 1 when it cannot start (the reason is printed).

            Security: --Security:IngestToken=... and --Security:ReadToken=... (bearer tokens, all scripts) or
            --Security:TokensFile=tokens.json (many tokens, limited to scripts, rotated without restart). Without
            tokens every listener must be on loopback (Security:AllowUnauthenticated=true to override).

            Mode: --Mode=store (the default) receives OTLP and writes its own DuckDB file; --Mode=lake with
            --Lake:Path=folder has no OTLP listeners and no store: the API and the console answer read-only over the
            Parquet files store daemons publish to that folder, with a node column (docs/lake-mode.md).

            --probe asks a running daemon whether it is ready: GET url (default: /readyz on Api:Endpoint, read from the
            same settings, 0.0.0.0 asked on 127.0.0.1), 5 s at most. Exit code 0 when it answers 200, 1 otherwise,
            printing the answer or why there was none. For health checks where there is no curl.

            Config keys and defaults:
            """);
        foreach (var (section, type) in PipelineApp.Sections)
        {
            AppendKeys(text, section, Activator.CreateInstance(type)!);
        }

        text.Append("Every key is described in the README's configuration table.");
        return text.ToString();
    }

    /// <summary>Each settable key of an options object and its default; a nested options class (Lake:S3) lists its own keys.</summary>
    private static void AppendKeys(StringBuilder text, string prefix, object defaults)
    {
        foreach (var property in defaults.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            var value = property.GetValue(defaults);
            if (value is not null && property.PropertyType.IsClass && property.PropertyType != typeof(string)
                && property.PropertyType.Namespace?.StartsWith("Pipeline", StringComparison.Ordinal) == true)
            {
                AppendKeys(text, $"{prefix}:{property.Name}", value);
                continue;
            }

            text.AppendLine(CultureInfo.InvariantCulture, $"  {$"{prefix}:{property.Name}",-36} {Format(value)}");
        }
    }

    private static string Format(object? value) => value switch
    {
        null => "(none)",
        string s when s.Length == 0 => "(empty)",
        bool b => b ? "true" : "false",
        TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
        System.Collections.IDictionary d => d.Count == 0 ? "(none)" : string.Join(", ", d.Keys.Cast<object>()),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}
