namespace Pipeline.Query;

/// <summary>How a column's values are typed, for filters, sorting and cursors.</summary>
internal enum ColumnKind
{
    Text,
    Number,
    Time,
}

/// <summary>
/// One column of a list as the API names it, and the SQL behind it. Only these names reach SQL. <paramref name="Operators"/>,
/// when given, are the only filter operators the column takes.
/// </summary>
internal sealed record Column(
    string Name, string Sql, ColumnKind Kind, bool Filterable = true, bool Searchable = false, bool Sortable = true, IReadOnlyList<string>? Operators = null);

/// <summary>
/// The columns of a list, its keys (the tie-breakers for order and cursors, after the sort column; the last one is
/// the row's id) and its time column.
/// </summary>
internal sealed class ColumnSet(string noun, Column[] keys, Column time, params Column[] columns)
{
    /// <summary>The lake's column: the daemon (<c>Lake:Node</c>) that stored and published the row.</summary>
    public const string NodeName = "node";

    private readonly Dictionary<string, Column> _byName = columns.ToDictionary(c => c.Name, StringComparer.Ordinal);

    public string Noun { get; } = noun;

    /// <summary>
    /// True when the rows carry <c>node</c> (a lake-mode daemon): listed after the other fields, in exports too, and
    /// filterable, sortable and offered in pick lists like them.
    /// </summary>
    public bool HasNode => _byName.ContainsKey(NodeName);

    /// <summary>The table (or view) the list reads: runs or logs.</summary>
    public string Table => $"{Noun}s";

    /// <summary>
    /// True when the list reads the lake (a lake-mode daemon): a list bounded in time reads the table's table macro
    /// <c>&lt;table&gt;_in(from, to)</c> (Lake/Sql/lake_views.sql), which opens only the day folders of that time.
    /// </summary>
    public bool ReadsByDay { get; private init; }

    /// <summary>The same columns and <c>node</c>, read by day: a lake-mode daemon's.</summary>
    public ColumnSet WithNode() => new(Noun, [.. Keys], Time, [.. columns, new Column(NodeName, NodeName, ColumnKind.Text)]) { ReadsByDay = true };

    /// <summary>The row's id: the last tie-breaker.</summary>
    public Column Key => Keys[^1];

    /// <summary>The tie-breakers after the sort column, in order.</summary>
    public IReadOnlyList<Column> Keys { get; } = keys;

    public Column Time { get; } = time;

    public IReadOnlyCollection<Column> All => _byName.Values;

    public Column? Find(string name) => _byName.GetValueOrDefault(name);

    public string Names => string.Join(", ", _byName.Keys);

    public string SortableNames => string.Join(", ", _byName.Values.Where(c => c.Sortable).Select(c => c.Name));

    /// <summary>
    /// Runs: every field but executedOn can be filtered on (as the seed says), and errorGroup, the normalised error
    /// message of a failed run (<see cref="ErrorGroups"/>), which is neither listed nor sortable.
    /// </summary>
    public static readonly ColumnSet Runs = new(
        "run",
        keys: [new Column("runId", "run_id", ColumnKind.Text, Searchable: true)],
        time: new Column("executedOn", "executed_on", ColumnKind.Time, Filterable: false),
        new Column("runId", "run_id", ColumnKind.Text, Searchable: true),
        new Column("script", "script", ColumnKind.Text),
        new Column("status", "status", ColumnKind.Text, Searchable: true),
        new Column("deploymentVersion", "deployment_version", ColumnKind.Number),
        new Column("deploymentId", "deployment_id", ColumnKind.Text, Searchable: true),
        new Column("responseTimeMs", "response_time_ms", ColumnKind.Number),
        new Column("function", "function", ColumnKind.Text, Searchable: true),
        new Column("executedOn", "executed_on", ColumnKind.Time, Filterable: false),
        new Column("sourceType", "source_type", ColumnKind.Text, Searchable: true),
        new Column("source", "source", ColumnKind.Text, Searchable: true),
        new Column("error", "error", ColumnKind.Text, Searchable: true),
        new Column(ErrorGroups.Column, ErrorGroups.Sql, ColumnKind.Text, Sortable: false, Operators: ["eq", "in", "neq", "notIn"]));

    /// <summary>
    /// Logs: every field but timestamp can be filtered on. Rows of the same sort value keep the order they were
    /// printed in (seq, the line within one printed text), then run and log id.
    /// </summary>
    public static readonly ColumnSet Logs = new(
        "log",
        keys: [new Column("seq", "seq", ColumnKind.Number, Filterable: false), new Column("runId", "run_id", ColumnKind.Text), new Column("logId", "log_id", ColumnKind.Text)],
        time: new Column("timestamp", "timestamp", ColumnKind.Time, Filterable: false),
        new Column("logId", "log_id", ColumnKind.Text, Searchable: true),
        new Column("runId", "run_id", ColumnKind.Text, Searchable: true),
        new Column("script", "script", ColumnKind.Text),
        new Column("level", "level", ColumnKind.Text),
        new Column("message", "message", ColumnKind.Text, Searchable: true),
        new Column("timestamp", "timestamp", ColumnKind.Time, Filterable: false));
}

/// <summary>
/// The lists' columns as this daemon offers them: a store's as they are; a lake-mode daemon's with <c>node</c>, the
/// daemon each row came from (<see cref="ColumnSet.HasNode"/>).
/// </summary>
internal sealed class ListColumns(bool node)
{
    public ColumnSet Runs { get; } = node ? ColumnSet.Runs.WithNode() : ColumnSet.Runs;

    public ColumnSet Logs { get; } = node ? ColumnSet.Logs.WithNode() : ColumnSet.Logs;
}
