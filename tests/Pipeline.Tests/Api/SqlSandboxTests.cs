using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DuckDB.NET.Data;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Pipeline.Query;
using Pipeline.Tests.Support;
using static Pipeline.Tests.Support.Otlp;

namespace Pipeline.Tests.Api;

/// <summary>
/// A daemon fed over OTLP once, shared by the SQL sandbox tests (they only read): 20 runs s01..s20 of script
/// "sandbox", each with one log "message NN". Small caps, so that cutting is easy to reach: 10 rows, 4096 bytes.
/// </summary>
#pragma warning disable CA1515 // xunit needs the fixture public
public sealed class SqlSandboxFixture : IAsyncLifetime
{
    public const int MaxRows = 10;
    public const int MaxBytes = 4096;

    internal TestDaemon Daemon { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Daemon = await TestDaemon.StartAsync(new Dictionary<string, string?>
        {
            ["Api:SqlMaxRows"] = $"{MaxRows}",
            ["Api:SqlMaxBytes"] = $"{MaxBytes}",
            ["Api:SqlTimeout"] = "00:00:20",
        });
        var client = new TraceService.TraceServiceClient(Daemon.Grpc);
        await client.ExportAsync(Traces("sandbox",
            [.. Enumerable.Range(1, 20).SelectMany(i =>
            {
                var trace = NewTraceId();
                return new[]
                {
                    RunSpan($"s{i:00}", T0.AddMinutes(i), TimeSpan.FromMilliseconds(10 * i), traceId: trace, failed: i % 5 == 0),
                    LogSpan($"s{i:00}", "INFO", $"message {i:00}", T0.AddMinutes(i).AddMilliseconds(1), trace),
                };
            })]), deadline: TestDaemon.Deadline());
    }

    public async Task DisposeAsync() => await Daemon.DisposeAsync();
}

public sealed class SqlSandboxTests(SqlSandboxFixture fixture) : IClassFixture<SqlSandboxFixture>
{
    private readonly HttpClient _api = fixture.Daemon.Api;

    [Theory]
    [InlineData("SELECT run_id FROM runs WHERE run_id IN ('s01', 's02') UNION ALL SELECT run_id FROM logs WHERE run_id = 's01' ORDER BY 1", "s01;s01;s02")]
    [InlineData("SELECT run_id FROM runs WHERE run_id IN ('s01', 's02') UNION SELECT run_id FROM logs WHERE run_id = 's01' ORDER BY 1", "s01;s02")]
    [InlineData("SELECT run_id FROM runs WHERE run_id <= 's03' INTERSECT SELECT run_id FROM logs WHERE run_id >= 's02' ORDER BY 1", "s02;s03")]
    [InlineData("SELECT run_id FROM runs WHERE run_id <= 's03' EXCEPT SELECT run_id FROM runs WHERE status = 'Success' AND run_id = 's02' ORDER BY 1", "s01;s03")]
    [InlineData("SELECT run_id FROM runs WHERE run_id <= 's02' UNION ALL BY NAME SELECT run_id FROM logs WHERE run_id = 's03' UNION ALL SELECT run_id FROM spans WHERE run_id = 'none' ORDER BY 1", "s01;s02;s03")]
    [InlineData("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT string_agg(i::VARCHAR, ',' ORDER BY i) FROM n", "1,2,3,4,5")]
    [InlineData("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT r.run_id FROM n JOIN runs r ON r.run_id = 's0' || n.i ORDER BY 1", "s01;s02;s03")]
    [InlineData("SELECT count(*) FROM runs WHERE run_id IN (SELECT 's01' UNION SELECT 's02' UNION SELECT 'nope')", "2")]
    [InlineData("SELECT count(*) FROM (SELECT run_id FROM runs UNION ALL SELECT run_id FROM logs) AS u", "40")]
    [InlineData("SELECT (SELECT max(x) FROM (SELECT 1 AS x UNION ALL SELECT 2)) AS m", "2")]
    [InlineData("WITH a AS (SELECT run_id FROM runs WHERE run_id = 's07'), b AS (SELECT run_id FROM a UNION ALL SELECT run_id FROM a) SELECT count(*) FROM b", "2")]
    [InlineData("SELECT * FROM (SELECT run_id FROM runs EXCEPT SELECT run_id FROM runs WHERE run_id > 's01') AS first_run", "s01")]
    public async Task SetOperationsAndRecursiveCtes_Answer(string sql, string expected)
    {
        var result = await PostSql(sql);

        Assert.Equal(expected, Rows(result));
        Assert.False(result.GetProperty("truncated").GetBoolean());
    }

    [Theory]
    [InlineData(40)]
    [InlineData(200)]
    public async Task DeeplyNestedCalls_Answer(int depth)
    {
        var sql = "SELECT " + string.Concat(Enumerable.Repeat("abs(", depth)) + "-7" + new string(')', depth) + " AS v";

        var result = await PostSql(sql);

        Assert.Equal("7", Rows(result));
    }

    [Fact]
    public async Task NestingBeyondDuckDbsOwnLimit_IsRefusedWithItsReason()
    {
        var sql = "SELECT " + string.Concat(Enumerable.Repeat("abs(", 1100)) + "1" + new string(')', 1100);

        var error = await Refusal(sql);

        Assert.Contains("Max expression depth limit of 1000 exceeded", error);
    }

    [Theory]
    [InlineData("SELECT getenv('HOME')", "function 'getenv' is not allowed in the SQL sandbox")]
    [InlineData("SELECT current_catalog", "'current_catalog' is not allowed in the SQL sandbox")]
    [InlineData("SELECT user", "'user' is not allowed in the SQL sandbox")]
    [InlineData("SELECT current_setting('memory_limit')", "function 'current_setting' is not allowed")]
    [InlineData("SELECT version()", "function 'version' is not allowed")]
    [InlineData("SELECT current_database()", "function 'current_database' is not allowed")]
    [InlineData("SELECT json_serialize_plan('SELECT * FROM log_lines')", "function 'json_serialize_plan' is not allowed")]
    [InlineData("SELECT nextval('s')", "function 'nextval' is not allowed")]
    [InlineData("SELECT count(*) FROM runs WHERE sleep_ms(10) IS NULL", "function 'sleep_ms' is not allowed")]
    [InlineData("SELECT len(range(1000000000))", "function 'range' is not allowed")]
    [InlineData("SELECT count(*) FROM (SELECT unnest(generate_series(1, 3000000000)))", "function 'generate_series' is not allowed")]
    [InlineData("SELECT len(list_resize([1], 1000000000))", "function 'list_resize' is not allowed")]
    [InlineData("SELECT list_reduce([1, 2, 3], (a, b) -> a + b)", "function 'list_reduce' is not allowed")]
    [InlineData("SELECT bar(1, 0, 1, 1000000000)", "function 'bar' is not allowed")]
    [InlineData("SELECT bitstring_agg(response_time_ms::INT) FROM runs", "function 'bitstring_agg' is not allowed")]
    [InlineData("SELECT run_id, getenv('HOME') OVER () FROM runs", "function 'getenv' is not allowed")]
    [InlineData("SELECT count(*) FILTER (WHERE getenv('HOME') IS NULL) FROM runs", "function 'getenv' is not allowed")]
    [InlineData("SELECT * REPLACE (getenv('HOME') AS run_id) FROM runs", "function 'getenv' is not allowed")]
    [InlineData("SELECT [getenv(x) for x in ['HOME']]", "function 'getenv' is not allowed")]
    [InlineData("SELECT list_aggregate([1, 2], 'bitstring_agg')", "function 'list_aggregate' is not allowed here: its aggregate must be named by a constant string")]
    [InlineData("SELECT list_aggregate([1, 2], (SELECT 'sum'))", "its aggregate must be named by a constant string")]
    [InlineData("SELECT pg_catalog.lower('X')", "function 'pg_catalog.lower' is not allowed: call functions by their plain name")]
    [InlineData("SELECT \"system\".main.lower('X')", "function 'system.main.lower' is not allowed")]
    public async Task FunctionsOffTheAllowlist_AreRefusedByName(string sql, string message) =>
        Assert.Contains(message, await Refusal(sql));

    [Fact]
    public async Task AllowedFunctionsAndOperators_Answer()
    {
        var result = await PostSql("""
            SELECT
              1 + 2 * 3 - 4 // 2 AS arithmetic,
              'a' || 'b' AS concatenated,
              'Hello' LIKE 'H%' AND 'Hello' ILIKE 'h%' AND 'Hello' NOT LIKE 'x%' AND 'Hello' SIMILAR TO 'H.*' AS matched,
              '{"a": {"b": 5}}'::JSON -> '$.a' ->> 'b' AS json_path,
              json_extract_string('{"k": "v"}', '$.k') AS extracted,
              [10, 20, 30][2] AS element,
              [10, 20, 30][2:3] AS slice,
              coalesce(NULL, 'c') AS coalesced,
              nullif(1, 1) AS nulled,
              greatest(3, 9, 4) AS greatest,
              regexp_extract('run 42', '\d+') AS regexp,
              list_transform([1, 2], x -> x * 10) AS transformed,
              [x * 2 for x in [1, 2, 3] if x > 1] AS comprehension,
              date_trunc('day', TIMESTAMP '2025-05-14 06:07:27') + INTERVAL 1 DAY AS tomorrow,
              extract(year FROM DATE '2025-05-14') AS year,
              CASE WHEN 1 < 2 THEN 'yes' ELSE 'no' END AS decided,
              md5('x') = md5('x') AS hashed
            """);

        var row = result.GetProperty("rows")[0];
        Assert.Equal(5, row[0].GetInt32());
        Assert.Equal("ab", row[1].GetString());
        Assert.True(row[2].GetBoolean());
        Assert.Equal("5", row[3].GetString());
        Assert.Equal("v", row[4].GetString());
        Assert.Equal(20, row[5].GetInt32());
        Assert.Equal("[20,30]", row[6].GetRawText());
        Assert.Equal("c", row[7].GetString());
        Assert.Equal(JsonValueKind.Null, row[8].ValueKind);
        Assert.Equal(9, row[9].GetInt32());
        Assert.Equal("42", row[10].GetString());
        Assert.Equal("[10,20]", row[11].GetRawText());
        Assert.Equal("[4,6]", row[12].GetRawText());
        Assert.Equal(new DateTime(2025, 5, 15, 0, 0, 0, DateTimeKind.Utc), row[13].GetDateTime().ToUniversalTime());
        Assert.Equal(2025, row[14].GetInt32());
        Assert.Equal("yes", row[15].GetString());
        Assert.True(row[16].GetBoolean());
    }

    [Fact]
    public async Task AggregatesAndWindows_Answer()
    {
        var result = await PostSql("""
            SELECT count(*) AS n, count_if(status = 'Failed') AS failed, median(response_time_ms) AS median,
                   quantile_cont(response_time_ms, 0.9) AS p90, approx_count_distinct(run_id) AS distinct_runs,
                   arg_max(run_id, response_time_ms) AS slowest, string_agg(run_id, ',' ORDER BY run_id) FILTER (WHERE run_id <= 's03') AS first_three,
                   max(rank) AS ranks
            FROM (SELECT *, rank() OVER (ORDER BY executed_on) AS rank, lag(run_id) OVER (ORDER BY run_id) AS previous FROM runs)
            """);

        // Failed runs (every fifth) have no response time: the rest are 10..190 ms.
        Assert.Equal("20;4;100;175;20;s19;s01,s02,s03;20", Rows(result));
    }

    [Fact]
    public async Task TableReferences_UnnestPivotDescribeAndSummarize_Answer()
    {
        var words = await PostSql("SELECT count(*) FROM logs, unnest(string_split(message, ' ')) AS t(word) WHERE word = 'message'");
        var pivot = await PostSql("SELECT * FROM (PIVOT runs ON status IN ('Success', 'Failed') USING count(*) GROUP BY script)");
        var unpivot = await PostSql("SELECT count(*) FROM (UNPIVOT (SELECT run_id, status, script FROM runs) ON status, script INTO NAME k VALUE v)");
        var described = await PostSql("DESCRIBE runs");
        var summarized = await PostSql("SELECT column_name FROM (SUMMARIZE SELECT run_id FROM runs)");

        Assert.Equal("20", Rows(words));
        Assert.Equal("sandbox;16;4", Rows(pivot));
        Assert.Equal("40", Rows(unpivot));
        Assert.Contains("run_id", described.GetProperty("rows").EnumerateArray().Select(r => r[0].GetString()));
        Assert.Equal("run_id", Rows(summarized));
    }

    [Theory]
    [InlineData("SELECT printf('%1000000000d', 1)", "function 'printf' is not allowed here: every width and precision in its format must be at most 1000 (got 1000000000)")]
    [InlineData("SELECT format('{:>1000000000}', 'x')", "function 'format' is not allowed here: every width and precision in its format must be at most 1000 (got 1000000000)")]
    [InlineData("SELECT printf('%.1001f', 1.5)", "function 'printf' is not allowed here: every width and precision in its format must be at most 1000 (got 1001)")]
    [InlineData("SELECT printf('%*d', 1000000000, 1)", "function 'printf' is not allowed here: widths and precisions must be written in its format, not taken from arguments")]
    [InlineData("SELECT format('{:>{}}', 'x', 1000000000)", "function 'format' is not allowed here: widths and precisions must be written in its format, not taken from arguments")]
    [InlineData("SELECT printf(message, 1) FROM logs", "function 'printf' is not allowed here: its format must be a constant string")]
    [InlineData("SELECT printf('%1000d%1000d%1000d%1000d%1000d%1000d%1000d%1000d%1000d%1000d%1000d', 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)", "may add up to at most 10000 (got 11000)")]
    [InlineData("SELECT lpad('x', 10001, 'y')", "function 'lpad' is not allowed here: its length must be a constant integer of at most 10000 (got 10001)")]
    [InlineData("SELECT rpad(message, length(message) * 1000, 'y') FROM logs", "function 'rpad' is not allowed here: its length must be a constant integer of at most 10000")]
    [InlineData("SELECT repeat('x', 2000000000)", "function 'repeat' is not allowed here: its count must be a constant integer of at most 1000 (got 2000000000)")]
    [InlineData("SELECT repeat(message, 1000) FROM logs", "function 'repeat' is not allowed here: its text must be a constant, and the result at most 10000 characters")]
    [InlineData("SELECT repeat('abcdefghijk', 1000)", "the result at most 10000 characters")]
    [InlineData("SELECT replace(message, 'm', message) FROM logs", "function 'replace' is not allowed here: its replacement must be a constant string of at most 1000 characters")]
    [InlineData("SELECT regexp_replace(message, '.', lpad('x', 1001, 'x'), 'g') FROM logs", "function 'regexp_replace' is not allowed here: its replacement must be a constant string")]
    [InlineData("SELECT lpad(repeat('ab', 10), 30, '.')", "function 'repeat' is not allowed inside 'lpad'")]
    [InlineData("SELECT printf('%s', lpad('x', 5, '.'))", "function 'lpad' is not allowed inside 'printf'")]
    [InlineData("SELECT replace(replace(message, 'm', 'mm'), 'e', 'ee') FROM logs", "function 'replace' is not allowed inside 'replace'")]
    [InlineData("SELECT rpad((SELECT max(lpad(run_id, 100, '.')) FROM runs), 200, '.')", "function 'lpad' is not allowed inside 'rpad'")]
    public async Task SizeArguments_AreChecked(string sql, string message) =>
        Assert.Contains(message, await Refusal(sql));

    [Theory]
    [InlineData("SELECT printf('%.2f', 1.5)", "1.50")]
    [InlineData("SELECT printf('%5s|%-3d|%%', 'ab', 7)", "   ab|7  |%")]
    [InlineData("SELECT printf('%1$s-%1$s', 'a')", "a-a")]
    [InlineData("SELECT lpad('7', 3, '0')", "007")]
    [InlineData("SELECT rpad('7', 3, '-')", "7--")]
    [InlineData("SELECT format('{:>5}|{}|{{}}', 'x', 2)", "    x|2|{}")]
    [InlineData("SELECT repeat('ab', 3)", "ababab")]
    [InlineData("SELECT replace('a-b', '-', '--')", "a--b")]
    [InlineData("SELECT replace(replace('a-b_c', '-', ''), '_', ' ')", "ab c")]
    [InlineData("SELECT regexp_replace('run 42 of 43', '\\d+', '#', 'g')", "run # of #")]
    [InlineData("SELECT lpad(regexp_replace('a1b2', '\\d', '', 'g'), 4, '.')", "..ab")]
    [InlineData("SELECT lpad('x', 3, '.') || rpad('y', 3, '.')", "..xy..")]
    public async Task SizeArguments_WithinTheirBounds_Answer(string sql, string expected) =>
        Assert.Equal(expected, Rows(await PostSql(sql)));

    [Fact]
    public async Task LongText_IsCutInTheDatabase_AndFlagged()
    {
        // Two columns share 4096 bytes: each value keeps 4096 / 4 / 2 = 512 characters.
        var result = await PostSql("SELECT lpad('x', 5000, 'y') AS v, 1 AS n");

        var row = result.GetProperty("rows")[0];
        Assert.Equal(new string('y', 512), row[0].GetString());
        Assert.Equal(1, row[1].GetInt32());
        Assert.True(result.GetProperty("truncated").GetBoolean());
        Assert.Equal(["value"], TruncatedBy(result));
    }

    [Fact]
    public async Task HugeValue_NeverCrossesWhole()
    {
        // 10000 characters doubled 11 times: a value of 20 million characters, built and cut inside DuckDB.
        var result = await PostSql("""
            WITH RECURSIVE t(n, s) AS (SELECT 1, lpad('x', 10000, 'x') UNION ALL SELECT n + 1, s || s FROM t WHERE n < 12)
            SELECT length(s) AS len, s, [s] AS list, {'s': s} AS struct FROM t WHERE n = 12
            """);

        var row = result.GetProperty("rows")[0];
        Assert.Equal(20_480_000, row[0].GetInt32());
        Assert.Equal(256, row[1].GetString()!.Length);
        Assert.Equal(JsonValueKind.Null, row[2].ValueKind);
        Assert.Equal(JsonValueKind.Null, row[3].ValueKind);
        Assert.Equal(["value"], TruncatedBy(result));
    }

    [Fact]
    public async Task LongAggregate_IsCut_ShortNestedValuesStay()
    {
        var aggregated = await PostSql("SELECT string_agg(lpad(message, 400, '.'), ',') AS all_messages FROM logs");
        var small = await PostSql("SELECT list(run_id ORDER BY run_id)[1:2] AS l, {'a': 1} AS s, MAP {'k': 2} AS m FROM runs");

        Assert.Equal(1024, aggregated.GetProperty("rows")[0][0].GetString()!.Length);
        Assert.Equal(["value"], TruncatedBy(aggregated));
        Assert.Equal("""[["s01","s02"],{"a":1},{"k":2}]""", small.GetProperty("rows")[0].GetRawText());
        Assert.False(small.GetProperty("truncated").GetBoolean());
    }

    [Fact]
    public async Task ManyBytes_StopTheRows_WithinTheCap()
    {
        // Rows of about 510 bytes (two columns keep 512 characters each, so no value is cut): 7 fit in 4096.
        using var response = await _api.PostAsJsonAsync("/api/sql", new { sql = "SELECT run_id, lpad(run_id, 500, '.') AS padded FROM runs ORDER BY run_id" });
        var body = await response.Content.ReadAsByteArrayAsync();
        var result = JsonDocument.Parse(body).RootElement;
        var rows = result.GetProperty("rows").EnumerateArray().Select(r => r[0].GetString()).ToList();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.InRange(body.Length, SqlSandboxFixture.MaxBytes - result.GetProperty("rows")[0].GetRawText().Length, SqlSandboxFixture.MaxBytes);
        Assert.Equal(Enumerable.Range(1, rows.Count).Select(i => $"s{i:00}"), rows);
        Assert.InRange(rows.Count, 2, SqlSandboxFixture.MaxRows - 1);
        Assert.True(result.GetProperty("truncated").GetBoolean());
        Assert.Equal(["bytes"], TruncatedBy(result));
    }

    [Fact]
    public async Task ManyRows_StopAtTheRowLimit()
    {
        var result = await PostSql("SELECT run_id FROM runs ORDER BY run_id");

        Assert.Equal(SqlSandboxFixture.MaxRows, result.GetProperty("rows").GetArrayLength());
        Assert.Equal(["rows"], TruncatedBy(result));
    }

    [Fact]
    public async Task OddTypes_TravelAsText()
    {
        var result = await PostSql("""
            SELECT 'nan'::DOUBLE AS nan, 'ab'::BLOB AS blob, union_value(k := 1) AS u, INTERVAL 90 MINUTE AS i,
                   sum(x) AS small_hugeint, 12345678901234567890123::HUGEINT AS hugeint
            FROM (SELECT 5 AS x)
            """);

        Assert.Equal("""["NaN","ab","1","01:30:00",5,"12345678901234567890123"]""", result.GetProperty("rows")[0].GetRawText());
    }

    [Theory]
    [InlineData("SELECT * FROM read_csv('/etc/passwd')", "table function 'read_csv' is not allowed")]
    [InlineData("SELECT * FROM read_parquet('x.parquet')", "table function 'read_parquet' is not allowed")]
    [InlineData("SELECT * FROM glob('*')", "table function 'glob' is not allowed")]
    [InlineData("SELECT * FROM query('SELECT * FROM log_lines')", "table function 'query' is not allowed")]
    [InlineData("SELECT * FROM duckdb_settings()", "table function 'duckdb_settings' is not allowed")]
    [InlineData("SELECT * FROM range(10)", "table function 'range' is not allowed")]
    [InlineData("SELECT * FROM repeat(1, 1000000000)", "table function 'repeat' is not allowed")]
    [InlineData("SELECT * FROM '/etc/passwd'", "table '/etc/passwd' is not available")]
    [InlineData("SELECT * FROM log_lines", "table 'log_lines' is not available")]
    [InlineData("SELECT * FROM deployments", "table 'deployments' is not available")]
    [InlineData("SELECT * FROM duckdb_tables", "table 'duckdb_tables' is not available")]
    [InlineData("SELECT * FROM information_schema.tables", "table 'tables' is not available")]
    [InlineData("SELECT * FROM main.runs", "table 'runs' is not available")]
    [InlineData("WITH log_lines AS (SELECT * FROM log_lines) SELECT * FROM log_lines", "table 'log_lines' is not available")]
    [InlineData("WITH a AS (SELECT * FROM log_lines), log_lines AS (SELECT 1) SELECT * FROM a", "table 'log_lines' is not available")]
    [InlineData("WITH RECURSIVE t AS (SELECT * FROM t UNION ALL SELECT 1) SELECT * FROM t", "table 't' is not available")]
    [InlineData("WITH RECURSIVE log_lines AS (SELECT 'x' AS m UNION ALL SELECT m FROM log_lines UNION ALL SELECT m FROM log_lines) SELECT * FROM log_lines", "table 'log_lines' is not available")]
    [InlineData("WITH \"log_l\u0131nes\" AS (SELECT 1) SELECT * FROM log_lines", "table 'log_lines' is not available")]
    [InlineData("SELECT * FROM runs ORDER BY (SELECT count(*) FROM log_lines)", "table 'log_lines' is not available")]
    [InlineData("PIVOT log_lines ON level IN ('Info') USING count(*)", "table 'log_lines' is not available")]
    [InlineData("SUMMARIZE log_lines", "table 'log_lines' is not available")]
    [InlineData("SELECT * FROM unnest((SELECT list(message) FROM log_lines))", "table 'log_lines' is not available")]
    [InlineData("SELECT (WITH log_lines AS (SELECT 1) SELECT 1), * FROM log_lines", "table 'log_lines' is not available")]
    [InlineData("SELECT * FROM runs UNION ALL SELECT * FROM log_lines", "table 'log_lines' is not available")]
    [InlineData("SELECT 1 INTERSECT SELECT * FROM read_csv('/etc/passwd')", "table function 'read_csv' is not allowed")]
    [InlineData("SHOW TABLES", "'SHOW tables' is not allowed here")]
    [InlineData("SHOW ALL TABLES", "is not allowed here")]
    [InlineData("SELECT * FROM (DESCRIBE log_lines)", "table 'log_lines' is not available")]
    [InlineData("SELECT $1", "parameters ($1, ?) are not supported")]
    [InlineData("ATTACH '/tmp/other.duckdb' AS other", "only a single SELECT")]
    [InlineData("COPY runs TO '/tmp/stolen.csv'", "only a single SELECT")]
    [InlineData("SET memory_limit = '100GB'", "only a single SELECT")]
    [InlineData("PRAGMA database_list", "only a single SELECT")]
    [InlineData("INSTALL httpfs", "only a single SELECT")]
    [InlineData("CREATE TABLE x AS SELECT 1", "only a single SELECT")]
    [InlineData("PIVOT runs ON status USING count(*)", "only a single SELECT")]
    [InlineData("SELECT 1; SELECT 2", "send exactly one statement (got 2)")]
    [InlineData("SELECT 1; DROP TABLE runs", "only a single SELECT")]
    public async Task HeldRefusals_StillHold(string sql, string message)
    {
        Assert.Contains(message, await Refusal(sql));
        Assert.Equal(20L, fixture.Daemon.Scalar("SELECT count(*) FROM runs"));
    }

    [Theory]
    [InlineData("SELECT no_such_column FROM runs", "query failed: Binder Error")]
    [InlineData("SELECT 'x'::INTEGER", "query failed: Conversion Error")]
    public async Task DuckDbErrors_Are400WithTheMessage(string sql, string message) =>
        Assert.Contains(message, await Refusal(sql));

    [Fact]
    public async Task OutOfMemory_Is400WithDuckDbsMessage()
    {
        await using var daemon = await TestDaemon.StartAsync(new Dictionary<string, string?> { ["Storage:MemoryLimit"] = "64MB", ["Api:SqlTimeout"] = "00:00:30" });

        // The working table of a recursive CTE holds every row it made: doubling a value outgrows 64 MB.
        using var response = await daemon.Api.PostAsJsonAsync("/api/sql", new
        {
            sql = "WITH RECURSIVE t(n, s) AS (SELECT 1, lpad('x', 10000, 'x') UNION ALL SELECT n + 1, s || s FROM t WHERE n < 16) SELECT max(length(s)) FROM t",
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Out of Memory", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public void Allowlist_NamesOnlyDuckDbFunctions_AndNoneThatReachOutside()
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT DISTINCT function_name FROM duckdb_functions()";
        using var reader = command.ExecuteReader();
        var known = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (reader.Read())
        {
            known.Add(reader.GetString(0));
        }

        Assert.Equal([], SqlFunctions.Names.Where(n => !known.Contains(n)).Order(StringComparer.Ordinal).ToList());
        Assert.True(SqlFunctions.Names.Count > 400, $"{SqlFunctions.Names.Count} functions");
        string[] outside = ["getenv", "current_setting", "read_csv", "read_text", "glob", "query", "query_table", "range", "generate_series", "list_resize",
            "array_resize", "sleep_ms", "pg_sleep", "setseed", "nextval", "write_log", "version", "current_database", "json_serialize_plan", "json_serialize_sql"];
        Assert.Equal([], outside.Where(SqlFunctions.IsAllowed).ToList());
    }

    private static string Rows(JsonElement result) =>
        string.Join(";", result.GetProperty("rows").EnumerateArray().Select(row => string.Join(";", row.EnumerateArray().Select(v =>
            v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText()))));

    private static List<string?> TruncatedBy(JsonElement result) =>
        [.. result.GetProperty("truncatedBy").EnumerateArray().Select(r => r.GetString())];

    private async Task<JsonElement> PostSql(string sql)
    {
        using var response = await _api.PostAsJsonAsync("/api/sql", new { sql });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private async Task<string> Refusal(string sql)
    {
        using var response = await _api.PostAsJsonAsync("/api/sql", new { sql });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()!;
    }
}
