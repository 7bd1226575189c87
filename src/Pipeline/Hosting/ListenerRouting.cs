using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Pipeline.Hosting;

/// <summary>Where a started daemon listens, with the ports actually bound.</summary>
public sealed record ListeningAddresses(Uri Grpc, Uri Http, Uri Api)
{
    /// <summary>Kestrel reports its endpoints in the order they were configured: gRPC, OTLP/HTTP, API.</summary>
    public static ListeningAddresses Of(IServer server)
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();
        return new ListeningAddresses(addresses[0], addresses[1], addresses[2]);
    }
}

/// <summary>
/// Keeps each listener to its own surface: the query API (and health) only on the API port, OTLP/HTTP only on its
/// port, gRPC only on the gRPC port. Sandboxes that may reach the OTLP ports never reach the query API or SQL.
/// </summary>
internal sealed class ListenerRouting(RequestDelegate next, IServer server)
{
    private ListeningAddresses? _addresses;

    public Task InvokeAsync(HttpContext context)
    {
        var addresses = _addresses ??= ListeningAddresses.Of(server);
        var port = context.Connection.LocalPort;
        var path = context.Request.Path;
        var allowed = path.StartsWithSegments("/v1") ? port == addresses.Http.Port
            : IsApi(path) ? port == addresses.Api.Port
            : port == addresses.Grpc.Port;
        if (allowed)
        {
            return next(context);
        }

        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    private static bool IsApi(PathString path) =>
        path.StartsWithSegments("/api") || path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/openapi");
}
