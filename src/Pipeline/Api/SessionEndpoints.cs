using Pipeline.Diagnostics;
using Pipeline.Hosting;
using Pipeline.Security;

namespace Pipeline.Api;

/// <summary>What the console learns about its session: whether tokens are asked for, and whether it has one.</summary>
public sealed record SessionView(bool Authentication, bool SignedIn, string? Name, string Scripts, string Mode);

/// <summary>
/// The console's sign-in: <c>POST /api/session</c> takes a read token from the sign-in form and keeps it in an
/// HttpOnly, SameSite=Strict cookie (Secure over HTTPS) for the browser's session; <c>DELETE /api/session</c> signs
/// out; <c>GET /api/session</c> tells the page which it is. Open to all, as the sign-in page must be: a wrong token
/// gets the same answer whichever token it was.
/// </summary>
internal static class SessionEndpoints
{
    public const string Path = "/api/session";

    public static IEndpointRouteBuilder MapSession(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, (HttpContext http, Tokens tokens, PipelineMode mode) =>
            {
                var grant = tokens.ReadLocked ? tokens.Find(TokenKind.Read, Bearer.FromHeader(http.Request) ?? Bearer.FromCookie(http.Request)) : null;
                return TypedResults.Ok(new SessionView(tokens.ReadLocked, grant is not null, grant?.Name, (grant?.Scope ?? ScriptScope.All).ToString(), mode.Name));
            })
            .WithSummary("The console's session: whether read tokens are asked for, and whether this browser is signed in (and to which scripts).");

        app.MapPost(Path, async Task<IResult> (HttpContext http, Tokens tokens, PipelineMetrics metrics) =>
            {
                if (!SameOrigin(http.Request))
                {
                    return TypedResults.Json(new ApiError("sign-in must come from this console's own page (the Origin header names another site)"), statusCode: StatusCodes.Status403Forbidden);
                }

                var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(http.RequestAborted).ConfigureAwait(false) : null;
                var token = form?["token"].ToString().Trim();
                if (tokens.Find(TokenKind.Read, token) is null)
                {
                    metrics.Unauthenticated("read");
                    return TypedResults.Redirect("/signin.html?failed=1");
                }

                http.Response.Cookies.Append(Bearer.CookieName, token!, new CookieOptions
                {
                    HttpOnly = true,
                    SameSite = SameSiteMode.Strict,
                    Secure = http.Request.IsHttps,
                    Path = "/",
                    IsEssential = true,
                });
                return TypedResults.Redirect("/");
            })
            .DisableAntiforgery()
            .WithSummary("Sign in with a read token (form field token): sets the HttpOnly session cookie and returns to the console; a wrong token returns to the sign-in page.");

        app.MapDelete(Path, (HttpContext http) =>
            {
                http.Response.Cookies.Delete(Bearer.CookieName, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = http.Request.IsHttps, Path = "/" });
                return TypedResults.NoContent();
            })
            .WithSummary("Sign out: the session cookie is removed.");
        return app;
    }

    /// <summary>A browser's form post names its page's origin; one from another site is refused (no cross-site sign-in).</summary>
    private static bool SameOrigin(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        return origin.Length == 0
            || (Uri.TryCreate(origin, UriKind.Absolute, out var uri)
                && string.Equals(uri.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase)
                && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase));
    }
}
