using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Ingest;

/// <summary>OTLP/HTTP against a real daemon with a real HttpClient.</summary>
public sealed class HttpReceiverTests
{
    private const string Protobuf = "application/x-protobuf";

    [Fact]
    public async Task PostTraces_Protobuf_StoredAndAnsweredInProtobuf()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var (logs, run) = SeedKoreloggerRun("run_h");

        using var response = await daemon.Http.PostAsync("/v1/traces", Body(Traces("s", [.. logs, run]).ToByteArray(), Protobuf));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Protobuf, response.Content.Headers.ContentType?.MediaType);
        var answer = ExportTraceServiceResponse.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
        Assert.Null(answer.PartialSuccess);
        Assert.Equal(4L, daemon.Scalar("SELECT count(*) FROM logs WHERE run_id = 'run_h'"));
    }

    [Fact]
    public async Task PostTraces_Json_HexIdsIntegerEnumsStringNumbersUnknownFields()
    {
        await using var daemon = await TestDaemon.StartAsync();
        const string json = """
            {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"json-script"}}]},
              "futureField":{"x":1},
              "scopeSpans":[{"scope":{"name":"korelogger"},"spans":[
                {"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","name":"gvisor_info_log","kind":1,
                 "startTimeUnixNano":"1747202847238927000","endTimeUnixNano":1747202847238966000,
                 "attributes":[{"key":"run_id","value":{"stringValue":"run_json"}},
                               {"key":"log.message","value":{"stringValue":"from json"}},
                               {"key":"log.level","value":{"stringValue":"WARN"}},
                               {"key":"log.meta.pid","value":{"intValue":"41"}}],
                 "status":{"code":0}}]}]}]}
            """;

        using var response = await daemon.Http.PostAsync("/v1/traces", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("{ }", await response.Content.ReadAsStringAsync());
        Assert.Equal(
            ["json-script", "Warning", "from json", "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174", "41", new DateTime(2025, 5, 14, 6, 7, 27, 238, DateTimeKind.Utc).AddTicks(9270)],
            daemon.Query("SELECT script, level, message, trace_id, span_id, pid, timestamp FROM logs").Single());
    }

    [Fact]
    public async Task PostLogs_GzipJson_StoredAndPartialSuccessInJson()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var request = Logs("s", StdoutRecord("run_j", "one\ntwo", T0), StdoutRecord("", "no run", T0));
        request.ResourceLogs[0].ScopeLogs[0].LogRecords[1].Attributes.Clear();
        var json = Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(request).Replace("\"traceId\": \"\"", "\"traceId\": \"\"", StringComparison.Ordinal));
        var content = Body(Gzip.Compress(json), "application/json");
        content.Headers.ContentEncoding.Add("gzip");

        using var response = await daemon.Http.PostAsync("/v1/logs", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var partial = answer.RootElement.GetProperty("partialSuccess");
        Assert.Equal("1", partial.GetProperty("rejectedLogRecords").GetString());
        Assert.Contains("no run_id", partial.GetProperty("errorMessage").GetString());
        Assert.Equal(2L, daemon.Scalar("SELECT count(*) FROM logs WHERE run_id = 'run_j'"));
    }

    [Fact]
    public async Task Post_WrongContentType_Is415WithStatus()
    {
        await using var daemon = await TestDaemon.StartAsync();

        using var response = await daemon.Http.PostAsync("/v1/traces", new StringContent("hello", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("unsupported content type 'text/plain", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Post_UnknownContentEncoding_Is415()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var content = Body([1, 2, 3], Protobuf);
        content.Headers.ContentEncoding.Add("br");

        using var response = await daemon.Http.PostAsync("/v1/traces", content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("unsupported content encoding 'br'", Google.Rpc.Status.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync()).Message);
    }

    [Fact]
    public async Task Post_MalformedProtobuf_Is400WithRpcStatus()
    {
        await using var daemon = await TestDaemon.StartAsync();

        using var response = await daemon.Http.PostAsync("/v1/traces", Body([0x0A, 0xFF, 0xFF], Protobuf));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var status = Google.Rpc.Status.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal((int)Google.Rpc.Code.InvalidArgument, status.Code);
        Assert.StartsWith("malformed OTLP protobuf body", status.Message);
    }

    [Theory]
    [InlineData("{\"resourceSpans\": [", "malformed OTLP JSON body")]
    [InlineData("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"not-hex\"}]}]}]}", "traceId must be a hex string")]
    [InlineData("{\"resourceSpans\":\"oops\"}", "malformed OTLP JSON body")]
    public async Task Post_MalformedJson_Is400NamingTheProblem(string body, string message)
    {
        await using var daemon = await TestDaemon.StartAsync();

        using var response = await daemon.Http.PostAsync("/v1/traces", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var status = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(3, status.RootElement.GetProperty("code").GetInt32());
        Assert.Contains(message, status.RootElement.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Post_BadGzip_Is400()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var content = Body([1, 2, 3, 4], Protobuf);
        content.Headers.ContentEncoding.Add("gzip");

        using var response = await daemon.Http.PostAsync("/v1/traces", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Post_OverTheLimit_Is413PlainOrAfterDecompression()
    {
        await using var daemon = await TestDaemon.StartAsync(new Dictionary<string, string?> { ["Receivers:MaxMessageBytes"] = "4096" });
        var big = Traces("s", LogSpan("r", "INFO", new string('x', 10_000), T0)).ToByteArray();
        var zipped = Body(Gzip.Compress(big), Protobuf);
        zipped.Headers.ContentEncoding.Add("gzip");

        using var plainResponse = await daemon.Http.PostAsync("/v1/traces", Body(big, Protobuf));
        using var zippedResponse = await daemon.Http.PostAsync("/v1/traces", zipped);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, plainResponse.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, zippedResponse.StatusCode);
        Assert.Contains("after decompression", Google.Rpc.Status.Parser.ParseFrom(await zippedResponse.Content.ReadAsByteArrayAsync()).Message);
        Assert.Equal(0L, daemon.Scalar("SELECT count(*) FROM log_lines"));
    }

    private static ByteArrayContent Body(byte[] bytes, string contentType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return content;
    }

}
