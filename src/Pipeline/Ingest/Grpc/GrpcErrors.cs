using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Pipeline.Buffering;
using Pipeline.Storage;

namespace Pipeline.Ingest.Grpc;

/// <summary>Retryable refusals in gRPC terms: UNAVAILABLE with a <c>google.rpc.RetryInfo</c> detail, as OTLP asks.</summary>
internal static class GrpcErrors
{
    public static async Task<T> Translate<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (ChannelFullException ex)
        {
            throw Unavailable(ex.Message, ex.RetryAfter);
        }
        catch (StorageException ex)
        {
            throw Unavailable(ex.Message, TimeSpan.FromSeconds(1));
        }
    }

    private static RpcException Unavailable(string message, TimeSpan retryAfter) => new Google.Rpc.Status
    {
        Code = (int)Code.Unavailable,
        Message = message,
        Details = { Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(retryAfter) }) },
    }.ToRpcException();
}
