using Pipeline.Storage;

namespace Pipeline.Lake;

/// <summary>
/// One table as the publisher reads it: the store table, the column whose time places a row in a slice, the column
/// holding the time of the commit that last wrote the row, and what each file adds to the store's columns.
/// </summary>
internal sealed record LakeTable(string Name, string Source, string TimeColumn, string CommitColumn, bool MarksRevisions)
{
    /// <summary>Runs by start; a run that changes (In Progress to Success, later logs) is written again with a later updated_at.</summary>
    public static readonly LakeTable Runs = new("runs", "runs", "executed_on", "updated_at", MarksRevisions: false);

    /// <summary>Every stored line (stdout mirrors of korelogger logs included, flagged): a line's flag may change later.</summary>
    public static readonly LakeTable Logs = new("logs", "log_lines", "timestamp", "committed_at", MarksRevisions: true);

    /// <summary>Spans by start; stored once, never changed.</summary>
    public static readonly LakeTable Spans = new("spans", "spans", "start_time", "committed_at", MarksRevisions: false);

    public static readonly IReadOnlyList<LakeTable> All = [Runs, Logs, Spans];

    /// <summary>The SQL expression of a row's slice start, for a slice length of <paramref name="sliceLength"/>.</summary>
    public string SliceSql(TimeSpan sliceLength)
    {
        var micros = sliceLength.Ticks / 10;
        return $"make_timestamp((epoch_us({TimeColumn}) // {micros}) * {micros})";
    }

    /// <summary>The columns of a file: the store's, then node, then (logs) whether the file revises a published slice.</summary>
    public string SelectList(string node, int seq) =>
        MarksRevisions ? $"*, {DuckDbStore.Literal(node)} AS node, {(seq > 1 ? "true" : "false")} AS revision" : $"*, {DuckDbStore.Literal(node)} AS node";
}
