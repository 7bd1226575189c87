using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;

namespace Pipeline.Tests.Support;

/// <summary>gRPC requests written by hand over HTTP/2 with prior knowledge: frames and failures a generated client never sends.</summary>
internal static class RawGrpc
{
    public const string TraceExport = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

    public static HttpClient Client() => new(new SocketsHttpHandler())
    {
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TestDaemon.Timeout,
    };

    /// <summary>One length-prefixed message: the compressed flag, the length (big-endian), the bytes.</summary>
    public static byte[] Frame(bool compressed, byte[] payload, int? declaredLength = null)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = compressed ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)(declaredLength ?? payload.Length));
        payload.CopyTo(frame, 5);
        return frame;
    }

    public static HttpRequestMessage Request(Uri daemon, HttpContent content, string? encoding = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(daemon, TraceExport))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        if (encoding is not null)
        {
            request.Headers.Add("grpc-encoding", encoding);
        }

        return request;
    }

    /// <summary>A header of the call's status: from the trailers, or from the headers of a trailers-only answer.</summary>
    public static string? Status(HttpResponseMessage response, string name) =>
        response.TrailingHeaders.TryGetValues(name, out var trailer) ? trailer.Single()
        : response.Headers.TryGetValues(name, out var header) ? header.Single()
        : null;
}
