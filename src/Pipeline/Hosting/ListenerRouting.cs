using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Pipeline.Hosting;

/// <summary>Where a started daemon listens, with the ports actually bound.</summary>
public sealed record ListeningAddresses(Uri Grpc, Uri Http, Uri Api)
{
    /// <summary>
    /// Kestrel reports its endpoints in the order they were configured: gRPC, OTLP/HTTP, API; each <c>https://</c> when
    /// its listener serves TLS, else <c>http://</c>. A lake-mode daemon has the API's only: it stands for all three
    /// (no OTLP endpoint is mapped there).
    /// </summary>
    public static ListeningAddresses Of(IServer server)
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();
        return addresses.Count == 1
            ? new ListeningAddresses(addresses[0], addresses[0], addresses[0])
            : new ListeningAddresses(addresses[0], addresses[1], addresses[2]);
    }
}

/// <summary>
/// Keeps each listener to its own surface: OTLP/HTTP only on its port, gRPC only on the gRPC port, and everything
/// else (the web console, the query API, health, OpenAPI) only on the API port. Sandboxes that may reach the OTLP
/// ports never reach the query API or SQL.
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
            : IsGrpc(path) ? port == addresses.Grpc.Port
            : port == addresses.Api.Port;
        if (allowed)
        {
            return next(context);
        }

        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    internal static bool IsGrpc(PathString path) =>
        path.StartsWithSegments("/opentelemetry.proto.collector.trace.v1.TraceService")
        || path.StartsWithSegments("/opentelemetry.proto.collector.logs.v1.LogsService");
}
