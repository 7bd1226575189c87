using System.Text.Json;
using Microsoft.Extensions.Options;
using Pipeline.Api;
using Pipeline.Diagnostics;
using Pipeline.Hosting;
using Pipeline.Ingest.Grpc;
using Pipeline.Ingest.Http;

namespace Pipeline.Security;

/// <summary>
/// Asks each surface for its token before anything else is done for the request (no budget, no body read):
/// OTLP on both transports for an ingest token, <c>/api</c> (query API, live streams, exports, SQL) for a read token
/// (a header, or the console's sign-in cookie), <c>/metrics</c> for a metrics token when one exists. The grant's
/// <see cref="ScriptScope"/> goes on the request for the handlers. A refusal says only that the token is missing or
/// wrong: UNAUTHENTICATED on gRPC, 401 with a Bearer challenge on HTTP. Health, the console's files, OpenAPI and
/// the sign-in endpoint stay open.
/// </summary>
internal sealed class Authentication(RequestDelegate next, Tokens tokens, PipelineMetrics metrics, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
{
    private const string Refusal = "missing or invalid bearer token: send Authorization: Bearer <token>";

    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        var grpc = ListenerRouting.IsGrpc(path);
        if (grpc || path.StartsWithSegments("/v1"))
        {
            return !tokens.IngestLocked ? next(context)
                : Admit(context, tokens.Find(TokenKind.Ingest, Bearer.FromHeader(context.Request))) ? next(context)
                : Refuse(context, "ingest", grpc
                    ? GrpcErrors.WriteTrailersOnlyAsync(context, new Google.Rpc.Status { Code = (int)Google.Rpc.Code.Unauthenticated, Message = Refusal })
                    : OtlpHttpEndpoints.UnauthenticatedAsync(context, Refusal));
        }

        if (path.StartsWithSegments("/api") && !path.StartsWithSegments(SessionEndpoints.Path))
        {
            return !tokens.ReadLocked ? next(context)
                : Admit(context, tokens.Find(TokenKind.Read, Bearer.FromHeader(context.Request) ?? Bearer.FromCookie(context.Request))) ? next(context)
                : Refuse(context, "read", ApiRefusalAsync(context));
        }

        if (path.StartsWithSegments("/metrics") && tokens.MetricsLocked && tokens.Find(TokenKind.Metrics, Bearer.FromHeader(context.Request)) is null)
        {
            return Refuse(context, "metrics", ApiRefusalAsync(context));
        }

        return next(context);
    }

    private static bool Admit(HttpContext context, Grant? grant)
    {
        if (grant is null)
        {
            return false;
        }

        context.Features.Set(grant.Scope);
        context.Features.Set(grant);
        return true;
    }

    private Task Refuse(HttpContext context, string surface, Task answer)
    {
        metrics.Unauthenticated(surface);
        return answer;
    }

    private Task ApiRefusalAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer";
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new ApiError(Refusal), json.Value.SerializerOptions));
    }
}

/// <summary>Where a request carries its token.</summary>
internal static class Bearer
{
    /// <summary>The console's sign-in cookie: the read token, HttpOnly and SameSite=Strict.</summary>
    public const string CookieName = "pipeline_token";

    /// <summary>The token of <c>Authorization: Bearer &lt;token&gt;</c> (gRPC metadata arrives as the same header), or null.</summary>
    public static string? FromHeader(HttpRequest request)
    {
        const string scheme = "Bearer ";
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) && header[scheme.Length..].Trim() is { Length: > 0 } token ? token : null;
    }

    public static string? FromCookie(HttpRequest request) =>
        request.Cookies.TryGetValue(CookieName, out var token) && token.Length > 0 ? token : null;

    /// <summary>The scripts the request's token reaches; every script when authentication is off.</summary>
    public static ScriptScope Scope(this HttpContext context) => context.Features.Get<ScriptScope>() ?? ScriptScope.All;

    /// <summary>Whether the request's token is still accepted (always, when the request needed none).</summary>
    public static Func<bool> StillAuthorized(this HttpContext context)
    {
        var grant = context.Features.Get<Grant>();
        var tokens = context.RequestServices.GetRequiredService<Tokens>();
        return grant is null ? () => true : () => tokens.StillAccepts(grant);
    }
}
