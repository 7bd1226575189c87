using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Pipeline.Tests.Support;

namespace Pipeline.Tests.Ingest;

/// <summary>The official OpenTelemetry .NET exporter talks to us: the proof that our protos match the spec's.</summary>
public sealed class OpenTelemetrySdkInteropTests
{
    [Theory]
    [InlineData(OtlpExportProtocol.Grpc)]
    [InlineData(OtlpExportProtocol.HttpProtobuf)]
    public async Task SdkTraceExporter_RunAndKoreloggerSpans_LandInRunsAndLogs(OtlpExportProtocol protocol)
    {
        await using var daemon = await TestDaemon.StartAsync();
        var sourceName = $"script-runtime-{protocol}";
        var runId = $"run_sdk_{protocol}";
        using var tracing = SdkTracing.To(daemon, protocol, sourceName, "sdk-script");
        using var source = new ActivitySource(sourceName);

        Activity.Current = null;
        using (var run = source.StartActivity("script_run", ActivityKind.Server))
        {
            Assert.NotNull(run);
            run.SetTag("run_id", runId);
            run.SetTag("deployment_id", "dep-sdk");
            run.SetTag("source_type", "tool");
            run.SetTag("source", "checkout flow");
            run.SetTag("function", "handler");
            run.SetTag("input", """{"q":1}""");
            run.SetTag("stdout", "INFO :: from korelogger\nplain print\n");
            using (var log = source.StartActivity("gvisor_info_log"))
            {
                log!.SetTag("run_id", runId);
                log.SetTag("log.message", "from korelogger");
                log.SetTag("log.level", "INFO");
            }

            run.SetStatus(ActivityStatusCode.Error, "boom");
        }


        Assert.Equal(["sdk-script", "Failed", "boom", "Tool", "checkout flow", "handler", """{"q":1}""", 1],
            daemon.Query($"SELECT script, status, error, source_type, source, function, input, deployment_version FROM runs WHERE run_id = '{runId}'").Single());
        Assert.Equal([("Info", "from korelogger", "korelogger"), ("Stdout", "plain print", "stdout")],
            daemon.Query($"SELECT level, message, origin FROM logs WHERE run_id = '{runId}' ORDER BY origin")
                .Select(r => ((string)r[0]!, (string)r[1]!, (string)r[2]!)));
    }

    [Fact]
    public async Task SdkLogExporter_PrintedLines_LandInLogs()
    {
        await using var daemon = await TestDaemon.StartAsync();
        using (var factory = LoggerFactory.Create(builder => builder.AddOpenTelemetry(o =>
               {
                   o.IncludeFormattedMessage = true;
                   o.SetResourceBuilder(ResourceBuilder.CreateDefault().AddService("sdk-logs"));
                   o.AddOtlpExporter(e =>
                   {
                       e.ExportProcessorType = ExportProcessorType.Simple;
                       e.Protocol = OtlpExportProtocol.HttpProtobuf;
                       e.Endpoint = new Uri(daemon.HttpAddress, "/v1/logs");
                   });
               })))
        {
            var logger = factory.CreateLogger("stdout");
            logger.Log(LogLevel.Information, default, Attributes(("run_id", "run_sdk_logs")), null, (_, _) => "WARNING :: low disk\nsecond line");
            logger.Log(LogLevel.Error, default, Attributes(("run_id", "run_sdk_logs"), ("log.iostream", "stderr")), null, (_, _) => "Traceback");
        }

        Assert.Equal([("Warning", "low disk", "stdout"), ("Info", "second line", "stdout"), ("Stderr", "Traceback", "stderr")],
            daemon.Query("SELECT level, message, origin FROM logs WHERE run_id = 'run_sdk_logs' ORDER BY origin DESC, seq")
                .Select(r => ((string)r[0]!, (string)r[1]!, (string)r[2]!)));
        Assert.Equal(["sdk-logs", "In Progress"], daemon.Query("SELECT script, status FROM runs WHERE run_id = 'run_sdk_logs'").Single());
    }

    private static List<KeyValuePair<string, object?>> Attributes(params (string Key, object? Value)[] pairs) =>
        [.. pairs.Select(p => new KeyValuePair<string, object?>(p.Key, p.Value))];
}
