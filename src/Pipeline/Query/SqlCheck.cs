using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Pipeline.Query;

/// <summary>
/// Checks the syntax tree DuckDB made of one ad hoc SELECT (json_serialize_sql) before it runs. Every node is visited,
/// knowing what it stands for: a query (SELECT, a set operation such as UNION, a recursive CTE), a table reference
/// (FROM, JOIN, PIVOT) or an expression. Tables must be <c>runs</c>, <c>logs</c>, <c>spans</c> or a CTE in scope where
/// they are named; every function must be on the allowlist (<see cref="SqlFunctions"/>), with its size arguments
/// checked; table functions other than unnest, SHOW, and parameters are refused.
/// </summary>
internal static class SqlCheck
{
    private static readonly HashSet<string> BareFunctions = new(StringComparer.OrdinalIgnoreCase)
    {
        "current_catalog", "current_schema", "current_role", "current_user", "session_user", "user", "current_database",
    };

    private static readonly HashSet<string> Tables = new(StringComparer.OrdinalIgnoreCase) { "runs", "logs", "spans" };
    private static readonly HashSet<string> Queries = new(StringComparer.Ordinal) { "SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE" };

    /// <summary>What a node stands for, known from where it sits.</summary>
    private enum Role
    {
        Any,
        Query,
        Table,
    }

    /// <summary>Throws a <see cref="QueryException"/> naming the first thing the statement may not do.</summary>
    public static void Statement(JsonElement statement)
    {
        try
        {
            Walk(statement, new HashSet<string>(StringComparer.OrdinalIgnoreCase), Role.Any, growing: null);
        }
        catch (InsufficientExecutionStackException)
        {
            throw new QueryException("the query is nested too deeply to be checked: write it with fewer levels of nesting");
        }
    }

    /// <summary>
    /// Walks the tree. <paramref name="ctes"/> holds the CTE names in scope at this node only; <paramref name="growing"/>
    /// names the enclosing call that can make text larger than its input, if any.
    /// </summary>
    private static void Walk(JsonElement node, HashSet<string> ctes, Role role, string? growing)
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        if (node.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in node.EnumerateArray())
            {
                Walk(item, ctes, Role.Any, growing);
            }

            return;
        }

        if (node.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        var type = node.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : string.Empty;
        var expression = node.TryGetProperty("class", out var kind) ? kind.GetString() : null;
        if (role == Role.Query && !Queries.Contains(type))
        {
            throw new QueryException($"'{type}' is not allowed here: send a SELECT over runs, logs and spans");
        }

        // Table references are checked wherever they sit, and anything else where a table reference belongs is refused.
        if (expression is null && (role == Role.Table || type is "BASE_TABLE" or "TABLE_FUNCTION" or "SHOW_REF" or "PIVOT"))
        {
            CheckTableReference(node, type, ctes);
        }

        if (expression == "PARAMETER")
        {
            throw new QueryException("parameters ($1, ?) are not supported: write the values into the query");
        }

        // DuckDB binds these bare names as functions when no column has them; parsed, they are column references.
        if (expression == "COLUMN_REF" && node.TryGetProperty("column_names", out var names) && names.GetArrayLength() == 1
            && BareFunctions.Contains(names[0].GetString()!))
        {
            throw new QueryException($"'{names[0].GetString()}' is not allowed in the SQL sandbox");
        }

        if (expression is not null && node.TryGetProperty("function_name", out var function))
        {
            growing = CheckFunction(node, function.GetString()!, growing);
        }

        // A WITH scopes its names to its own query, each CTE seeing those before it; a copy, so that they never leak
        // to an outer or sibling query. (DuckDB reads a name that is not yet in scope as a table.)
        if (node.TryGetProperty("cte_map", out var cteMap) && cteMap.TryGetProperty("map", out var map) && map.GetArrayLength() > 0)
        {
            var scope = new HashSet<string>(ctes, StringComparer.OrdinalIgnoreCase);
            foreach (var entry in map.EnumerateArray())
            {
                Walk(entry.GetProperty("value"), new HashSet<string>(scope, StringComparer.OrdinalIgnoreCase), Role.Any, growing);
                scope.Add(entry.GetProperty("key").GetString()!);
            }

            ctes = scope;
        }

        foreach (var property in node.EnumerateObject())
        {
            if (property.Name == "cte_map")
            {
                continue;
            }

            var scope = ctes;
            if (type == "RECURSIVE_CTE_NODE" && property.Name == "right")
            {
                // The recursive part of WITH RECURSIVE t AS (... UNION ALL ...) reads t itself.
                scope = new HashSet<string>(ctes, StringComparer.OrdinalIgnoreCase) { node.GetProperty("cte_name").GetString()! };
            }

            Walk(property.Value, scope, expression is null ? ChildRole(type, property.Name) : Role.Any, growing);
        }
    }

    /// <summary>What the child <paramref name="name"/> of a non-expression node of <paramref name="type"/> stands for.</summary>
    private static Role ChildRole(string type, string name) => (type, name) switch
    {
        (_, "from_table") => Role.Table,
        (_, "node") => Role.Query,
        ("JOIN", "left" or "right") => Role.Table,
        ("SET_OPERATION_NODE" or "RECURSIVE_CTE_NODE", "left" or "right") => Role.Query,
        ("PIVOT", "source") => Role.Table,
        ("SHOW_REF", "query") => Role.Query,
        _ => Role.Any,
    };

    /// <summary>What a FROM may hold: tables, joins, subqueries, VALUES, unnest, PIVOT, DESCRIBE and SUMMARIZE of a query.</summary>
    private static void CheckTableReference(JsonElement node, string type, HashSet<string> ctes)
    {
        switch (type)
        {
            case "BASE_TABLE":
                var name = node.GetProperty("table_name").GetString()!;
                var qualified = node.GetProperty("schema_name").GetString() is { Length: > 0 } || node.GetProperty("catalog_name").GetString() is { Length: > 0 };
                if (qualified || !(Tables.Contains(name) || ctes.Contains(name)))
                {
                    throw new QueryException($"table '{name}' is not available: query runs, logs and spans");
                }

                break;
            case "TABLE_FUNCTION":
                var function = node.GetProperty("function");
                var called = function.TryGetProperty("function_name", out var f) ? f.GetString() : null;
                if (!string.Equals(called, "unnest", StringComparison.OrdinalIgnoreCase))
                {
                    throw new QueryException($"table function '{called}' is not allowed: table functions (read_csv, read_parquet, glob, query, ...) reach files and the catalog; query runs, logs and spans");
                }

                break;
            case "SHOW_REF":
                // DESCRIBE and SUMMARIZE of a query only describe or summarize that query, which is checked like any other.
                var show = node.GetProperty("show_type").GetString();
                if (show is not ("DESCRIBE" or "SUMMARY") || node.GetProperty("query").ValueKind != JsonValueKind.Object)
                {
                    var what = node.TryGetProperty("table_name", out var shown) ? shown.GetString()?.Trim('"') : null;
                    throw new QueryException($"'SHOW {what}' is not allowed here: select from runs, logs and spans (DESCRIBE and SUMMARIZE of them are allowed)");
                }

                break;
            case "PIVOT":
                // PIVOT ... ON x IN (...) is a GROUP BY with filtered aggregates; one over an ENUM type reads the catalog.
                if (node.GetProperty("pivots").EnumerateArray().Any(p => p.GetProperty("pivot_enum").GetString() is { Length: > 0 }))
                {
                    throw new QueryException("PIVOT over an ENUM type is not allowed here: list the values (PIVOT ... ON x IN ('a', 'b'))");
                }

                break;
            case "JOIN" or "SUBQUERY" or "EMPTY" or "EXPRESSION_LIST":
                break;
            default:
                throw new QueryException($"'{type}' is not allowed here: select from runs, logs and spans");
        }
    }

    /// <summary>
    /// Refuses a function that is not on the allowlist, or whose size arguments are not safe; returns the call whose
    /// arguments are being walked and that can make text grow (this one, or the enclosing one).
    /// </summary>
    private static string? CheckFunction(JsonElement node, string name, string? growing)
    {
        var schema = node.TryGetProperty("schema", out var s) ? s.GetString() : null;
        var catalog = node.TryGetProperty("catalog", out var c) ? c.GetString() : null;
        if (catalog is { Length: > 0 } || schema is not (null or "" or "main"))
        {
            throw new QueryException($"function '{string.Join('.', new[] { catalog, schema, name }.Where(p => p is { Length: > 0 }))}' is not allowed: call functions by their plain name");
        }

        if (!SqlFunctions.IsAllowed(name))
        {
            throw new QueryException($"function '{name}' is not allowed in the SQL sandbox (docs/api.md lists what is)");
        }

        if (!SqlFunctions.CheckArguments(name, node.TryGetProperty("children", out var children) ? children : default))
        {
            return growing;
        }

        if (growing is not null)
        {
            throw new QueryException($"function '{name}' is not allowed inside '{growing}': functions that enlarge text (lpad, rpad, repeat, printf, format, replace, regexp_replace) may not be nested, as sizes would multiply");
        }

        return name;
    }
}
