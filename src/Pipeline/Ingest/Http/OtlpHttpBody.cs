using System.IO.Compression;
using Microsoft.AspNetCore.Http.Features;
using Pipeline.Buffering;
using Pipeline.Diagnostics;

namespace Pipeline.Ingest.Http;

/// <summary>The OTLP/HTTP body encodings we accept.</summary>
internal enum BodyFormat
{
    Protobuf,
    Json,
}

/// <summary>A request refused before it reached OTLP decoding: the status to answer and why.</summary>
internal sealed class BodyRejectedException(int statusCode, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
}

/// <summary>The client failed to deliver the body (see <see cref="ClientFault"/>); <see cref="Exception.InnerException"/> is what Kestrel said.</summary>
internal sealed class ClientFaultException(ClientFault fault, Exception inner) : Exception($"client fault {fault}", inner)
{
    public ClientFault Fault { get; } = fault;
}

/// <summary>Reads an OTLP/HTTP body: content type, optional gzip, and the size limit applied after decompression.</summary>
internal static class OtlpHttpBody
{
    public static BodyFormat FormatOf(HttpRequest request)
    {
        var mediaType = request.ContentType?.Split(';', 2)[0].Trim();
        if (string.Equals(mediaType, "application/x-protobuf", StringComparison.OrdinalIgnoreCase))
        {
            return BodyFormat.Protobuf;
        }

        if (string.Equals(mediaType, "application/json", StringComparison.OrdinalIgnoreCase))
        {
            return BodyFormat.Json;
        }

        throw new BodyRejectedException(
            StatusCodes.Status415UnsupportedMediaType,
            $"unsupported content type '{request.ContentType}': send application/x-protobuf or application/json");
    }

    /// <summary>
    /// Reads the body, decompressed. <paramref name="admit"/> is asked for room as the bytes accumulate and answers a
    /// refusal (thrown) when the bytes in flight would pass their budget. A body the client fails to deliver (too
    /// slow, aborted, cut short) throws <see cref="ClientFaultException"/>.
    /// </summary>
    public static async Task<byte[]> ReadAsync(HttpRequest request, int maxBytes, Func<long, RetryLaterException?> admit, CancellationToken cancellationToken)
    {
        var encoding = request.Headers.ContentEncoding.ToString().Trim();
        var gzip = encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase);
        if (!gzip && encoding.Length > 0 && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            throw new BodyRejectedException(
                StatusCodes.Status415UnsupportedMediaType, $"unsupported content encoding '{encoding}': send gzip or no encoding");
        }

        // A declared length over the limit is refused unread. The body limit is set only after that check, so that
        // Kestrel can still drain what the client sends and the client reads the 413 rather than a reset.
        if (request.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = maxBytes;
        }

        try
        {
            var source = gzip ? new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true) : request.Body;
            await using (source.ConfigureAwait(false))
            {
                return await ReadLimitedAsync(source, maxBytes, admit, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(maxBytes);
        }
        catch (InvalidDataException ex)
        {
            throw new BodyRejectedException(StatusCodes.Status400BadRequest, $"body is not valid gzip: {ex.Message}");
        }
        catch (Exception ex) when (ClientFaultLog.Classify(ex, request.HttpContext.RequestAborted.IsCancellationRequested) is { } fault)
        {
            throw new ClientFaultException(fault, ex);
        }
    }

    private static async Task<byte[]> ReadLimitedAsync(Stream source, int maxBytes, Func<long, RetryLaterException?> admit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81_920];
        int read;
        while ((read = await source.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw TooLarge(maxBytes);
            }

            if (admit(buffer.Length + read) is { } refusal)
            {
                throw refusal;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static BodyRejectedException TooLarge(int maxBytes) =>
        new(StatusCodes.Status413PayloadTooLarge, $"request body exceeds the {maxBytes}-byte limit (after decompression)");
}
