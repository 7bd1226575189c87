using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using OpenTelemetry.Exporter;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Security;

/// <summary>
/// Tokens from <c>Security:TokensFile</c>, each limited to scripts: one tenant's sandbox cannot write another's runs,
/// and one team's read token sees only its scripts, through every surface of the API (SQL included).
/// </summary>
public sealed class TokenScopeTests
{
    internal const string TenantA = "tenant-a-ingest-0123456789";
    internal const string TenantB = "tenant-b-ingest-0123456789";
    internal const string ReadA = "tenant-a-read-0123456789ab";
    internal const string ReadAll = "operators-read-0123456789";
    internal const string Metrics = "prometheus-scrape-012345678";

    internal static string TokensJson(string tenantAIngest = TenantA) => $$"""
        {
          // Comments and trailing commas are allowed.
          "tokens": [
            { "name": "tenant-a", "kind": "ingest", "token": "{{tenantAIngest}}", "scripts": ["tenant-a-*"] },
            { "name": "tenant-b", "kind": "ingest", "sha256": "{{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(TenantB)))}}", "scripts": ["tenant-b-job"] },
            { "name": "team-a", "kind": "read", "token": "{{ReadA}}", "scripts": ["tenant-a-*"] },
            { "name": "operators", "kind": "read", "token": "{{ReadAll}}" },
            { "name": "prometheus", "kind": "metrics", "token": "{{Metrics}}" },
          ]
        }
        """;

    internal static async Task<TestDaemon> StartWithTokensFileAsync(string json, IDictionary<string, string?>? settings = null, LogCapture? logs = null)
    {
        var folder = new TempFolder();
        var file = Path.Combine(folder.Path, "tokens.json");
        await File.WriteAllTextAsync(file, json);
        var all = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
        {
            ["Security:TokensFile"] = file,
            ["Security:TokensFileCheckInterval"] = "00:00:00.2",
        };
        return await TestDaemon.StartAsync(all, folder, logs);
    }

    [Theory]
    [InlineData(OtlpExportProtocol.Grpc)]
    [InlineData(OtlpExportProtocol.HttpProtobuf)]
    public async Task SdkExporter_ScopedIngestToken_WritesItsScriptsOnly(OtlpExportProtocol protocol)
    {
        await using var daemon = await StartWithTokensFileAsync(TokensJson());

        Export(daemon, protocol, "tenant-a-job", "run_a", TenantA);
        Export(daemon, protocol, "tenant-a-report", "run_a2", TenantA);
        Export(daemon, protocol, "tenant-b-job", "run_b_by_a", TenantA);
        Export(daemon, protocol, "tenant-b-job", "run_b", TenantB);
        Export(daemon, protocol, "tenant-b-other", "run_b_other", TenantB);
        Export(daemon, protocol, "tenant-a-job", "run_read_token", ReadAll);

        Assert.Equal(
            ["tenant-a-job/run_a", "tenant-a-report/run_a2", "tenant-b-job/run_b"],
            daemon.Query("SELECT DISTINCT script || '/' || run_id FROM logs ORDER BY 1").Select(r => (string)r[0]!));
    }

    [Theory]
    [InlineData(OtlpExportProtocol.Grpc)]
    [InlineData(OtlpExportProtocol.HttpProtobuf)]
    public async Task SdkExporter_OverTls_ScopedTokens_WriteAndReadTheirScriptsOnly(OtlpExportProtocol protocol)
    {
        var pki = new TestPki();
        var folder = new TempFolder();
        var settings = TestPki.Settings(pki.Issue(folder));
        await using var daemon = await StartWithTokensFileAsync(TokensJson(), settings);
        HttpClient Factory() => new(pki.Handler()) { Timeout = TestDaemon.Timeout };

        Export(daemon, protocol, "tenant-a-job", "run_a", TenantA, Factory);
        Export(daemon, protocol, "tenant-b-job", "run_b_by_a", TenantA, Factory);
        Export(daemon, protocol, "tenant-b-job", "run_b", TenantB, Factory);
        Export(daemon, protocol, "tenant-b-job", "run_b_no_token", token: null, Factory);

        using var teamA = pki.Client(daemon.ApiAddress);
        teamA.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ReadA);
        var scripts = await teamA.GetFromJsonAsync<JsonElement>("/api/scripts");
        using var theirs = await teamA.GetAsync("/api/logs?script=tenant-b-job");
        Assert.Equal(["tenant-a-job"], scripts.EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.Equal(HttpStatusCode.NotFound, theirs.StatusCode);
        Assert.Equal(
            ["tenant-a-job/run_a", "tenant-b-job/run_b"],
            daemon.Query("SELECT DISTINCT script || '/' || run_id FROM logs ORDER BY 1").Select(r => (string)r[0]!));
    }

    [Fact]
    public async Task Grpc_RecordsOfAnotherTenant_AreRefusedInPartialSuccess_TheRestStored()
    {
        await using var daemon = await StartWithTokensFileAsync(TokensJson());
        var client = new TraceService.TraceServiceClient(daemon.Grpc);
        var request = Mixed();

        var answer = await client.ExportAsync(request, new Metadata { { "authorization", $"Bearer {TenantA}" } }, TestDaemon.Deadline());
        // The same bytes from the other tenant: its record is stored, not taken for a repeat of the first export.
        var other = await client.ExportAsync(request, new Metadata { { "authorization", $"Bearer {TenantB}" } }, TestDaemon.Deadline());

        Assert.Equal(1, answer.PartialSuccess.RejectedSpans);
        Assert.Contains("script 'tenant-b-job' is not one this token may write", answer.PartialSuccess.ErrorMessage);
        Assert.Equal(1, other.PartialSuccess.RejectedSpans);
        Assert.Contains("script 'tenant-a-job' is not one this token may write", other.PartialSuccess.ErrorMessage);
        Assert.Equal(
            ["tenant-a-job/run_a", "tenant-b-job/run_b"],
            daemon.Query("SELECT script || '/' || run_id FROM logs ORDER BY 1").Select(r => (string)r[0]!));
    }

    [Fact]
    public async Task Http_LogRecordsOfAnotherTenant_AreRefusedInPartialSuccess()
    {
        await using var daemon = await StartWithTokensFileAsync(TokensJson());
        var request = Logs("tenant-a-job", StdoutRecord("run_a", "hello", DateTime.UtcNow));
        request.ResourceLogs.Add(Logs("tenant-b-job", StdoutRecord("run_b", "not yours", DateTime.UtcNow)).ResourceLogs[0]);
        using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/logs") { Content = Protobuf(request.ToByteArray()) };
        post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TenantA);

        using var response = await daemon.Http.SendAsync(post);
        var answer = ExportLogsServiceResponse.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, answer.PartialSuccess.RejectedLogRecords);
        Assert.Contains("script 'tenant-b-job' is not one this token may write", answer.PartialSuccess.ErrorMessage);
        Assert.Equal(["tenant-a-job"], daemon.Query("SELECT DISTINCT script FROM logs").Select(r => (string)r[0]!));
    }

    [Fact]
    public async Task ReadToken_SeesItsScriptsOnly_EverythingElseIsAbsent()
    {
        await using var daemon = await StartWithTokensFileAsync(TokensJson());
        await SeedAsync(daemon);
        using var teamA = Client(daemon, ReadA);
        using var operators = Client(daemon, ReadAll);

        var scripts = await teamA.GetFromJsonAsync<JsonElement>("/api/scripts");
        Assert.Equal(["tenant-a-job"], scripts.EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        var all = await operators.GetFromJsonAsync<JsonElement>("/api/scripts");
        Assert.Equal(["tenant-a-job", "tenant-b-job"], all.EnumerateArray().Select(s => s.GetProperty("name").GetString()));

        var week = $"from={DateTime.UtcNow.AddDays(-1):O}&to={DateTime.UtcNow.AddHours(1):O}";
        foreach (var path in new[]
        {
            "/api/runs?script={0}", "/api/runs/summary?script={0}", "/api/runs/trend?script={0}", "/api/runs/export?format=csv&script={0}",
            "/api/runs/run_{1}?script={0}", "/api/logs?script={0}", "/api/logs/summary?script={0}", "/api/logs/export?format=parquet&script={0}",
            "/api/runs/run_{1}/logs/stream?script={0}", "/api/runs/run_{1}/logs/stream",
            "/api/runs/values?column=status&script={0}", "/api/runs/versions?script={0}", "/api/runs/errors?script={0}",
            "/api/logs/values?column=level&script={0}", "/api/logs/trend?script={0}", "/api/logs?runId=run_{1}&script={0}",
        })
        {
            using var mine = await teamA.GetAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, path, "tenant-a-job", "a") + (path.Contains('?') ? "&" : "?") + week);
            using var theirs = await teamA.GetAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, path, "tenant-b-job", "b") + (path.Contains('?') ? "&" : "?") + week);
            using var operatorsSee = await operators.GetAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, path, "tenant-b-job", "b") + (path.Contains('?') ? "&" : "?") + week);

            Assert.True(HttpStatusCode.OK == mine.StatusCode, $"{path}: {mine.StatusCode} {await mine.Content.ReadAsStringAsync()}");
            Assert.True(HttpStatusCode.NotFound == theirs.StatusCode, $"{path}: {theirs.StatusCode}");
            Assert.DoesNotContain("log of run_b", await theirs.Content.ReadAsStringAsync());
            Assert.True(HttpStatusCode.OK == operatorsSee.StatusCode, $"{path}: {operatorsSee.StatusCode}");
        }
    }

    [Theory]
    [InlineData("SELECT DISTINCT script FROM runs")]
    [InlineData("SELECT DISTINCT script FROM logs")]
    [InlineData("SELECT DISTINCT script FROM spans")]
    [InlineData("WITH runs AS (SELECT * FROM runs) SELECT DISTINCT script FROM runs")]
    [InlineData("WITH r AS (SELECT script FROM runs UNION ALL SELECT script FROM logs) SELECT DISTINCT script FROM r")]
    [InlineData("SELECT DISTINCT script FROM logs WHERE run_id IN (SELECT run_id FROM runs WHERE script LIKE 'tenant-%')")]
    [InlineData("SELECT DISTINCT l.script FROM logs l JOIN spans s USING (script) ORDER BY 1")]
    [InlineData("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2) SELECT DISTINCT script FROM runs, n")]
    public async Task Sql_WithAScopedReadToken_ReadsItsScriptsOnly(string sql)
    {
        await using var daemon = await StartWithTokensFileAsync(TokensJson());
        await SeedAsync(daemon);
        using var teamA = Client(daemon, ReadA);
        using var operators = Client(daemon, ReadAll);

        var scoped = await SqlScriptsAsync(teamA, sql);
        var everything = await SqlScriptsAsync(operators, sql);

        Assert.Equal(["tenant-a-job"], scoped);
        Assert.Equal(["tenant-a-job", "tenant-b-job"], everything);
    }

    [Fact]
    public async Task NoToken_WrongToken_OrAnotherKindOfToken_Is401_NamingNoScript_HealthAndConsoleStayOpen()
    {
        await using var daemon = await StartWithTokensFileAsync(TokensJson());
        await SeedAsync(daemon);

        foreach (var token in new[] { null, "wrong-token-0123456789abcdef", TenantA, Metrics })
        {
            using var client = Client(daemon, token);
            foreach (var path in new[] { "/api/scripts", "/api/runs?script=tenant-a-job", "/api/runs/run_a/logs/stream" })
            {
                using var response = await client.GetAsync(path);
                var body = await response.Content.ReadAsStringAsync();
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
                Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
                Assert.Contains("missing or invalid bearer token", body);
                Assert.DoesNotContain("tenant", body);
            }

            using var sql = await client.PostAsJsonAsync("/api/sql", new { sql = "SELECT 1" });
            Assert.Equal(HttpStatusCode.Unauthorized, sql.StatusCode);
        }

        using var open = new HttpClient { BaseAddress = daemon.ApiAddress };
        foreach (var path in new[] { "/healthz", "/readyz", "/", "/signin.html", "/api/session" })
        {
            using var response = await open.GetAsync(path);
            Assert.True(response.IsSuccessStatusCode, $"{path}: {response.StatusCode}");
        }

        // A read token does not write.
        using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/traces") { Content = Protobuf(Traces("tenant-a-job", LogSpan("r", "INFO", "m", DateTime.UtcNow)).ToByteArray()) };
        post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ReadAll);
        using var write = await daemon.Http.SendAsync(post);
        Assert.Equal(HttpStatusCode.Unauthorized, write.StatusCode);
    }

    [Fact]
    public async Task Metrics_WithAMetricsToken_AskForIt()
    {
        await using var daemon = await StartWithTokensFileAsync(TokensJson());
        using var anonymous = Client(daemon, null);
        using var reader = Client(daemon, ReadAll);
        using var scraper = Client(daemon, Metrics);

        using var refused = await anonymous.GetAsync("/metrics");
        using var wrongKind = await reader.GetAsync("/metrics");
        using var scraped = await scraper.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongKind.StatusCode);
        Assert.Equal(HttpStatusCode.OK, scraped.StatusCode);
        Assert.Contains("pipeline_requests_unauthenticated", await scraped.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Metrics_AreOpen_WhileNoMetricsTokenExists()
    {
        await using var daemon = await TestDaemon.StartAsync(new Dictionary<string, string?> { ["Security:ReadToken"] = ReadAll });
        using var anonymous = Client(daemon, null);

        using var metrics = await anonymous.GetAsync("/metrics");
        using var api = await anonymous.GetAsync("/api/scripts");

        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }

    [Fact]
    public async Task TokensFile_Rotation_TakesEffectWithoutRestart_ABrokenFileKeepsThePreviousTokens()
    {
        const string rotated = "tenant-a-rotated-0123456789";
        var logs = new LogCapture();
        await using var daemon = await StartWithTokensFileAsync(TokensJson(), logs: logs);
        var file = Path.Combine(daemon.Folder.Path, "tokens.json");
        Assert.Equal(HttpStatusCode.OK, await IngestAsync(daemon, TenantA, "run_1"));

        // Replaced by rename, as a secret mount or an editor does.
        await File.WriteAllTextAsync(file + ".new", TokensJson(rotated));
        File.Move(file + ".new", file, overwrite: true);
        await Eventually(async () => await IngestAsync(daemon, TenantA, "run_2") == HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, await IngestAsync(daemon, rotated, "run_3"));

        // A broken file is not taken: the rotated token still works, and the log says why.
        await File.WriteAllTextAsync(file, "{ \"tokens\": [ { \"kind\": \"ingest\", \"token\": \"short\" } ] }");
        await Eventually(() => Task.FromResult(logs.Lines.Any(l => l.Message.Contains("previous tokens stay", StringComparison.Ordinal) && l.Message.Contains("at least 16 characters", StringComparison.Ordinal))));
        Assert.Equal(HttpStatusCode.OK, await IngestAsync(daemon, rotated, "run_4"));
        Assert.Equal(HttpStatusCode.Unauthorized, await IngestAsync(daemon, TenantA, "run_5"));

        // run_2 was sent (a new log each time) until the old token stopped working: those sent before are stored.
        Assert.Equal(["run_1", "run_2", "run_3", "run_4"], daemon.Query("SELECT DISTINCT run_id FROM logs ORDER BY 1").Select(r => (string)r[0]!));
    }

    [Fact]
    public async Task TokensFile_Rotation_EndsTheLiveStreamsOfARemovedReadToken()
    {
        await using var daemon = await StartWithTokensFileAsync(TokensJson());
        var client = new TraceService.TraceServiceClient(daemon.Grpc);
        var ingest = new Metadata { { "authorization", $"Bearer {TenantA}" } };
        await client.ExportAsync(Traces("tenant-a-job", LogSpan("run_live", "INFO", "first", DateTime.UtcNow)), ingest, TestDaemon.Deadline());
        using var teamA = Client(daemon, ReadA);
        using var stream = await teamA.GetAsync("/api/runs/run_live/logs/stream?script=tenant-a-job", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync());
        Assert.Equal("event: log", await reader.ReadLineAsync());

        await File.WriteAllTextAsync(Path.Combine(daemon.Folder.Path, "tokens.json"), TokensJson().Replace(ReadA, "team-a-rotated-0123456789", StringComparison.Ordinal));
        await Eventually(async () => (await teamA.GetAsync("/api/scripts")).StatusCode == HttpStatusCode.Unauthorized);
        await client.ExportAsync(Traces("tenant-a-job", LogSpan("run_live", "INFO", "second", DateTime.UtcNow)), ingest, TestDaemon.Deadline());

        var rest = await reader.ReadToEndAsync().WaitAsync(TestDaemon.Timeout);
        Assert.Contains("event: unauthorized", rest);
        Assert.DoesNotContain("second", rest);
    }

    [Theory]
    [InlineData("{ \"tokens\": [ { \"kind\": \"write\", \"token\": \"0123456789abcdef0\" } ] }", "kind must be ingest, read or metrics (got 'write')")]
    [InlineData("{ \"tokens\": [ { \"kind\": \"read\", \"token\": \"0123456789abcdef0\", \"scripts\": [] } ] }", "scripts is empty")]
    [InlineData("{ \"tokens\": [ { \"kind\": \"read\", \"token\": \"0123456789abcdef0\", \"scripts\": [\"a*b\"] } ] }", "'a*b' is not a script pattern")]
    [InlineData("{ \"tokens\": [ { \"kind\": \"read\", \"sha256\": \"abc\" } ] }", "sha256 must be 64 hex digits")]
    [InlineData("{ \"tokens\": [ { \"kind\": \"read\", \"token\": \"0123456789abcdef0\", \"tokn\": 1 } ] }", "tokn")]
    [InlineData("{ \"tokens\": [ { \"name\": \"x\", \"kind\": \"read\", \"token\": \"0123456789abcdef0\" }, { \"name\": \"y\", \"kind\": \"ingest\", \"token\": \"0123456789abcdef0\" } ] }", "tokens x and y are the same token")]
    [InlineData("not json", "is not valid")]
    public async Task TokensFile_Invalid_RefusesToStart_NamingTheFileAndTheProblem(string json, string problem)
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => StartWithTokensFileAsync(json));

        Assert.Contains("Security:TokensFile", error.Message);
        Assert.Contains("tokens.json", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public async Task ApiListener_MayFaceTheNetwork_OnceReadTokensAreSet_NotBefore()
    {
        var refused = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            TestDaemon.StartAsync(new Dictionary<string, string?> { ["Api:Endpoint"] = "0.0.0.0:0", ["Security:IngestToken"] = TenantA }));
        Assert.Contains("Api:Endpoint binds 0.0.0.0:0", refused.Message);
        Assert.Contains("Security:ReadToken", refused.Message);

        await using var daemon = await TestDaemon.StartAsync(new Dictionary<string, string?> { ["Api:Endpoint"] = "0.0.0.0:0", ["Security:ReadToken"] = ReadAll });
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{daemon.ApiAddress.Port}") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ReadAll);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/scripts")).StatusCode);
    }

    [Fact]
    public async Task SameTokenForTwoSurfaces_RefusesToStart()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            TestDaemon.StartAsync(new Dictionary<string, string?> { ["Security:IngestToken"] = ReadAll, ["Security:ReadToken"] = ReadAll }));

        Assert.Contains("must differ", error.Message);
    }

    internal static HttpClient Client(TestDaemon daemon, string? token)
    {
        var client = new HttpClient { BaseAddress = daemon.ApiAddress, Timeout = TestDaemon.Timeout };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    /// <summary>One finished run with a log and a child span for each tenant, written with each tenant's own token.</summary>
    internal static async Task SeedAsync(TestDaemon daemon)
    {
        var client = new TraceService.TraceServiceClient(daemon.Grpc);
        foreach (var (script, runId, token) in new[] { ("tenant-a-job", "run_a", TenantA), ("tenant-b-job", "run_b", TenantB) })
        {
            var now = DateTime.UtcNow.AddMinutes(-5);
            var trace = NewTraceId();
            var run = RunSpan(runId, now, TimeSpan.FromMilliseconds(50), traceId: trace);
            var answer = await client.ExportAsync(
                Traces(script, LogSpan(runId, "INFO", $"log of {runId}", now.AddMilliseconds(10), trace), run, ChildSpan(run, runId)),
                new Metadata { { "authorization", $"Bearer {token}" } },
                TestDaemon.Deadline());
            Assert.Null(answer.PartialSuccess);
        }
    }

    private static ExportTraceServiceRequest Mixed()
    {
        var request = Traces("tenant-a-job", LogSpan("run_a", "INFO", "mine", DateTime.UtcNow));
        request.ResourceSpans.Add(Traces("tenant-b-job", LogSpan("run_b", "INFO", "theirs", DateTime.UtcNow)).ResourceSpans[0]);
        return request;
    }

    private static async Task<List<string>> SqlScriptsAsync(HttpClient client, string sql)
    {
        using var response = await client.PostAsJsonAsync("/api/sql", new { sql });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("rows").EnumerateArray().Select(r => r[0].GetString()!).Order(StringComparer.Ordinal).ToList();
    }

    private static async Task<HttpStatusCode> IngestAsync(TestDaemon daemon, string token, string runId)
    {
        using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/traces") { Content = Protobuf(Traces("tenant-a-job", LogSpan(runId, "INFO", "m", DateTime.UtcNow)).ToByteArray()) };
        post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await daemon.Http.SendAsync(post);
        return response.StatusCode;
    }

    private static Task Eventually(Func<Task<bool>> condition) => Poll.Until(condition, TimeSpan.FromSeconds(15));

    private static void Export(TestDaemon daemon, OtlpExportProtocol protocol, string service, string runId, string? token, Func<HttpClient>? httpClientFactory = null) =>
        SdkTracing.SendLog(daemon, protocol, service, runId, token is null ? null : $"Authorization=Bearer {token}", httpClientFactory);
}
