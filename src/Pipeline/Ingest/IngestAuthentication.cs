using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Pipeline.Hosting;
using Pipeline.Ingest.Grpc;
using Pipeline.Ingest.Http;

namespace Pipeline.Ingest;

/// <summary>
/// Checks the ingest token on both OTLP transports before anything else (no budget, no body read): a request
/// without <c>Authorization: Bearer &lt;Security:IngestToken&gt;</c> is answered UNAUTHENTICATED (gRPC) or 401
/// (OTLP/HTTP), saying only that the token is missing or wrong. The comparison takes the same time whatever the
/// token sent. Off while no ingest token is configured.
/// </summary>
internal sealed class IngestAuthentication(RequestDelegate next, IOptions<SecurityOptions> options)
{
    private const string Refusal = "missing or invalid bearer token: send Authorization: Bearer <token>";
    private readonly byte[]? _expected = options.Value.IngestToken.Length > 0 ? Digest(options.Value.IngestToken) : null;

    public Task InvokeAsync(HttpContext context)
    {
        var grpc = ListenerRouting.IsGrpc(context.Request.Path);
        if (_expected is null || !(grpc || context.Request.Path.StartsWithSegments("/v1")) || Presents(context.Request))
        {
            return next(context);
        }

        return grpc
            ? GrpcErrors.WriteTrailersOnlyAsync(context, new Google.Rpc.Status { Code = (int)Google.Rpc.Code.Unauthenticated, Message = Refusal })
            : OtlpHttpEndpoints.UnauthenticatedAsync(context, Refusal);
    }

    private bool Presents(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        var token = header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? header[scheme.Length..].Trim() : string.Empty;

        // Digests of equal length, compared in fixed time: neither the token's length nor its prefix shows in timing.
        return CryptographicOperations.FixedTimeEquals(Digest(token), _expected);
    }

    private static byte[] Digest(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
