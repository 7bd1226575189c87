using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Pipeline.Hosting;

namespace Pipeline.Api;

/// <summary>
/// The API port's body limit (<see cref="ApiOptions.MaxRequestBodyBytes"/>). Kestrel has no global limit (the OTLP
/// receivers set their own), so the API's requests get theirs here: a declared length over it is refused unread, and
/// a body without a declared length is read (up to the limit) before the endpoint sees it, so that a body too large
/// is answered 413 with a message rather than failing mid-parse.
/// </summary>
internal sealed class ApiBodyLimit(RequestDelegate next, IOptions<ApiOptions> options)
{
    private readonly long _limit = options.Value.MaxRequestBodyBytes;

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Path.StartsWithSegments("/v1") || ListenerRouting.IsGrpc(request.Path)
            || (request.ContentLength is null or 0 && !request.Headers.TransferEncoding.Any(t => t?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true)))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        if (request.ContentLength > _limit)
        {
            await TooLargeAsync(context).ConfigureAwait(false);
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = _limit;
        }

        if (request.ContentLength is null)
        {
            request.EnableBuffering(bufferThreshold: 64 * 1024, bufferLimit: _limit);
            try
            {
                await request.Body.CopyToAsync(Stream.Null, context.RequestAborted).ConfigureAwait(false);
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                await TooLargeAsync(context).ConfigureAwait(false);
                return;
            }
            catch (IOException)
            {
                await TooLargeAsync(context).ConfigureAwait(false); // The buffer's own limit.
                return;
            }

            request.Body.Position = 0;
        }

        await next(context).ConfigureAwait(false);
    }

    private Task TooLargeAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
        return context.Response.WriteAsJsonAsync(
            new ApiError($"request body exceeds the API's {_limit}-byte limit (Api:MaxRequestBodyBytes)"), context.RequestAborted);
    }
}
