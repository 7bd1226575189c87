using System.Net.Http.Headers;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace Pipeline.Forwarding;

/// <summary>
/// Sends one queued export to the upstream and says what became of it (<see cref="SendResult"/>), with
/// <see cref="ForwardOptions.Headers"/> on every request and <see cref="ForwardOptions.Timeout"/> per attempt. The
/// queued bytes go out as they are: never decoded and encoded again, so every attempt of an export carries the same
/// bytes and a Pipeline upstream recognises a repeat by their digest.
/// </summary>
internal abstract class UpstreamClient : IDisposable
{
    public static UpstreamClient Create(ForwardOptions options) => options.IsHttp ? new HttpUpstream(options) : new GrpcUpstream(options);

    /// <summary>One attempt; throws <see cref="OperationCanceledException"/> only when <paramref name="cancellationToken"/> is cancelled.</summary>
    public abstract Task<SendResult> SendAsync(SignalKind kind, byte[] payload, CancellationToken cancellationToken);

    public abstract void Dispose();

    protected static SocketsHttpHandler Handler() => new()
    {
        EnableMultipleHttp2Connections = true,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        KeepAlivePingDelay = TimeSpan.FromSeconds(30),
        KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
    };
}

/// <summary>OTLP/gRPC: the TraceService and LogsService Export methods, with the request as raw bytes.</summary>
internal sealed class GrpcUpstream : UpstreamClient
{
    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(bytes => bytes, bytes => bytes);

    private static readonly Method<byte[], ExportTraceServiceResponse> TraceExport = new(
        MethodType.Unary, TraceService.Descriptor.FullName, "Export", Raw, Marshallers.Create(r => r.ToByteArray(), ExportTraceServiceResponse.Parser.ParseFrom));

    private static readonly Method<byte[], ExportLogsServiceResponse> LogsExport = new(
        MethodType.Unary, LogsService.Descriptor.FullName, "Export", Raw, Marshallers.Create(r => r.ToByteArray(), ExportLogsServiceResponse.Parser.ParseFrom));

    private readonly GrpcChannel _channel;
    private readonly CallInvoker _invoker;
    private readonly Metadata _headers = [];
    private readonly TimeSpan _timeout;

    public GrpcUpstream(ForwardOptions options)
    {
        _timeout = options.Timeout;
        _channel = GrpcChannel.ForAddress(options.Endpoint, new GrpcChannelOptions
        {
            HttpHandler = Handler(),
            MaxSendMessageSize = null,
            MaxReceiveMessageSize = 16 * 1024 * 1024,
        });
        _invoker = _channel.CreateCallInvoker();
        foreach (var (name, value) in options.Headers)
        {
            _headers.Add(name.ToLowerInvariant(), value);
        }
    }

    public override async Task<SendResult> SendAsync(SignalKind kind, byte[] payload, CancellationToken cancellationToken)
    {
        var call = new CallOptions(_headers, DateTime.UtcNow + _timeout, cancellationToken);
        try
        {
            if (kind == SignalKind.Traces)
            {
                var traces = await _invoker.AsyncUnaryCall(TraceExport, null, call, payload).ConfigureAwait(false);
                return SendResult.Sent(traces.PartialSuccess?.RejectedSpans ?? 0, traces.PartialSuccess?.ErrorMessage ?? string.Empty);
            }

            var logs = await _invoker.AsyncUnaryCall(LogsExport, null, call, payload).ConfigureAwait(false);
            return SendResult.Sent(logs.PartialSuccess?.RejectedLogRecords ?? 0, logs.PartialSuccess?.ErrorMessage ?? string.Empty);
        }
        catch (RpcException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        catch (RpcException ex)
        {
            return SendResult.FromGrpc(ex);
        }
    }

    public override void Dispose() => _channel.Dispose();
}

/// <summary>OTLP/HTTP: protobuf bodies posted to <c>/v1/traces</c> and <c>/v1/logs</c> under the endpoint.</summary>
internal sealed class HttpUpstream : UpstreamClient
{
    private const int MaxMessageChars = 512;

    private readonly HttpClient _http;
    private readonly Uri _traces;
    private readonly Uri _logs;
    private readonly TimeSpan _timeout;
    private readonly KeyValuePair<string, string>[] _headers;

    public HttpUpstream(ForwardOptions options)
    {
        _timeout = options.Timeout;
        _http = new HttpClient(Handler()) { Timeout = Timeout.InfiniteTimeSpan };
        var root = options.Endpoint.TrimEnd('/');
        _traces = new Uri(root + "/v1/traces");
        _logs = new Uri(root + "/v1/logs");
        _headers = [.. options.Headers];
    }

    public override async Task<SendResult> SendAsync(SignalKind kind, byte[] payload, CancellationToken cancellationToken)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(_timeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, kind == SignalKind.Traces ? _traces : _logs)
        {
            Content = new ByteArrayContent(payload),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        foreach (var (name, value) in _headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        try
        {
            using var response = await _http.SendAsync(request, attempt.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(attempt.Token).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return Accepted(kind, body);
            }

            return SendResult.FromHttp(response.StatusCode, SendResult.RetryAfterOf(response.Headers.RetryAfter, DateTimeOffset.UtcNow), Describe(body));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            return new SendResult(SendOutcome.Retry, "timeout", $"no answer within Forward:Timeout {_timeout}");
        }
        catch (HttpRequestException ex)
        {
            return new SendResult(SendOutcome.Retry, "connection", ex.Message);
        }
    }

    public override void Dispose() => _http.Dispose();

    /// <summary>A 2xx answer: its partial success, if it says one (an unreadable body still means accepted).</summary>
    private static SendResult Accepted(SignalKind kind, byte[] body)
    {
        try
        {
            if (kind == SignalKind.Traces)
            {
                var traces = ExportTraceServiceResponse.Parser.ParseFrom(body);
                return SendResult.Sent(traces.PartialSuccess?.RejectedSpans ?? 0, traces.PartialSuccess?.ErrorMessage ?? string.Empty);
            }

            var logs = ExportLogsServiceResponse.Parser.ParseFrom(body);
            return SendResult.Sent(logs.PartialSuccess?.RejectedLogRecords ?? 0, logs.PartialSuccess?.ErrorMessage ?? string.Empty);
        }
        catch (InvalidProtocolBufferException)
        {
            return SendResult.Sent();
        }
    }

    /// <summary>The message of a <c>google.rpc.Status</c> body, or the start of the body as text.</summary>
    private static string Describe(byte[] body)
    {
        try
        {
            var status = Google.Rpc.Status.Parser.ParseFrom(body);
            if (status.Message.Length > 0)
            {
                return status.Message;
            }
        }
        catch (InvalidProtocolBufferException)
        {
            // Not protobuf: text, JSON or HTML from a proxy.
        }

        var text = System.Text.Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, MaxMessageChars * 4));
        return text.Length > MaxMessageChars ? text[..MaxMessageChars] : text;
    }
}
