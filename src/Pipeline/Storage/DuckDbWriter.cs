using DuckDB.NET.Data;
using Pipeline.Buffering;
using Pipeline.Parsing;

namespace Pipeline.Storage;

/// <summary>
/// The one place that writes to DuckDB. Each call is one transaction: the group's <see cref="GroupPlan"/> is worked
/// out in memory, then carried out with Appenders (new rows, the bulk) and a few set-based statements bounded by time
/// (stored runs that change, mirrors to match against stored lines). No statement reads a table whole and no table
/// has an index, so a commit costs the same on day 90 as on day 1.
/// </summary>
internal sealed class DuckDbWriter : IDisposable
{
    private readonly DuckDBConnection _connection;
    private readonly DeploymentVersions _deployments;
    private readonly RunTracker _runs;

    /// <summary>The time of the last commit: each commit takes a later one, whatever the clock does (see <see cref="Write"/>).</summary>
    private DateTime _lastCommit;

    public DuckDbWriter(StorageOptions options, long maxDiskBytes = 0, bool atStart = true, string? lakeFolder = null)
    {
        _connection = DuckDbStore.Open(options, maxDiskBytes, atStart, lakeFolder);
        try
        {
            DuckDbStore.Execute(_connection, SqlText.Get("staging"));
            _deployments = new DeploymentVersions(_connection);
            _runs = new RunTracker(options.RecentRuns);
            LoadRecentRuns(options.RecentRuns);
            _lastCommit = LastCommit();
        }
        catch
        {
            // A connection left open keeps DuckDB's database open in the process: the next open would not be fresh.
            _connection.Dispose();
            throw;
        }
    }

    /// <summary>The writer's connection: retention runs on it, between groups, so there is still one writer.</summary>
    internal DuckDBConnection Connection => _connection;

    internal RunTracker Runs => _runs;

    /// <summary>
    /// Stores the rows (and the digests of the exports they came in) in one transaction; throws, storing none, if
    /// DuckDB fails. The commit's time (updated_at, committed_at) is <paramref name="now"/>, or a microsecond after the
    /// last commit's when the clock has not moved on or went back: the lake publisher finds what changed since its
    /// last pass by that time, so it must grow with every commit.
    /// </summary>
    public void Write(IReadOnlyList<IngestRow> rows, IReadOnlyList<ExportDigest>? digests = null, DateTime? now = null)
    {
        var at = Later(now ?? DateTime.UtcNow, _lastCommit);
        try
        {
            using var transaction = _connection.BeginTransaction();
            var plan = GroupPlan.Build(rows, _runs, _deployments);
            StoreDeployments();
            StoreRuns(plan, at);
            StoreLogs(plan, at);
            ReconcileMirrors(plan.RunsToReconcile, at);
            if (plan.Spans.Count > 0)
            {
                Append("spans", plan.Spans, (a, s) => TableRows.AppendSpan(a, s, at));
            }

            if (digests is { Count: > 0 })
            {
                Append("export_digests", digests, (a, d) => TableRows.AppendDigest(a, d, at));
            }
            transaction.Commit();
            _lastCommit = at;
            _deployments.Committed();
            _runs.Committed();
        }
        catch
        {
            _deployments.RolledBack();
            _runs.RolledBack();
            throw;
        }
    }

    /// <summary>
    /// Bytes DuckDB's buffer manager holds now: in all, and for queries' own work (hash tables, sorts, results), that
    /// is, not table data, which is the writer's (committed rows not yet checkpointed) or can be read again.
    /// </summary>
    public (long Total, long Queries) MemoryInUse()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = """
            SELECT coalesce(sum(memory_usage_bytes), 0)::BIGINT,
                   coalesce(sum(memory_usage_bytes) FILTER (WHERE tag NOT IN ('BASE_TABLE', 'IN_MEMORY_TABLE', 'METADATA', 'ART_INDEX')), 0)::BIGINT
            FROM duckdb_memory()
            """;
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>The digests committed since <paramref name="since"/>, oldest first, for the dedup window.</summary>
    public List<(ExportDigest, DateTime)> DigestsSince(DateTime since)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = $"SELECT digest_high, digest_low, committed_at FROM export_digests WHERE committed_at >= {DuckDbStore.Literal(since)} ORDER BY committed_at";
        using var reader = command.ExecuteReader();
        var digests = new List<(ExportDigest, DateTime)>();
        while (reader.Read())
        {
            digests.Add((new ExportDigest(reader.GetFieldValue<ulong>(0), reader.GetFieldValue<ulong>(1)), reader.GetDateTime(2)));
        }

        return digests;
    }

    public void Dispose() => _connection.Dispose();

    /// <summary><paramref name="now"/>, or a microsecond (TIMESTAMP's resolution) after <paramref name="last"/> when it is not later.</summary>
    internal static DateTime Later(DateTime now, DateTime last)
    {
        var at = new DateTime(now.Ticks - (now.Ticks % 10), DateTimeKind.Utc);
        return at > last ? at : last.AddTicks(10);
    }

    /// <summary>The latest commit time in the file: of runs, logs, spans and the dedup window's digests.</summary>
    private DateTime LastCommit()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = """
            SELECT greatest(
                (SELECT max(updated_at) FROM runs), (SELECT max(committed_at) FROM log_lines),
                (SELECT max(committed_at) FROM spans), (SELECT max(committed_at) FROM export_digests))
            """;
        return command.ExecuteScalar() is DateTime last ? DateTime.SpecifyKind(last, DateTimeKind.Utc) : DateTime.MinValue;
    }

    private void StoreDeployments()
    {
        if (_deployments.Pending.Count > 0)
        {
            Append("deployments", _deployments.Pending, (a, d) => TableRows.AppendDeployment(a, d.Script, d.DeploymentId, d.Version, d.FirstSeen));
        }
    }

    private void StoreRuns(GroupPlan plan, DateTime now)
    {
        if (plan.RunsToDelete.Count > 0)
        {
            Append("temp", "stage_run_rows", plan.RunsToDelete, TableRows.AppendRunLocator);
            ExecuteByTimeRange(SqlText.Get("delete_run_rows"), plan.RunsToDelete, r => (r.ExecutedOn, r.ExecutedOn), now);
            DuckDbStore.Execute(_connection, "DELETE FROM stage_run_rows");
        }

        if (plan.RunsToAppend.Count > 0)
        {
            Append("runs", plan.RunsToAppend, (a, r) => TableRows.AppendRun(a, r.Run, r.Span, now));
        }

        if (plan.RunsToUpdate.Count > 0)
        {
            Append("temp", "stage_run_facts", plan.RunsToUpdate, TableRows.AppendRunFacts);
            ExecuteByTimeRange(SqlText.Get("update_run_facts"), plan.RunsToUpdate, r => (r.ExecutedOn, r.ExecutedOn), now);
            DuckDbStore.Execute(_connection, "DELETE FROM stage_run_facts");
        }
    }

    private void StoreLogs(GroupPlan plan, DateTime now)
    {
        if (plan.Logs.Count == 0)
        {
            return;
        }

        using var appender = _connection.CreateAppender("log_lines");
        for (var i = 0; i < plan.Logs.Count; i++)
        {
            TableRows.AppendLog(appender, plan.Logs[i], plan.Mirrored[i], now);
        }
    }

    /// <summary>Matches mirrors in SQL for runs some of whose lines were stored by an earlier commit.</summary>
    private void ReconcileMirrors(List<TrackedRun> runs, DateTime now)
    {
        if (runs.Count == 0)
        {
            return;
        }

        Append("temp", "stage_reconcile", runs, (a, r) => a.CreateRow().AppendValue(r.Key.Script).AppendValue(r.Key.RunId).EndRow());
        ExecuteByTimeRange(SqlText.Get("reconcile_mirrors"), runs, r => (r.WindowStart, r.WindowEnd), now);
        DuckDbStore.Execute(_connection, "DELETE FROM stage_reconcile");
    }

    /// <summary>
    /// Runs <paramref name="sql"/> once per cluster of nearby time ranges, with the cluster's bounds as literals in
    /// <c>$lo</c>/<c>$hi</c>: a run from last week and one from now are two short reads, not one long one.
    /// </summary>
    private void ExecuteByTimeRange<T>(string sql, List<T> items, Func<T, (DateTime Lo, DateTime Hi)> range, DateTime? now)
    {
        var gap = TimeSpan.FromMinutes(5);
        var ranges = items.Select(range).OrderBy(r => r.Lo).ToList();
        var (lo, hi) = ranges[0];
        foreach (var (nextLo, nextHi) in ranges.Skip(1).Append((DateTime.MaxValue, DateTime.MaxValue)))
        {
            if (nextLo - hi > gap || nextLo == DateTime.MaxValue)
            {
                var text = sql.Replace("$lo", DuckDbStore.Literal(lo), StringComparison.Ordinal).Replace("$hi", DuckDbStore.Literal(hi), StringComparison.Ordinal);
                DuckDbStore.Execute(_connection, text, now is null ? [] : [new DuckDBParameter("now", now.Value)]);
                (lo, hi) = (nextLo, nextHi);
            }
            else if (nextHi > hi)
            {
                hi = nextHi;
            }
        }
    }

    private void Append<T>(string table, IEnumerable<T> items, Action<DuckDBAppender, T> append) => Append(null, table, items, append);

    private void Append<T>(string? catalog, string table, IEnumerable<T> items, Action<DuckDBAppender, T> append)
    {
        using var appender = _connection.CreateAppender(catalog, null, table);
        foreach (var item in items)
        {
            append(appender, item);
        }
    }

    /// <summary>
    /// Remembers the most recently written runs again after a restart, so that their later logs and run spans find
    /// their rows. One read at start; runs of the last day, at most <paramref name="capacity"/>.
    /// </summary>
    private void LoadRecentRuns(int capacity)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = $"""
            SELECT script, run_id, status <> 'In Progress', executed_on, deployment_id, deployment_version, source, source_type,
                   log_window_start, log_window_end, has_stdout, has_korelogger
            FROM runs
            WHERE updated_at >= {DuckDbStore.Literal(DateTime.UtcNow.AddDays(-1))}
            ORDER BY updated_at DESC
            LIMIT {capacity}
            """;
        using var reader = command.ExecuteReader();
        var recent = new List<TrackedRun>();
        while (reader.Read())
        {
            recent.Add(new TrackedRun(
                new RunKey(reader.GetString(0), reader.GetString(1)),
                reader.GetBoolean(2),
                reader.GetDateTime(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetInt32(5),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.IsDBNull(8) ? DateTime.MaxValue : reader.GetDateTime(8),
                reader.IsDBNull(9) ? DateTime.MinValue : reader.GetDateTime(9),
                reader.GetBoolean(10),
                reader.GetBoolean(11)));
        }

        for (var i = recent.Count - 1; i >= 0; i--)
        {
            _runs.Remember(recent[i]);
        }
    }
}
