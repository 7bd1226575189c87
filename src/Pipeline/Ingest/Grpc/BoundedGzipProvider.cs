using System.IO.Compression;
using Grpc.Core;
using Grpc.Net.Compression;

namespace Pipeline.Ingest.Grpc;

/// <summary>
/// gzip for gRPC messages that stops at the receive limit. grpc-dotnet checks the size of the compressed frame only,
/// then inflates it whole; without this a small compressed request could inflate without bound. A body that is not
/// valid gzip is INVALID_ARGUMENT (grpc-dotnet would answer UNKNOWN and log the client's mistake as its own error).
/// </summary>
internal sealed class BoundedGzipProvider(int maxBytes) : ICompressionProvider
{
    public string EncodingName => "gzip";

    public Stream CreateCompressionStream(Stream stream, CompressionLevel? compressionLevel) =>
        new GZipStream(stream, compressionLevel ?? CompressionLevel.Fastest, leaveOpen: true);

    public Stream CreateDecompressionStream(Stream stream) =>
        new LimitedReadStream(new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true), maxBytes);

    private sealed class LimitedReadStream(Stream inner, int limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            try
            {
                return Count(inner.Read(buffer));
            }
            catch (InvalidDataException ex)
            {
                throw NotGzip(ex);
            }
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));
            }
            catch (InvalidDataException ex)
            {
                throw NotGzip(ex);
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() { }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        private static RpcException NotGzip(InvalidDataException ex) =>
            new(new Status(StatusCode.InvalidArgument, $"body is not valid gzip: {ex.Message}"));

        private int Count(int read)
        {
            _read += read;
            if (_read > limit)
            {
                throw new RpcException(new Status(StatusCode.ResourceExhausted,
                    $"request exceeds the {limit}-byte limit after decompression"));
            }

            return read;
        }
    }
}
