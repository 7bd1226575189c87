using System.Text.Json;
using DuckDB.NET.Data;

namespace Pipeline.Query;

/// <summary>The answer to an ad hoc query: columns, rows, and whether the row limit cut it.</summary>
public sealed record SqlResult(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows, bool Truncated);

/// <summary>
/// Read-only ad hoc SQL over <c>runs</c>, <c>logs</c> and <c>spans</c>. DuckDB parses the text (json_serialize_sql
/// accepts only SELECT statements); exactly one statement may come, every table it names must be one of those three
/// or a CTE in scope where it is named, only plain table references may appear (no table functions, SHOW, files),
/// and functions that build huge values from nothing are refused. Rows, time and concurrency are limited. Beneath
/// this, the database itself refuses files and settings (see <see cref="Storage.DuckDbWriter"/>).
/// </summary>
internal sealed class SqlSandbox(ReadStore store) : IDisposable
{
    private const int MaxConcurrent = 2;
    private static readonly HashSet<string> Tables = new(StringComparer.OrdinalIgnoreCase) { "runs", "logs", "spans" };
    private static readonly HashSet<string> TableReferences = new(StringComparer.Ordinal) { "BASE_TABLE", "JOIN", "SUBQUERY", "EMPTY", "EXPRESSION_LIST" };
    private static readonly HashSet<string> RefusedFunctions = new(StringComparer.OrdinalIgnoreCase)
    {
        "getenv", "current_setting", "range", "generate_series", "repeat", "lpad", "rpad", "list_resize", "array_resize",
        "query", "query_table",
    };

    private readonly SemaphoreSlim _slots = new(MaxConcurrent, MaxConcurrent);

    public void Dispose() => _slots.Dispose();

    public async Task<SqlResult> RunAsync(string? sql, int maxRows, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(sql))
        {
            throw new QueryException("sql is required: a single SELECT over runs, logs or spans");
        }

        var text = sql.Trim().TrimEnd(';').Trim();
        await CheckAsync(text, cancellationToken).ConfigureAwait(false);

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        if (!await _slots.WaitAsync(timeout, cancellationToken).ConfigureAwait(false))
        {
            throw new QueryException($"{MaxConcurrent} SQL queries are already running; try again shortly");
        }

        try
        {
            return await RunCheckedAsync(text, maxRows, timeout, limit, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task<SqlResult> RunCheckedAsync(string text, int maxRows, TimeSpan timeout, CancellationTokenSource limit, CancellationToken cancellationToken)
    {
        using var connection = store.Open();
        using var command = connection.CreateCommand();

        // On their own lines, so that a trailing comment in the query cannot swallow the wrapper.
        command.CommandText = $"SELECT * FROM (\n{text}\n) AS q LIMIT {maxRows + 1}";
        using var registration = limit.Token.Register(command.Cancel);
        try
        {
            using var reader = await command.ExecuteReaderAsync(limit.Token).ConfigureAwait(false);
            var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
            var rows = new List<object?[]>();
            while (rows.Count <= maxRows && await reader.ReadAsync(limit.Token).ConfigureAwait(false))
            {
                var row = new object?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] = reader.IsDBNull(i) ? null : Plain(reader.GetValue(i));
                }

                rows.Add(row);
            }

            var truncated = rows.Count > maxRows;
            return new SqlResult(columns, truncated ? rows.Take(maxRows).ToList() : rows, truncated);
        }
        catch (Exception ex) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new QueryException($"query ran longer than {timeout.TotalSeconds:0.#} s and was stopped ({ex.GetType().Name})");
        }
        catch (DuckDBException ex)
        {
            throw new QueryException($"query failed: {ex.Message}");
        }
    }

    /// <summary>Values as JSON carries them: lists as arrays, structs and maps as objects, dates as ISO text.</summary>
    private static object? Plain(object? value) => value switch
    {
        null or DBNull => null,
        string or bool or byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal or Guid => value,
        DateTime t => DateTime.SpecifyKind(t, DateTimeKind.Utc),
        DateTimeOffset t => t.UtcDateTime,
        DateOnly d => d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
        TimeOnly t => t.ToString("HH:mm:ss.FFFFFFF", System.Globalization.CultureInfo.InvariantCulture),
        System.Collections.IDictionary map => map.Keys.Cast<object>().ToDictionary(k => Convert.ToString(k, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty, k => Plain(map[k])),
        System.Collections.IEnumerable list and not byte[] => list.Cast<object?>().Select(Plain).ToList(),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
    };

    private async Task CheckAsync(string sql, CancellationToken cancellationToken)
    {
        var parse = new SqlWhere();
        var json = (await store.ListAsync($"SELECT json_serialize_sql({parse.Param(sql)}::VARCHAR)", parse.Parameters, r => r.GetString(0), cancellationToken).ConfigureAwait(false)).Single();
        using var document = JsonDocument.Parse(json);
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

        Walk(statements[0], new HashSet<string>(StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>What a FROM may hold: tables, joins, subqueries and VALUES; not SHOW, not anything else.</summary>
    private static void CheckTableReference(JsonElement node)
    {
        // "left" and "right" also name the sides of expressions; those carry a "class" and are not table references.
        if (node.ValueKind == JsonValueKind.Object && !node.TryGetProperty("class", out _)
            && node.TryGetProperty("type", out var type) && type.GetString() is { } name && name != "TABLE_FUNCTION" && !TableReferences.Contains(name))
        {
            throw new QueryException($"'{name}' is not allowed here: select from runs, logs and spans");
        }
    }

    /// <summary>Walks the syntax tree; <paramref name="ctes"/> holds the CTE names in scope at this node only.</summary>
    private static void Walk(JsonElement node, HashSet<string> ctes)
    {
        switch (node.ValueKind)
        {
            case JsonValueKind.Array:
                foreach (var item in node.EnumerateArray())
                {
                    Walk(item, ctes);
                }

                break;
            case JsonValueKind.Object:
                if (node.TryGetProperty("cte_map", out var cteMap) && cteMap.TryGetProperty("map", out var map) && map.GetArrayLength() > 0)
                {
                    // A WITH scopes its names to its own query: a copy, so they never leak to an outer or sibling query.
                    ctes = new HashSet<string>(ctes, StringComparer.OrdinalIgnoreCase);
                    foreach (var entry in map.EnumerateArray())
                    {
                        ctes.Add(entry.GetProperty("key").GetString()!);
                    }
                }

                var type = node.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                if (type == "TABLE_FUNCTION")
                {
                    throw new QueryException("table functions (read_csv, read_parquet, glob, ...) are not allowed: query runs, logs and spans");
                }

                if (type == "BASE_TABLE")
                {
                    var name = node.GetProperty("table_name").GetString()!;
                    var qualified = node.GetProperty("schema_name").GetString() is { Length: > 0 } || node.GetProperty("catalog_name").GetString() is { Length: > 0 };
                    if (qualified || !(Tables.Contains(name) || ctes.Contains(name)))
                    {
                        throw new QueryException($"table '{name}' is not available: query runs, logs and spans");
                    }
                }

                if (node.TryGetProperty("function_name", out var function) && RefusedFunctions.Contains(function.GetString()!))
                {
                    throw new QueryException($"function '{function.GetString()}' is not allowed");
                }

                foreach (var property in node.EnumerateObject())
                {
                    if (property.Name is "from_table" or "left" or "right")
                    {
                        CheckTableReference(property.Value);
                    }

                    Walk(property.Value, ctes);
                }

                break;
            default:
                break;
        }
    }
}
