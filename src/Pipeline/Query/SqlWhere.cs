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

    /// <summary>What a list's query reads (set by <see cref="For"/>): its table, or over the lake its day folders in the list's time.</summary>
    public string From { get; private set; } = "";

    /// <summary>The list's conditions: script, time range, filter, search, run, and (for a page) the cursor.</summary>
    public static SqlWhere For(ListRequest request, ColumnSet columns, bool afterCursor)
    {
        var where = new SqlWhere();
        where.From = columns.ReadsByDay ? $"{columns.Table}_in({where.Param(request.From)}, {where.Param(request.To)})" : columns.Table;
        where.Add($"script = {where.Param(request.Script)}");
        where.Add($"{columns.Time.Sql} >= {where.Param(request.From)} AND {columns.Time.Sql} < {where.Param(request.To)}");
        if (request.Filter is { Conditions.Count: > 0 } filter)
        {
            where.Add(string.Join(filter.AnyOf ? " OR " : " AND ", filter.Conditions.Select(c => $"({where.Condition(c)})")));
        }

        if (request.Search is { } search)
        {
            // Within one run's logs the run id says nothing: the search looks at the rest.
            var q = where.Param(search.ToLowerInvariant());
            var searched = columns.All.Where(c => c.Searchable && !(request.RunId is not null && c.Sql == "run_id"));
            where.Add(string.Join(" OR ", searched.Select(c => $"contains(lower({c.Sql}), {q})")));
        }

        if (request.RunId is { } runId)
        {
            where.Add($"run_id = {where.Param(runId)}");
        }

        if (afterCursor && request.After is { } cursor)
        {
            where.Add(where.After(request.Sort, columns, cursor, forward: true));
        }

        return where;
    }

    /// <summary>The list order: the sort column (empty values last), then the keys in the same direction.</summary>
    public static string OrderBy(Sort sort, ColumnSet columns, bool reverse = false)
    {
        var descending = sort.Descending ^ reverse;
        var direction = descending ? "DESC" : "ASC";
        var nulls = reverse ? "NULLS FIRST" : "NULLS LAST";
        return $"ORDER BY {sort.Column.Sql} {direction} {nulls}, {string.Join(", ", columns.Keys.Select(k => $"{k.Sql} {direction}"))}";
    }

    public string Param(object? value)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"p{Parameters.Count}");
        Parameters.Add(new DuckDBParameter(name, value));
        return "$" + name;
    }

    public void Add(string clause) => _clauses.Add(clause);

    /// <summary>
    /// Rows strictly after (<paramref name="forward"/>) or before the position (value, keys) in the list order, where
    /// empty values sort last. On the time column, which is never empty, the bound is also stated on its own so that
    /// DuckDB skips the row groups before (or after) it.
    /// </summary>
    public string After(Sort sort, ColumnSet columns, Cursor position, bool forward)
    {
        var later = sort.Descending == forward ? "<" : ">";
        var column = sort.Column.Sql;
        var keys = columns.Keys.Select((k, i) => (k.Sql, Value: Param(position.Keys[i]))).ToList();
        var tie = $"{keys[^1].Sql} {later} {keys[^1].Value}";
        for (var i = keys.Count - 2; i >= 0; i--)
        {
            tie = $"{keys[i].Sql} {later} {keys[i].Value} OR ({keys[i].Sql} = {keys[i].Value} AND ({tie}))";
        }

        if (position.Value is null)
        {
            return forward
                ? $"{column} IS NULL AND ({tie})"
                : $"{column} IS NOT NULL OR ({tie})";
        }

        var v = Param(position.Value);
        var beyond = $"{column} {later} {v} OR ({column} = {v} AND ({tie}))";
        if (sort.Column.Sql == columns.Time.Sql)
        {
            return $"{column} {later}= {v} AND ({beyond})";
        }

        return forward ? $"{beyond} OR {column} IS NULL" : $"{column} IS NOT NULL AND ({beyond})";
    }

    public override string ToString() => _clauses.Count == 0 ? "TRUE" : string.Join(" AND ", _clauses.Select(c => $"({c})"));

    /// <summary>
    /// One filter condition. Text compares without regard to case (<c>lower</c> on both sides), numbers as numbers.
    /// A condition on an error group first asks for the group's literal parts (<see cref="ErrorGroups.Pattern"/>), a
    /// cheap test that spares most runs the regular expressions; its negation tells the runs without a group by their
    /// status and error, so that the expressions run once.
    /// </summary>
    private string Condition(Condition condition)
    {
        var column = condition.Column.Sql;
        var values = condition.Values;
        var text = condition.Column.Kind == ColumnKind.Text;
        string Value(object v) => text ? $"lower({Param(v)})" : Param(v);
        string Compared() => text ? $"lower({column})" : column;
        switch (condition.Operator)
        {
            case "eq" or "in" when condition.Column.Name == ErrorGroups.Column:
                var likely = string.Join(" OR ", values.Select(v => $"lower(error) LIKE lower({Param(ErrorGroups.Pattern((string)v))}) ESCAPE '\\'"));
                return $"status = 'Failed' AND ({likely}) AND {Compared()} IN ({string.Join(", ", values.Select(Value))})";
            case "neq" or "notIn" when condition.Column.Name == ErrorGroups.Column:
                return $"status <> 'Failed' OR error IS NULL OR {Compared()} NOT IN ({string.Join(", ", values.Select(Value))})";
            case "eq" or "in":
                return $"{Compared()} IN ({string.Join(", ", values.Select(Value))})";
            case "neq" or "notIn":
                return $"{column} IS NULL OR {Compared()} NOT IN ({string.Join(", ", values.Select(Value))})";
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
