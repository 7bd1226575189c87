using System.Net;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Pipeline.Forwarding;

namespace Pipeline.Tests.Forwarding;

public sealed class ForwardRetryRulesTests
{
    [Fact]
    public void Grpc_UnavailableWithRetryInfo_IsRetriedAfterTheAskedDelay()
    {
        var status = new Google.Rpc.Status
        {
            Code = (int)Code.Unavailable,
            Message = "channel full",
            Details = { Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(TimeSpan.FromSeconds(7)) }) },
        };

        var result = SendResult.FromGrpc(status.ToRpcException());

        Assert.Equal((SendOutcome.Retry, TimeSpan.FromSeconds(7)), (result.Outcome, result.RetryAfter));
        Assert.Equal("channel full", result.Message);
    }

    [Theory]
    [InlineData(StatusCode.Unavailable, "Retry")]
    [InlineData(StatusCode.DeadlineExceeded, "Retry")]
    [InlineData(StatusCode.Aborted, "Retry")]
    [InlineData(StatusCode.Internal, "Retry")]
    [InlineData(StatusCode.Unauthenticated, "Misconfigured")]
    [InlineData(StatusCode.PermissionDenied, "Misconfigured")]
    [InlineData(StatusCode.Unimplemented, "Misconfigured")]
    [InlineData(StatusCode.InvalidArgument, "Rejected")]
    [InlineData(StatusCode.ResourceExhausted, "Rejected")]
    public void Grpc_Codes_AreSortedAsOtlpSays_ButAuthFailuresAreRetried(StatusCode code, string expected)
    {
        Assert.Equal(expected, SendResult.FromGrpc(new RpcException(new Grpc.Core.Status(code, "x"))).Outcome.ToString());
    }

    [Fact]
    public void Grpc_ResourceExhaustedWithRetryInfo_IsRetried()
    {
        var status = new Google.Rpc.Status
        {
            Code = (int)Code.ResourceExhausted,
            Details = { Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(TimeSpan.FromSeconds(2)) }) },
        };

        Assert.Equal(SendOutcome.Retry, SendResult.FromGrpc(status.ToRpcException()).Outcome);
    }

    [Theory]
    [InlineData(HttpStatusCode.TooManyRequests, "Retry")]
    [InlineData(HttpStatusCode.BadGateway, "Retry")]
    [InlineData(HttpStatusCode.ServiceUnavailable, "Retry")]
    [InlineData(HttpStatusCode.GatewayTimeout, "Retry")]
    [InlineData(HttpStatusCode.InternalServerError, "Retry")]
    [InlineData(HttpStatusCode.Unauthorized, "Misconfigured")]
    [InlineData(HttpStatusCode.Forbidden, "Misconfigured")]
    [InlineData(HttpStatusCode.NotFound, "Misconfigured")]
    [InlineData(HttpStatusCode.BadRequest, "Rejected")]
    [InlineData(HttpStatusCode.RequestEntityTooLarge, "Rejected")]
    public void Http_Statuses_AreSorted(HttpStatusCode status, string expected)
    {
        Assert.Equal(expected, SendResult.FromHttp(status, null, "m").Outcome.ToString());
    }

    [Fact]
    public void Http_RetryAfter_AsSecondsOrDate()
    {
        var now = new DateTimeOffset(2025, 5, 14, 6, 0, 0, TimeSpan.Zero);

        Assert.Equal(TimeSpan.FromSeconds(30), SendResult.RetryAfterOf(new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(30)), now));
        Assert.Equal(TimeSpan.FromMinutes(2), SendResult.RetryAfterOf(new System.Net.Http.Headers.RetryConditionHeaderValue(now.AddMinutes(2)), now));
        Assert.Null(SendResult.RetryAfterOf(null, now));
    }

    [Fact]
    public void Backoff_DoublesWithJitter_UpToTheMaximum_AndHonoursTheAskedDelay()
    {
        var min = TimeSpan.FromSeconds(1);
        var max = TimeSpan.FromSeconds(60);

        Assert.Equal(TimeSpan.FromSeconds(0.5), Backoff.Delay(1, min, max, null, 0));
        Assert.Equal(TimeSpan.FromSeconds(1), Backoff.Delay(1, min, max, null, 1));
        Assert.Equal(TimeSpan.FromSeconds(8), Backoff.Delay(4, min, max, null, 1));
        Assert.Equal(max, Backoff.Delay(30, min, max, null, 1));
        Assert.InRange(Backoff.Delay(1000, min, max, null, 0.5), TimeSpan.FromSeconds(30), max);
        Assert.Equal(TimeSpan.FromSeconds(90), Backoff.Delay(1, min, max, TimeSpan.FromSeconds(90), 0.5));
        Assert.Equal(Backoff.LongestHonoured, Backoff.Delay(1, min, max, TimeSpan.FromDays(2), 0.5));
    }
}
