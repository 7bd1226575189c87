using System.Globalization;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Collections;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Resource.V1;
using OpenTelemetry.Proto.Trace.V1;

namespace Pipeline.Benchmark;

/// <summary>
/// The run-heavy shape: each run is 9 korelogger log spans and its run span, in one trace. The run span's stdout
/// mirrors the 9 lines (<c>LEVEL :: message</c>) and adds one printed line, so a run shows 10 logs; 1 run in 20
/// fails. Runs go round 4 scripts. A request holds whole runs, as many as its span budget allows (at least one), and
/// is stamped from the clock when it is made: its runs end then. Ids are unique for the life of an instance (run ids
/// carry a random prefix, trace and log ids are random), so one instance can feed a soak as long as it lasts.
/// </summary>
internal sealed class RunHeavyLoad(int perRequest)
{
    public const int LogSpansPerRun = 9;

    public const int SpansPerRun = LogSpansPerRun + 1;

    /// <summary>What a run shows in <c>logs</c>: its korelogger logs and the printed line (mirrors are not repeated).</summary>
    public const int LogsPerRun = LogSpansPerRun + 1;

    private const int FailedOneIn = 20;

    private static readonly (string Name, string Function)[] Scripts =
    [
        ("bench-orders", "sync_orders"),
        ("bench-leads", "score_leads"),
        ("bench-chat", "call_openai_chat"),
        ("bench-report", "build_report"),
    ];

    private static readonly string[] Tiers = ["free", "pro", "enterprise"];

    private static readonly string[] Labels = ["priority", "follow-up"];

    private readonly string _prefix = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()[..4]);
    private long _runs;

    public int RunsPerRequest { get; } = Math.Max(1, perRequest / SpansPerRun);

    /// <summary>Whole runs adding up to <paramref name="totalSpans"/> spans (rounded up to a run), encoded once.</summary>
    public static List<LoadRequest> EncodedRequests(int totalSpans, int perRequest)
    {
        var load = new RunHeavyLoad(perRequest);
        var runs = (totalSpans + SpansPerRun - 1) / SpansPerRun;
        var requests = new List<LoadRequest>();
        for (var done = 0; done < runs; done += load.RunsPerRequest)
        {
            requests.Add(load.Next(Math.Min(load.RunsPerRequest, runs - done)));
        }

        return requests;
    }

    /// <summary>The next request of <see cref="RunsPerRequest"/> fresh runs, ending now.</summary>
    public LoadRequest Next() => Next(RunsPerRequest);

    private LoadRequest Next(int runs)
    {
        var now = DateTime.UtcNow;
        var request = new ExportTraceServiceRequest();
        var scopes = new ScopeSpans?[Scripts.Length];
        for (var i = 0; i < runs; i++)
        {
            var n = _runs++;
            var script = (int)(n % Scripts.Length);
            AddRun(n, Scripts[script].Function, now, (scopes[script] ??= NewScope(request, Scripts[script].Name)).Spans);
        }

        return new LoadRequest(request.ToByteArray(), runs * LogsPerRun, runs);
    }

    private static ScopeSpans NewScope(ExportTraceServiceRequest request, string script)
    {
        var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "korelogger" } };
        request.ResourceSpans.Add(new ResourceSpans
        {
            Resource = new Resource { Attributes = { Otlp.Attr("service.name", script), Otlp.Attr("deployment.environment", "bench") } },
            ScopeSpans = { scope },
        });
        return scope;
    }

    private void AddRun(long n, string function, DateTime end, RepeatedField<Span> spans)
    {
        var failed = n % FailedOneIn == FailedOneIn - 1;
        var durationMs = 150 + (int)(n * 7919 % 1850);
        var start = end.AddMilliseconds(-durationMs);
        var trace = ByteString.CopyFrom(RandomUuid().ToByteArray());
        var traceHex = Convert.ToHexStringLower(trace.Span);
        var runSpanId = SpanId();
        var api = n / Scripts.Length % 2 == 0;
        var context = new[]
        {
            Otlp.Attr("run_id", $"run_{_prefix}_{n}"),
            Otlp.Attr("deployment_id", $"deploy_{function}_1"),
            Otlp.Attr("source", api ? "api_call" : "flow_nightly"),
            Otlp.Attr("source_type", api ? "API" : "Tool"),
        };

        var stdout = new StringBuilder();
        var lines = Lines(n, function, durationMs, failed);
        for (var k = 0; k < lines.Length; k++)
        {
            var (level, message) = lines[k];
            var spanId = SpanId();
            var nanos = Otlp.Nanos(start.AddMilliseconds(durationMs * (k + 1) / (LogSpansPerRun + 2.0)));
            spans.Add(new Span
            {
                TraceId = trace,
                SpanId = spanId,
                ParentSpanId = runSpanId,
                Name = $"gvisor_{level.ToLowerInvariant()}_log",
                Kind = Span.Types.SpanKind.Internal,
                StartTimeUnixNano = nanos,
                EndTimeUnixNano = nanos + 39_000,
                Attributes =
                {
                    context,
                    Otlp.Attr("traceparent", $"00-{traceHex}-{Convert.ToHexStringLower(spanId.Span)}-01"),
                    Otlp.Attr("log.message", message),
                    Otlp.Attr("log.level", level),
                    Otlp.Attr("log.meta.msg", message),
                    Otlp.Attr("log.meta.pid", (40 + (n % 20)).ToString(CultureInfo.InvariantCulture)),
                    Otlp.Attr("log.meta.logid", RandomUuid().ToString()),
                },
            });
            stdout.Append(level).Append(" :: ").Append(message).Append('\n');
            if (k == 3)
            {
                stdout.Append("Checking print function... ").Append(n % 500).Append(" items in the batch\n");
            }
        }

        spans.Add(new Span
        {
            TraceId = trace,
            SpanId = runSpanId,
            Name = "script_run",
            Kind = Span.Types.SpanKind.Server,
            StartTimeUnixNano = Otlp.Nanos(start),
            EndTimeUnixNano = Otlp.Nanos(end),
            Status = failed
                ? new Status { Code = Status.Types.StatusCode.Error, Message = "UpstreamError: orders-api answered 502 Bad Gateway after 3 attempts" }
                : new Status { Code = Status.Types.StatusCode.Ok },
            Attributes =
            {
                context,
                Otlp.Attr("function", function),
                Otlp.Attr("input", JsonSerializer.Serialize(new
                {
                    request_id = RandomUuid(),
                    customer = new { id = n % 100_000, tier = Tiers[n % Tiers.Length] },
                    items = new[] { n % 97, n % 89, n % 83 },
                    options = new { dry_run = false, locale = "en-US" },
                })),
                Otlp.Attr("output", failed
                    ? JsonSerializer.Serialize(new { status = "error", processed = n % 500, duration_ms = durationMs, error = new { type = "UpstreamError", code = 502, detail = "bad gateway from orders-api" } })
                    : JsonSerializer.Serialize(new { status = "ok", processed = n % 500, duration_ms = durationMs, result = new { score = n % 1000 / 1000.0, labels = Labels }, warnings = Array.Empty<string>() })),
                Otlp.Attr("stdout", stdout.ToString()),
            },
        });
    }

    /// <summary>The run's 9 korelogger lines: level and message.</summary>
    private static (string Level, string Message)[] Lines(long n, string function, int durationMs, bool failed) =>
    [
        ("INFO", $"Starting {function} for request {n}"),
        ("DEBUG", "Loaded configuration: 12 keys, region eu-west-1"),
        ("INFO", $"Fetched {n % 500} records from upstream in {durationMs / 4} ms"),
        ("DEBUG", $"Cache miss for key item:{n % 10_000}"),
        ("INFO", "Validated payload: 3 fields, 0 errors"),
        ("WARNING", $"Slow response from upstream ({durationMs / 3} ms), retrying once"),
        ("INFO", $"Transformed {n % 500} records"),
        ("DEBUG", "Writing results to the output buffer"),
        failed ? ("ERROR", $"Failed {function}: upstream answered 502") : ("INFO", $"Finished {function} in {durationMs} ms"),
    ];

    /// <summary>A random (version 4) UUID, cheaper than <see cref="Guid.NewGuid"/>, whose randomness is cryptographic.</summary>
    private static Guid RandomUuid()
    {
        Span<byte> bytes = stackalloc byte[16];
        Random.Shared.NextBytes(bytes);
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes);
    }

    private static ByteString SpanId() =>
        UnsafeByteOperations.UnsafeWrap(BitConverter.GetBytes(Random.Shared.NextInt64(1, long.MaxValue)));
}
