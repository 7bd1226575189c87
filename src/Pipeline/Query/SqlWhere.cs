using System.Globalization;
using DuckDB.NET.Data;

namespace Pipeline.Query;

/// <summary>
/// Builds a WHERE clause from a validated request. Column names come only from <see cref="ColumnSet"/>; every value
/// a user typed travels as a parameter, never as SQL text.
/// </summary>
internal sealed class SqlWhere
{
    private readonly List<string> _clauses = [];

    public List<DuckDBParameter> Parameters { get; } = [];

    /// <summary>The list's conditions: script, time range, filter, search, run, and (for a page) the cursor.</summary>
    public static SqlWhere For(ListRequest request, ColumnSet columns, bool afterCursor)
    {
        var where = new SqlWhere();
        where.Add($"script = {where.Param(request.Script)}");
        where.Add($"{columns.Time.Sql} >= {where.Param(request.From)} AND {columns.Time.Sql} < {where.Param(request.To)}");
        if (request.Filter is { Conditions.Count: > 0 } filter)
        {
            where.Add(string.Join(filter.AnyOf ? " OR " : " AND ", filter.Conditions.Select(c => $"({where.Condition(c)})")));
        }

        if (request.Search is { } search)
        {
            var q = where.Param(search.ToLowerInvariant());
            where.Add(string.Join(" OR ", columns.All.Where(c => c.Searchable).Select(c => $"contains(lower({c.Sql}), {q})")));
        }

        if (request.RunId is { } runId)
        {
            where.Add($"run_id = {where.Param(runId)}");
        }

        if (afterCursor && request.After is { } cursor)
        {
            where.Add(where.After(request.Sort, columns.Key, cursor, forward: true));
        }

        return where;
    }

    public static string OrderBy(Sort sort, Column key, bool reverse = false)
    {
        var descending = sort.Descending ^ reverse;
        var direction = descending ? "DESC" : "ASC";
        var nulls = reverse ? "NULLS FIRST" : "NULLS LAST";
        return $"ORDER BY {sort.Column.Sql} {direction} {nulls}, {key.Sql} {direction}";
    }

    public string Param(object? value)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"p{Parameters.Count}");
        Parameters.Add(new DuckDBParameter(name, value));
        return "$" + name;
    }

    public void Add(string clause) => _clauses.Add(clause);

    /// <summary>
    /// Rows strictly after (<paramref name="forward"/>) or before the position (value, key) in the list order, where
    /// empty values sort last.
    /// </summary>
    public string After(Sort sort, Column key, Cursor position, bool forward)
    {
        var later = sort.Descending == forward ? "<" : ">";
        var column = sort.Column.Sql;
        var k = Param(position.Key);
        if (position.Value is null)
        {
            return forward
                ? $"{column} IS NULL AND {key.Sql} {later} {k}"
                : $"{column} IS NOT NULL OR {key.Sql} {later} {k}";
        }

        var v = Param(position.Value);
        var beyond = $"{column} {later} {v} OR ({column} = {v} AND {key.Sql} {later} {k})";
        return forward ? $"{beyond} OR {column} IS NULL" : $"{column} IS NOT NULL AND ({beyond})";
    }

    public override string ToString() => _clauses.Count == 0 ? "TRUE" : string.Join(" AND ", _clauses.Select(c => $"({c})"));

    private string Condition(Condition condition)
    {
        var column = condition.Column.Sql;
        var values = condition.Values;
        switch (condition.Operator)
        {
            case "eq" or "in":
                return $"{column} IN ({string.Join(", ", values.Select(Param))})";
            case "neq" or "notIn":
                return $"{column} IS NULL OR {column} NOT IN ({string.Join(", ", values.Select(Param))})";
            case "contains":
                return string.Join(" OR ", values.Select(v => $"contains(lower({column}), {Param(((string)v).ToLowerInvariant())})"));
            case "notContains":
                return $"{column} IS NULL OR NOT ({string.Join(" OR ", values.Select(v => $"contains(lower({column}), {Param(((string)v).ToLowerInvariant())})"))})";
            default:
                var op = condition.Operator switch { "gt" => ">", "gte" => ">=", "lt" => "<", _ => "<=" };
                return $"{column} {op} {Param(values[0])}";
        }
    }
}
