using System.Globalization;
using System.Text.Json;
using DuckDB.NET.Data;
using Microsoft.Extensions.Options;
using Pipeline.Security;

namespace Pipeline.Query;

/// <summary>
/// The answer to an ad hoc query: columns, rows, and whether it was cut. <see cref="TruncatedBy"/> says how, in this
/// order: <c>rows</c> (the row limit stopped it) or <c>bytes</c> (the byte cap stopped it), then <c>value</c> (a value
/// in some row was cut: text to its first characters, a list, struct, map or blob to null).
/// </summary>
public sealed record SqlResult(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows, bool Truncated, IReadOnlyList<string> TruncatedBy);

/// <summary>
/// Read-only ad hoc SQL over <c>runs</c>, <c>logs</c> and <c>spans</c>. DuckDB parses the text (json_serialize_sql
/// accepts only SELECT statements); exactly one statement may come, and <see cref="SqlCheck"/> walks its tree. The
/// checked query runs inside a wrapper that cuts each value in the database, so that no huge value reaches .NET, and
/// rows are read until the row limit or the byte cap. Time and concurrency are limited by the caller
/// (<see cref="QueryAdmission"/>, <see cref="Deadline"/>). Beneath this, the database itself refuses files and
/// settings (see <see cref="Storage.DuckDbStore"/>).
/// </summary>
internal sealed class SqlSandbox(ReadStore store, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
{
    /// <summary>The deepest syntax tree read: far beyond DuckDB's own max_expression_depth (1000).</summary>
    private const int MaxTreeDepth = 10_000;

    private readonly JsonSerializerOptions _json = json.Value.SerializerOptions;

    /// <summary>
    /// Checks and runs the query over the scripts of <paramref name="scope"/>; DuckDB is interrupted when
    /// <paramref name="cancellationToken"/> fires.
    /// </summary>
    public async Task<SqlResult> RunAsync(string? sql, ScriptScope scope, int maxRows, int maxBytes, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(sql))
        {
            throw new QueryException("sql is required: a single SELECT over runs, logs or spans");
        }

        var text = sql.Trim().TrimEnd(';').Trim();
        await CheckAsync(text, cancellationToken).ConfigureAwait(false);
        return await RunCheckedAsync(Within(scope, text), maxRows, maxBytes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The checked query over the scope's scripts only: runs, logs and spans become CTEs of the same names, kept to
    /// the scope, around it. The check let the query name only those three, unqualified, so each of its references
    /// (its own CTEs' included, which see outer ones) reads the kept rows. The CTEs are inlined, never materialized.
    /// </summary>
    internal static string Within(ScriptScope scope, string text)
    {
        if (scope.IsAll)
        {
            return text;
        }

        var keep = scope.SqlLiteral("script");
        return $"WITH runs AS NOT MATERIALIZED (SELECT * FROM main.runs WHERE {keep}),\n"
            + $"logs AS NOT MATERIALIZED (SELECT * FROM main.logs WHERE {keep}),\n"
            + $"spans AS NOT MATERIALIZED (SELECT * FROM main.spans WHERE {keep})\n"
            + $"SELECT * FROM (\n{text}\n) AS scoped";
    }

    private async Task<SqlResult> RunCheckedAsync(string text, int maxRows, int maxBytes, CancellationToken limit)
    {
        using var connection = store.Open(heavy: true, out var closing);
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(limit, closing);
        try
        {
            var columns = await DescribeAsync(connection, text, limit).ConfigureAwait(false);
            var answer = SqlAnswer.For(columns, maxBytes);
            using var command = connection.CreateCommand();
            command.CommandText = answer.Wrap(text, maxRows + 1);
            command.UseStreamingMode = true;
            using var registration = interrupt.Token.Register(command.Cancel);
            using var reader = await command.ExecuteReaderAsync(limit).ConfigureAwait(false);
            var names = columns.Select(c => c.Name).ToList();
            var rows = new List<object?[]>();
            // The answer's own text ({"columns":...,"rows":[...],"truncated":...,"truncatedBy":[...]}) is under 128 bytes.
            var size = JsonSerializer.SerializeToUtf8Bytes(names, _json).Length + 128L;
            var (rowsCut, bytesCut, valueCut) = (false, false, false);
            while (await reader.ReadAsync(limit).ConfigureAwait(false))
            {
                if (rows.Count == maxRows)
                {
                    rowsCut = true;
                    break;
                }

                var row = new object?[names.Count];
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] = reader.IsDBNull(i) ? null : Plain(reader.GetValue(i));
                }

                // Rows stop before the one that would take the answer past the cap; the first row always comes.
                var rowSize = JsonSerializer.SerializeToUtf8Bytes(row, _json).Length + 1L;
                if (rows.Count > 0 && size + rowSize > maxBytes)
                {
                    bytesCut = true;
                    break;
                }

                size += rowSize;
                valueCut |= reader.GetBoolean(names.Count);
                rows.Add(row);
            }

            var by = new List<string>();
            if (rowsCut || bytesCut)
            {
                by.Add(rowsCut ? "rows" : "bytes");
            }

            if (valueCut)
            {
                by.Add("value");
            }

            return new SqlResult(names, rows, by.Count > 0, by);
        }
        catch (DuckDBException ex) when (!interrupt.IsCancellationRequested)
        {
            // Out of memory, a bad cast, a missing column: DuckDB's message says which.
            throw new QueryException($"query failed: {ex.Message}");
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidCastException or InvalidOperationException or NotSupportedException or OverflowException or FormatException or JsonException)
        {
            // A value DuckDB.NET cannot read or JSON cannot carry; casting the column to VARCHAR in the query helps.
            throw new QueryException($"the answer could not be read ({ex.GetType().Name}: {ex.Message}); cast the column to VARCHAR");
        }
    }

    /// <summary>The query's columns, named and typed as DuckDB binds them (the query does not run).</summary>
    private static async Task<List<SqlAnswer.Column>> DescribeAsync(DuckDBConnection connection, string text, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();

        // On their own lines, so that a trailing comment in the query cannot swallow the wrapper.
        command.CommandText = $"DESCRIBE SELECT * FROM (\n{text}\n) AS q";
        using var registration = cancellationToken.Register(command.Cancel);
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var columns = new List<SqlAnswer.Column>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            columns.Add(new SqlAnswer.Column(reader.GetString(0), reader.GetString(1)));
        }

        return columns;
    }

    /// <summary>
    /// Values as JSON carries them: lists as arrays, structs and maps as objects, dates as ISO text, NaN and infinities
    /// as text.
    /// </summary>
    private static object? Plain(object? value) => value switch
    {
        null or DBNull => null,
        double d when !double.IsFinite(d) => d.ToString(CultureInfo.InvariantCulture),
        float f when !float.IsFinite(f) => f.ToString(CultureInfo.InvariantCulture),
        // sum() of integers is a HUGEINT: a number while it fits in 64 bits, else its digits.
        System.Numerics.BigInteger n => n >= long.MinValue && n <= long.MaxValue ? (long)n : n.ToString(CultureInfo.InvariantCulture),
        string or bool or byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal or Guid => value,
        DateTime t => DateTime.SpecifyKind(t, DateTimeKind.Utc),
        DateTimeOffset t => t.UtcDateTime,
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        TimeOnly t => t.ToString("HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        System.Collections.IDictionary map => Object(map),
        System.Collections.IEnumerable list and not byte[] => list.Cast<object?>().Select(Plain).ToList(),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture),
    };

    private static Dictionary<string, object?> Object(System.Collections.IDictionary map)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in map)
        {
            result[Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? string.Empty] = Plain(entry.Value);
        }

        return result;
    }

    private async Task CheckAsync(string sql, CancellationToken cancellationToken)
    {
        var parse = new SqlWhere();
        string tree;
        try
        {
            tree = (await store.QueryAsync($"SELECT json_serialize_sql({parse.Param(sql)}::VARCHAR)", parse.Parameters, r => r.GetString(0), cancellationToken).ConfigureAwait(false)).Single();
        }
        catch (DuckDBException ex)
        {
            throw new QueryException($"the query could not be parsed: {ex.Message}");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(tree, new JsonDocumentOptions { MaxDepth = MaxTreeDepth });
        }
        catch (JsonException ex)
        {
            throw new QueryException($"the query is nested too deeply to be checked: write it with fewer levels of nesting ({ex.Message})");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.GetProperty("error").GetBoolean())
            {
                throw new QueryException($"only a single SELECT (or WITH ... SELECT) over runs, logs and spans may run: {root.GetProperty("error_message").GetString()}");
            }

            var statements = root.GetProperty("statements");
            if (statements.GetArrayLength() != 1)
            {
                throw new QueryException($"send exactly one statement (got {statements.GetArrayLength()})");
            }

            try
            {
                SqlCheck.Statement(statements[0]);
            }
            catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException)
            {
                // A syntax tree of a shape the check does not know is refused, not let through.
                throw new QueryException($"the query could not be checked ({ex.Message}): write it more plainly");
            }
        }
    }
}
