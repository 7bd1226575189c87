namespace Pipeline.Query;

/// <summary>How a column's values are typed, for filters, sorting and cursors.</summary>
internal enum ColumnKind
{
    Text,
    Number,
    Time,
}

/// <summary>One column of a list as the API names it, and the SQL behind it. Only these names reach SQL.</summary>
internal sealed record Column(string Name, string Sql, ColumnKind Kind, bool Filterable = true, bool Searchable = false);

/// <summary>The columns of a list, its key (the tie-breaker for order and cursors) and its time column.</summary>
internal sealed class ColumnSet(string noun, Column key, Column time, params Column[] columns)
{
    private readonly Dictionary<string, Column> _byName = columns.ToDictionary(c => c.Name, StringComparer.Ordinal);

    public string Noun { get; } = noun;

    public Column Key { get; } = key;

    public Column Time { get; } = time;

    public IReadOnlyCollection<Column> All => _byName.Values;

    public Column? Find(string name) => _byName.GetValueOrDefault(name);

    public string Names => string.Join(", ", _byName.Keys);

    /// <summary>Runs: every field but executedOn can be filtered on (as the seed says).</summary>
    public static readonly ColumnSet Runs = new(
        "run",
        key: new Column("runId", "run_id", ColumnKind.Text, Searchable: true),
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
        new Column("error", "error", ColumnKind.Text, Searchable: true));

    /// <summary>Logs: every field but timestamp can be filtered on.</summary>
    public static readonly ColumnSet Logs = new(
        "log",
        key: new Column("logId", "log_id", ColumnKind.Text, Searchable: true),
        time: new Column("timestamp", "timestamp", ColumnKind.Time, Filterable: false),
        new Column("logId", "log_id", ColumnKind.Text, Searchable: true),
        new Column("runId", "run_id", ColumnKind.Text, Searchable: true),
        new Column("script", "script", ColumnKind.Text),
        new Column("level", "level", ColumnKind.Text),
        new Column("message", "message", ColumnKind.Text, Searchable: true),
        new Column("timestamp", "timestamp", ColumnKind.Time, Filterable: false));
}
