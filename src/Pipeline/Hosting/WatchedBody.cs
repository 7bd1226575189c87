using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace Pipeline.Hosting;

/// <summary>A request body that remembers the first read that failed.</summary>
internal interface IWatchedBody
{
    /// <summary>The first exception a read threw, if any.</summary>
    Exception? Failure { get; }
}

/// <summary>
/// The body as a pipe (how grpc-dotnet reads it), in front of Kestrel's own reader: nothing is copied, only failures
/// are remembered.
/// </summary>
internal sealed class WatchedBodyReader(PipeReader inner) : PipeReader, IWatchedBody, IRequestBodyPipeFeature
{
    public Exception? Failure { get; private set; }

    PipeReader IRequestBodyPipeFeature.Reader => this;

    public static WatchedBodyReader Install(HttpContext context)
    {
        var reader = new WatchedBodyReader(context.Request.BodyReader);
        context.Features.Set<IRequestBodyPipeFeature>(reader);
        return reader;
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return Watch(inner.ReadAsync(cancellationToken));
        }
        catch (Exception ex)
        {
            Failure ??= ex;
            throw;
        }
    }

    public override bool TryRead(out ReadResult result)
    {
        try
        {
            return inner.TryRead(out result);
        }
        catch (Exception ex)
        {
            Failure ??= ex;
            throw;
        }
    }

    public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    protected override ValueTask<ReadResult> ReadAtLeastAsyncCore(int minimumSize, CancellationToken cancellationToken)
    {
        try
        {
            return Watch(inner.ReadAtLeastAsync(minimumSize, cancellationToken));
        }
        catch (Exception ex)
        {
            Failure ??= ex;
            throw;
        }
    }

    /// <summary>A read that has completed is passed through as it is; only one still pending is awaited here.</summary>
    private ValueTask<ReadResult> Watch(ValueTask<ReadResult> read) => read.IsCompletedSuccessfully ? read : AwaitAsync(read);

    private async ValueTask<ReadResult> AwaitAsync(ValueTask<ReadResult> read)
    {
        try
        {
            return await read.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Failure ??= ex;
            throw;
        }
    }
}

/// <summary>
/// The body as a stream. Kestrel builds <see cref="HttpRequest.BodyReader"/> over a replaced <see cref="HttpRequest.Body"/>,
/// so this sees the reads of both, whichever a framework's body binding uses.
/// </summary>
internal sealed class WatchedBodyStream(Stream inner) : Stream, IWatchedBody
{
    public Exception? Failure { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public static WatchedBodyStream Install(HttpContext context)
    {
        var stream = new WatchedBodyStream(context.Request.Body);
        context.Request.Body = stream;
        return stream;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        try
        {
            return inner.Read(buffer);
        }
        catch (Exception ex)
        {
            Failure ??= ex;
            throw;
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Failure ??= ex;
            throw;
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
