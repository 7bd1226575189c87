using DuckDB.NET.Data;
using Pipeline.Storage;

namespace Pipeline.Lake;

/// <summary>One file of a pass: a node's rows of one table, script and slice, under <see cref="Where"/>.</summary>
internal sealed record LakeFile(LakeTable Table, string Script, DateTime SliceStart, int Seq, string Path, string Where, long Rows);

/// <summary>
/// What was published, in the database beside the data (tables lake_files and lake_state, schema_v3.sql). Only the
/// publisher writes these two tables, on its own connection and in its own transactions: no row of them is one the
/// writer touches, so the two never conflict, and the writer stays the only writer of runs, logs and spans.
/// </summary>
internal static class LakeLedger
{
    public static LakeState? State(DuckDBConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT cutoff, committed_through, passes FROM lake_state";
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? new LakeState(DateTime.SpecifyKind(reader.GetDateTime(0), DateTimeKind.Utc), DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc), reader.GetInt64(2))
            : null;
    }

    /// <summary>
    /// The newest commit time among the rows committed after <paramref name="after"/>; null when there are none. Each
    /// table is read where its commit column passes <paramref name="after"/>: zone maps skip the older row groups.
    /// </summary>
    public static DateTime? NewestCommit(DuckDBConnection connection, DateTime after)
    {
        var since = DuckDbStore.Literal(after);
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT greatest({string.Join(", ", LakeTable.All.Select(t => $"(SELECT max({t.CommitColumn}) FROM {t.Source} WHERE {t.CommitColumn} > {since})"))})";
        return command.ExecuteScalar() is DateTime newest ? DateTime.SpecifyKind(newest, DateTimeKind.Utc) : null;
    }

    /// <summary>The (script, slice) groups of <paramref name="table"/>'s rows under <paramref name="where"/>, with their row counts.</summary>
    public static List<(string Script, DateTime Slice, long Rows)> Groups(DuckDBConnection connection, LakeTable table, string where, TimeSpan sliceLength, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT script, {table.SliceSql(sliceLength)} AS slice, count(*) FROM {table.Source} WHERE {where} GROUP BY ALL ORDER BY slice, script";
        using var cancel = cancellationToken.Register(command.Cancel);
        using var reader = command.ExecuteReader();
        var groups = new List<(string, DateTime, long)>();
        while (reader.Read())
        {
            groups.Add((reader.GetString(0), DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc), reader.GetInt64(2)));
        }

        return groups;
    }

    /// <summary>The last sequence number used for each (table, script, slice) from <paramref name="from"/> on.</summary>
    public static Dictionary<(string Table, string Script, DateTime Slice), int> LastSeqs(DuckDBConnection connection, DateTime from)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT tbl, script, slice_start, max(seq) FROM lake_files WHERE slice_start >= {DuckDbStore.Literal(from)} GROUP BY ALL";
        using var reader = command.ExecuteReader();
        var seqs = new Dictionary<(string, string, DateTime), int>();
        while (reader.Read())
        {
            seqs[(reader.GetString(0), reader.GetString(1), DateTime.SpecifyKind(reader.GetDateTime(2), DateTimeKind.Utc))] = reader.GetInt32(3);
        }

        return seqs;
    }

    /// <summary>Records the pass's files as being written, before any of them is: a crash then leaves a trace to clean up.</summary>
    public static void Intend(DuckDBConnection connection, IReadOnlyList<LakeFile> files, string node, DateTime now)
    {
        using var transaction = connection.BeginTransaction();
        using (var appender = connection.CreateAppender("lake_files"))
        {
            foreach (var file in files)
            {
                appender.CreateRow()
                    .AppendValue(file.Table.Name).AppendValue(file.Script).AppendValue(file.SliceStart).AppendValue((int?)file.Seq)
                    .AppendValue(node).AppendValue(file.Path).AppendValue((long?)file.Rows).AppendNullValue()
                    .AppendValue("writing").AppendValue(now).AppendNullValue()
                    .EndRow();
            }
        }

        transaction.Commit();
    }

    /// <summary>The files are complete and in place: they become published, and the watermark moves on, in one transaction.</summary>
    public static void Complete(DuckDBConnection connection, IReadOnlyList<(LakeFile File, long Rows, long Bytes)> files, LakePass pass, DateTime now)
    {
        using var transaction = connection.BeginTransaction();
        foreach (var (file, rows, bytes) in files)
        {
            DuckDbStore.Execute(connection, "UPDATE lake_files SET state = 'published', rows = $rows, bytes = $bytes, published_at = $now WHERE path = $path AND state = 'writing'",
                new DuckDBParameter("rows", rows), new DuckDBParameter("bytes", bytes), new DuckDBParameter("now", now), new DuckDBParameter("path", file.Path));
        }

        DuckDbStore.Execute(connection, "DELETE FROM lake_state");
        DuckDbStore.Execute(connection, "INSERT INTO lake_state VALUES ($cutoff, $committed, $passes)",
            new DuckDBParameter("cutoff", pass.Cutoff), new DuckDBParameter("committed", pass.CommittedThrough),
            new DuckDBParameter("passes", (pass.Previous?.Passes ?? 0) + 1));
        transaction.Commit();
    }

    /// <summary>The files of passes that did not finish.</summary>
    public static List<string> Unfinished(DuckDBConnection connection) => Paths(connection, "SELECT path FROM lake_files WHERE state = 'writing'");

    public static void ForgetUnfinished(DuckDBConnection connection) => DuckDbStore.Execute(connection, "DELETE FROM lake_files WHERE state = 'writing'");

    /// <summary>Published files not yet uploaded, oldest first.</summary>
    public static List<string> ToUpload(DuckDBConnection connection, int limit) =>
        Paths(connection, $"SELECT path FROM lake_files WHERE state = 'published' ORDER BY published_at, path LIMIT {limit}");

    public static void Uploaded(DuckDBConnection connection, string path, DateTime now) =>
        DuckDbStore.Execute(connection, "UPDATE lake_files SET state = 'uploaded', uploaded_at = $now WHERE path = $path AND state = 'published'",
            new DuckDBParameter("now", now), new DuckDBParameter("path", path));

    /// <summary>
    /// Forgets the files of slices older than <paramref name="before"/> (once uploaded, when files are uploaded). Rows
    /// that old are refused on arrival, so no later file of those slices can be needed; the ledger stays as small as
    /// the retention period.
    /// </summary>
    public static void Forget(DuckDBConnection connection, DateTime before, bool uploads) =>
        DuckDbStore.Execute(connection, $"DELETE FROM lake_files WHERE slice_start < {DuckDbStore.Literal(before)} AND state IN ({(uploads ? "'uploaded'" : "'published', 'uploaded'")})");

    private static List<string> Paths(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var paths = new List<string>();
        while (reader.Read())
        {
            paths.Add(reader.GetString(0));
        }

        return paths;
    }
}
