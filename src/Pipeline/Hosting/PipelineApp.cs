using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Rewrite;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using Pipeline.Api;
using Pipeline.Buffering;
using Pipeline.Diagnostics;
using Pipeline.Forwarding;
using Pipeline.Ingest;
using Pipeline.Ingest.Grpc;
using Pipeline.Ingest.Http;
using Pipeline.Lake;
using Pipeline.Parsing;
using Pipeline.Query;
using Pipeline.Security;
using Pipeline.Storage;

namespace Pipeline.Hosting;

/// <summary>
/// The composition root, and the only reader of configuration. Sources, later wins: the defaults built into the
/// binary, the file named by <c>ConfigFile</c>, environment variables prefixed <c>PIPELINE_</c>
/// (<c>PIPELINE_Storage__Path</c>), then command-line arguments (<c>--Storage:Path=...</c>); see <see cref="Settings"/>.
/// </summary>
public static class PipelineApp
{
    public static WebApplication Build(string[] args, Action<IConfigurationBuilder>? overrides = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = Directory.GetCurrentDirectory(),
        });

        // Defaults and the web console come from the binary itself; then the operator's file, environment, command line.
        builder.Environment.WebRootFileProvider = Settings.WebConsole();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddPipelineSources(args);
        overrides?.Invoke(builder.Configuration);
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        if (Environment.GetEnvironmentVariable("JOURNAL_STREAM") is { Length: > 0 })
        {
            // Under systemd, one line per entry with its priority (<3>, <6>...), as journald reads them.
            builder.Logging.AddSystemdConsole();
        }

        var services = builder.Services;

        // A store daemon receives, writes and answers; a lake-mode daemon only answers, over the lake (docs/lake-mode.md).
        var mode = PipelineMode.Read(builder.Configuration);
        services.AddSingleton(mode);
        AddValidatedOptions<ReceiverOptions>(builder, ReceiverOptions.Section);
        AddValidatedOptions<MappingOptions>(builder, MappingOptions.Section);
        AddValidatedOptions<ChannelOptions>(builder, ChannelOptions.Section);
        AddValidatedOptions<StorageOptions>(builder, StorageOptions.Section);
        AddValidatedOptions<RetentionOptions>(builder, RetentionOptions.Section);
        AddValidatedOptions<DedupOptions>(builder, DedupOptions.Section);
        AddValidatedOptions<ApiOptions>(builder, ApiOptions.Section);
        AddValidatedOptions<SecurityOptions>(builder, SecurityOptions.Section);
        AddValidatedOptions<LakeOptions>(builder, LakeOptions.Section);
        AddValidatedOptions<ForwardOptions>(builder, ForwardOptions.Section);
        services.AddSingleton<IValidateOptions<SecurityOptions>, ExposureCheck>();
        services.AddSingleton<Tokens>();
        services.AddHostedService<TokenFileWatch>();

        // Ingest -> Parsing -> Buffering -> Storage.
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<PipelineMetrics>();
        services.AddSingleton(sp => new ClientFaultLog(
            sp.GetRequiredService<ILogger<ClientFaultLog>>(), sp.GetRequiredService<TimeProvider>(), ClientFaultLog.DefaultLinesPerInterval, ClientFaultLog.DefaultInterval));
        services.AddSingleton<PrintedText>();
        services.AddSingleton<TraceRequestParser>();
        services.AddSingleton<LogsRequestParser>();
        services.AddSingleton<InFlightBytes>();
        services.AddSingleton<IngestChannel>();
        services.AddSingleton(sp => new DedupWindow(sp.GetRequiredService<IOptions<DedupOptions>>().Value, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<PipelineMetrics>()));
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<Retention>(sp,
            sp.GetRequiredService<IOptions<RetentionOptions>>().Value, sp.GetRequiredService<IOptions<DedupOptions>>().Value, sp.GetRequiredService<IOptions<StorageOptions>>().Value));
        services.AddSingleton<CommitFeed>();
        services.AddSingleton<StoreHealth>();
        services.AddSingleton<StoreGate>();
        services.AddSingleton<OtlpIngest>();
        services.AddSingleton<WriterService>();
        // Storage -> Lake: closed slices as Parquet files (and to S3), after the writer, on connections of their own.
        services.AddSingleton<LakeMetrics>();
        services.AddSingleton<LakeUploader>();
        // Forwarding: accepted exports on to an upstream through a queue on disk (docs/forwarding.md).
        services.AddSingleton<ForwardQueue>();
        if (!mode.IsLake)
        {
            // Started in this order, stopped in the reverse one: the writer opens the store before the others read it.
            services.AddHostedService(sp => sp.GetRequiredService<WriterService>());
            services.AddHostedService<LakePublisher>();
            services.AddHostedService<ForwardService>();
        }

        // Query -> Api: over the store's file, or in lake mode over the lake, with its node column.
        if (mode.IsLake)
        {
            services.AddLakeReader(builder.Configuration);
        }
        else
        {
            services.AddSingleton(ReadDatabase.Store);
            services.AddSingleton(Readiness.Store);
        }

        services.AddSingleton(new ListColumns(node: mode.IsLake));
        services.AddSingleton<ReadStore>();
        services.AddSingleton<RunQueries>();
        services.AddSingleton<LogQueries>();
        services.AddSingleton<QueryAdmission>();
        services.AddSingleton<Exports>();
        services.AddSingleton<Backups>();
        services.AddSingleton<SqlSandbox>();
        services.AddSingleton<LogStream>();
        services.AddOpenApi();

        // The daemon's own instruments (meter Pipeline) and the runtime's and process's, as Prometheus text on /metrics.
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(PipelineMetrics.MeterName)
            .AddRuntimeInstrumentation()
            .AddProcessInstrumentation()
            .AddPrometheusExporter());

        services.AddGrpc();
        services.AddOptions<GrpcServiceOptions>().Configure<IOptions<ReceiverOptions>>((grpc, receivers) =>
        {
            grpc.MaxReceiveMessageSize = receivers.Value.MaxMessageBytes;
            grpc.CompressionProviders = [new BoundedGzipProvider(receivers.Value.MaxMessageBytes)];
        });
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<ReceiverOptions>, IOptions<ApiOptions>, TimeProvider, ILogger<ListenerCertificate>>((kestrel, receivers, api, time, tlsLog) =>
        {
            // No global body limit: gRPC enforces its own per message, and OTLP/HTTP sets one per request.
            kestrel.Limits.MaxRequestBodySize = null;
            // Plain text unless a listener's PEM certificate and key are set; then TLS, with ALPN. No OTLP in lake mode.
            if (!mode.IsLake)
            {
                kestrel.Listen(ReceiverOptions.Parse(receivers.Value.GrpcEndpoint), listen => listen.Serve(HttpProtocols.Http2, HttpProtocols.Http2, receivers.Value.GrpcTls, time, tlsLog));
                // Plain-text HTTP/2 needs prior knowledge, which Kestrel offers only on HTTP/2-only endpoints: OTLP/HTTP is HTTP/1.1.
                kestrel.Listen(ReceiverOptions.Parse(receivers.Value.HttpEndpoint), listen => listen.Serve(HttpProtocols.Http1, HttpProtocols.Http1AndHttp2, receivers.Value.HttpTls, time, tlsLog));
            }

            kestrel.Listen(ReceiverOptions.Parse(api.Value.Endpoint), listen => listen.Serve(HttpProtocols.Http1, HttpProtocols.Http1AndHttp2, api.Value.Tls, time, tlsLog));
        });
        services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(30));

        var app = builder.Build();
        app.UseMiddleware<ListenerRouting>();
        app.UseMiddleware<ClientFaultWatch>();
        app.UseMiddleware<Authentication>();
        app.UseMiddleware<IngestAdmission>();
        app.UseMiddleware<ApiBodyLimit>();
        // Browsers ask for /favicon.ico whatever a page links to: the console's SVG icon answers it.
        app.UseRewriter(new RewriteOptions().AddRewrite(@"^favicon\.ico$", "favicon.svg", skipRemainingRules: true));
        app.UseDefaultFiles();
        app.UseStaticFiles();
        if (!mode.IsLake)
        {
            app.MapGrpcService<TraceGrpcService>();
            app.MapGrpcService<LogsGrpcService>();
            app.MapOtlpHttp();
        }

        app.MapQueryApi();
        app.MapSession();
        app.MapPrometheusScrapingEndpoint("/metrics");
        var streams = app.Services.GetRequiredService<LogStream>();
        app.Services.GetRequiredService<PipelineMetrics>().ObserveStreams(() => streams.Open);
        return app;
    }

    /// <summary>Every config section with its options class, as <c>--help</c> lists them.</summary>
    internal static readonly (string Section, Type Options)[] Sections =
    [
        (ReceiverOptions.Section, typeof(ReceiverOptions)),
        (MappingOptions.Section, typeof(MappingOptions)),
        (ChannelOptions.Section, typeof(ChannelOptions)),
        (StorageOptions.Section, typeof(StorageOptions)),
        (RetentionOptions.Section, typeof(RetentionOptions)),
        (DedupOptions.Section, typeof(DedupOptions)),
        (ApiOptions.Section, typeof(ApiOptions)),
        (SecurityOptions.Section, typeof(SecurityOptions)),
        (LakeOptions.Section, typeof(LakeOptions)),
        (ForwardOptions.Section, typeof(ForwardOptions)),
    ];

    /// <summary>Where a started daemon listens, with the ports actually bound.</summary>
    public static ListeningAddresses Addresses(this WebApplication app) => ListeningAddresses.Of(app.Services.GetRequiredService<IServer>());

    private static void AddValidatedOptions<T>(WebApplicationBuilder builder, string section)
        where T : class, IValidatedOptions
    {
        builder.Services.AddOptions<T>().Bind(builder.Configuration.GetSection(section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<T>, SelfValidation<T>>();
    }
}
