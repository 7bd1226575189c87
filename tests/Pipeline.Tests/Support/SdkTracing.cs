using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Pipeline.Tests.Support;

/// <summary>The official OpenTelemetry .NET trace exporter pointed at a test daemon.</summary>
internal static class SdkTracing
{
    /// <summary>
    /// A tracer provider exporting <paramref name="source"/>'s spans as each ends (answered only once stored, so there
    /// is no flush timing to wait on), with the exporter's own <paramref name="headers"/> setting when given, and its
    /// HTTP client from <paramref name="httpClientFactory"/> when given (the exporter sends gRPC through it too).
    /// </summary>
    public static TracerProvider To(TestDaemon daemon, OtlpExportProtocol protocol, string source, string service, string? headers = null, Func<HttpClient>? httpClientFactory = null) =>
        Sdk.CreateTracerProviderBuilder()
            .AddSource(source)
            .ConfigureResource(r => r.AddService(service))
            .AddOtlpExporter(o =>
            {
                o.ExportProcessorType = ExportProcessorType.Simple;
                o.Protocol = protocol;
                o.Endpoint = protocol == OtlpExportProtocol.Grpc ? daemon.GrpcAddress : new Uri(daemon.HttpAddress, "/v1/traces");
                if (headers is not null)
                {
                    o.Headers = headers;
                }

                if (httpClientFactory is not null)
                {
                    o.HttpClientFactory = httpClientFactory;
                }
            })
            .Build();

    /// <summary>
    /// One korelogger log span (<c>hello</c>, INFO) of <paramref name="runId"/> for <paramref name="service"/>, sent by
    /// the official exporter and answered before this returns.
    /// </summary>
    public static void SendLog(TestDaemon daemon, OtlpExportProtocol protocol, string service, string runId, string? headers = null, Func<HttpClient>? httpClientFactory = null)
    {
        var sourceName = $"log-{protocol}-{service}-{runId}";
        using var tracing = To(daemon, protocol, sourceName, service, headers, httpClientFactory);
        using var source = new System.Diagnostics.ActivitySource(sourceName);
        System.Diagnostics.Activity.Current = null;
        using (var log = source.StartActivity("gvisor_info_log"))
        {
            log!.SetTag("run_id", runId);
            log.SetTag("log.message", "hello");
            log.SetTag("log.level", "INFO");
        }

        tracing.ForceFlush();
    }
}
