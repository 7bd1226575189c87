using System.Globalization;
using DuckDB.NET.Data;
using DuckDB.NET.Native;
using Pipeline.Parsing;

namespace Pipeline.Storage;

/// <summary>
/// The one place that writes to DuckDB. Each call is one transaction, tried first on a fast path: log lines, the
/// bulk, are appended straight into <c>log_lines</c>, and runs the writer has not seen yet straight into <c>runs</c>.
/// Everything else (runs it knows that change, run spans, trace spans) goes through connection-local staging tables
/// and is merged by key with set-based SQL. If the fast path meets a key that is already stored (a retried export,
/// a run last seen before a restart), DuckDB refuses it on the primary key and the transaction is redone with
/// everything merged by key. Merging by key is what makes a retry land once and lets records come in any order.
/// </summary>
internal sealed class DuckDbWriter : IDisposable
{
    private readonly DuckDBConnection _connection;
    private readonly DeploymentVersions _deployments;
    private readonly KnownRuns _known = new(capacity: 100_000);

    public DuckDbWriter(StorageOptions options)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(options.Path));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        _connection = new DuckDBConnection(options.ConnectionString());
        _connection.Open();
        DuckDbSchema.Apply(_connection);
        Execute(StagingTables);
        _deployments = new DeploymentVersions(_connection);
        LockDown(options.ExportDirectory());
    }

    /// <summary>
    /// From here on DuckDB touches no file but its own and the export folder, installs and loads no extension, and
    /// refuses any change of settings, whatever SQL reaches it (the query API's SQL endpoint included).
    /// </summary>
    private void LockDown(string exportDirectory)
    {
        Directory.CreateDirectory(exportDirectory);
        foreach (var leftover in Directory.EnumerateFiles(exportDirectory, "pipeline-export-*"))
        {
            File.Delete(leftover);
        }

        using (var check = _connection.CreateCommand())
        {
            check.CommandText = "SELECT current_setting('lock_configuration')";
            if (check.ExecuteScalar() is true)
            {
                return; // The same database instance, locked by an earlier writer in this process.
            }
        }

        using var command = _connection.CreateCommand();
        command.CommandText = $"""
            SET allowed_directories = ['{exportDirectory.Replace("'", "''", StringComparison.Ordinal)}/'];
            SET enable_external_access = false;
            SET autoinstall_known_extensions = false;
            SET autoload_known_extensions = false;
            SET lock_configuration = true;
            """;
        command.ExecuteNonQuery();
    }

    /// <summary>Stores the rows in one transaction; throws (and stores none of them) if DuckDB fails.</summary>
    public void Write(IReadOnlyList<IngestRow> rows)
    {
        try
        {
            WriteOnce(rows, mergeByKey: false);
        }
        catch (DuckDBException ex) when (ex.ErrorType == DuckDBErrorType.Constraint)
        {
            WriteOnce(rows, mergeByKey: true);
        }
    }

    public void Dispose() => _connection.Dispose();

    private void WriteOnce(IReadOnlyList<IngestRow> rows, bool mergeByKey)
    {
        try
        {
            using var transaction = _connection.BeginTransaction();
            var batch = Split(rows);
            StorePendingDeployments();
            if (batch.RunsOfLogs.Count > 0)
            {
                var runsWithBoth = TrackRunsOfLogs(batch.RunsOfLogs, mergeByKey);
                if (batch.Logs.Count == 0)
                {
                    // Only summaries: the lines came in an earlier group.
                }
                else if (mergeByKey)
                {
                    AppendLogs(batch.Logs, "temp", "stage_logs");
                    Execute(InsertLogLinesByKey);
                }
                else
                {
                    AppendLogs(batch.Logs, null, "log_lines");
                }

                ReconcileMirrors(runsWithBoth);
            }

            if (batch.Runs.Count > 0)
            {
                AppendRuns(batch.Runs);
                UpsertRunsFromRunSpans();
            }

            if (batch.Spans.Count > 0)
            {
                AppendSpans(batch.Spans);
                Execute(InsertSpans);
            }

            transaction.Commit();
            _deployments.Committed();
            _known.Committed();
        }
        catch
        {
            _deployments.RolledBack();
            _known.RolledBack();
            throw;
        }
    }

    /// <summary>
    /// Sorts rows by table, gives each run its deployment version, and merges what the logs say of each run. Log lines
    /// whose export's summary was committed in an earlier group still get their run tracked, from the lines themselves.
    /// </summary>
    private Batch Split(IReadOnlyList<IngestRow> rows)
    {
        var batch = new Batch();
        List<LogRow>? unsummarized = null;
        foreach (var row in rows)
        {
            switch (row)
            {
                case LogRow log:
                    batch.Logs.Add(log);
                    if (!batch.RunsOfLogs.ContainsKey(log.Run.RunId))
                    {
                        (unsummarized ??= []).Add(log);
                    }

                    break;
                case RunLogSummary summary:
                    Track(batch, summary);
                    break;
                case RunRow run:
                    batch.Runs.Add((run, _deployments.VersionOf(run.Run.Script, run.Run.DeploymentId, run.Run.DeploymentVersion, run.ExecutedOn)));
                    break;
                case SpanRow span:
                    batch.Spans.Add(span);
                    break;
                default:
                    throw new InvalidOperationException($"No table for row type {row.GetType().Name}.");
            }
        }

        foreach (var log in unsummarized ?? [])
        {
            Track(batch, new RunLogSummary(log.Run, log.Timestamp, log.Timestamp, log.Origin == LogOrigin.Stdout, log.Origin == LogOrigin.Korelogger));
        }

        return batch;
    }

    private void Track(Batch batch, RunLogSummary summary)
    {
        var version = _deployments.VersionOf(summary.Run.Script, summary.Run.DeploymentId, summary.Run.DeploymentVersion, summary.First);
        if (batch.RunsOfLogs.TryGetValue(summary.Run.RunId, out var touch))
        {
            touch.Add(summary, version);
        }
        else
        {
            batch.RunsOfLogs[summary.Run.RunId] = new RunTouch(summary, version);
        }
    }

    // Every value below is passed with its C# type: DuckDB.NET binds an integer literal to its byte overload.
    private void StorePendingDeployments()
    {
        if (_deployments.Pending.Count == 0)
        {
            return;
        }

        using var appender = _connection.CreateAppender("deployments");
        foreach (var (script, deploymentId, version, firstSeen) in _deployments.Pending)
        {
            appender.CreateRow().AppendValue(script).AppendValue(deploymentId).AppendValue((int?)version).AppendValue(firstSeen).EndRow();
        }
    }

    private void AppendLogs(List<LogRow> logs, string? catalog, string table)
    {
        using var appender = _connection.CreateAppender(catalog, null, table);
        foreach (var log in logs)
        {
            appender.CreateRow()
                .AppendValue(log.LogId).AppendValue(log.Run.RunId).AppendValue(log.Run.Script)
                .AppendValue(log.Level).AppendValue(log.Message).AppendValue(log.Timestamp)
                .AppendValue((int?)log.Seq).AppendValue(OriginName(log.Origin)).AppendValue((bool?)false)
                .AppendValue(log.Run.DeploymentId).AppendValue(log.Run.Source).AppendValue(log.Run.SourceType)
                .AppendValue(log.Pid).AppendValue(log.TraceId).AppendValue(log.SpanId).AppendValue(log.AttributesJson)
                .EndRow();
        }
    }

    private void AppendRuns(List<(RunRow Run, int? Version)> runs)
    {
        using var appender = _connection.CreateAppender("temp", null, "stage_runs");
        foreach (var (run, version) in runs)
        {
            appender.CreateRow()
                .AppendValue(run.Run.RunId).AppendValue(run.Run.Script)
                .AppendValue(run.Status == RunStatus.Failed ? "Failed" : "Success")
                .AppendValue(run.Run.DeploymentId).AppendValue(version)
                .AppendValue((double?)run.DurationMs).AppendValue(run.Function)
                .AppendValue(run.ExecutedOn).AppendValue(run.EndedOn)
                .AppendValue(run.Run.SourceType).AppendValue(run.Run.Source).AppendValue(run.Error)
                .AppendValue(run.Input).AppendValue(run.Output).AppendValue(run.TraceId).AppendValue(run.SpanId)
                .AppendValue(run.AttributesJson).AppendValue(run.ResourceJson)
                .EndRow();
        }
    }

    private void AppendSpans(List<SpanRow> spans)
    {
        using var appender = _connection.CreateAppender("temp", null, "stage_spans");
        foreach (var span in spans)
        {
            appender.CreateRow()
                .AppendValue(span.TraceId).AppendValue(span.SpanId).AppendValue(span.ParentSpanId)
                .AppendValue(span.Run.RunId).AppendValue(span.Run.Script).AppendValue(span.Name)
                .AppendValue((int?)span.Kind).AppendValue(span.Start).AppendValue(span.End)
                .AppendValue((double?)span.DurationMs).AppendValue((int?)span.StatusCode)
                .AppendValue(span.StatusMessage).AppendValue(span.AttributesJson).AppendValue(span.EventsJson)
                .EndRow();
        }
    }

    /// <summary>
    /// Creates or extends the runs the logs belong to (In Progress until their run span comes) and returns the runs
    /// to reconcile: those that hold both korelogger logs and stdout lines and got either now, with their log window.
    /// A run whose known window and flags already cover these logs is not written at all; one the writer has not
    /// seen is appended as new unless <paramref name="mergeByKey"/>; one it knows that changes is upserted.
    /// </summary>
    private List<(string RunId, DateTime Start, DateTime End)> TrackRunsOfLogs(Dictionary<string, RunTouch> touches, bool mergeByKey)
    {
        var reconcile = new List<(string, DateTime, DateTime)>();
        var created = new List<(string RunId, RunTouch Touch, RunState State)>();
        var changed = new List<(string RunId, RunTouch Touch)>();
        foreach (var (runId, t) in touches)
        {
            var isKnown = _known.TryGet(runId, out var known);
            if (isKnown && known.Absorbs(t.First, t.Last, t.HasStdout, t.HasKorelogger, t.DeploymentId, t.DeploymentVersion, t.Source, t.SourceType))
            {
                if (known.HasBoth && (t.HasStdout || t.HasKorelogger))
                {
                    reconcile.Add((runId, known.WindowStart, known.WindowEnd));
                }
            }
            else if (isKnown || mergeByKey)
            {
                changed.Add((runId, t));
            }
            else
            {
                var (start, end) = KnownRuns.WindowAround(t.First, t.Last);
                created.Add((runId, t, new RunState(start, end, t.HasStdout, t.HasKorelogger, t.First,
                    t.DeploymentId is not null, t.DeploymentVersion is not null, t.Source is not null, t.SourceType is not null)));
            }
        }

        var now = DateTime.UtcNow;
        if (created.Count > 0)
        {
            using var appender = _connection.CreateAppender("runs");
            foreach (var (runId, t, state) in created)
            {
                appender.CreateRow()
                    .AppendValue(runId).AppendValue(t.Script).AppendValue("In Progress").AppendValue(t.DeploymentId)
                    .AppendValue(t.DeploymentVersion).AppendNullValue().AppendNullValue().AppendNullValue()
                    .AppendValue(t.First).AppendNullValue().AppendValue(t.SourceType).AppendValue(t.Source)
                    .AppendNullValue().AppendNullValue().AppendNullValue().AppendNullValue().AppendNullValue()
                    .AppendNullValue().AppendNullValue().AppendValue(state.WindowStart).AppendValue(state.WindowEnd)
                    .AppendValue((bool?)t.HasStdout).AppendValue((bool?)t.HasKorelogger).AppendValue(now)
                    .EndRow();
                _known.Stage(runId, state);
                if (state.HasBoth)
                {
                    reconcile.Add((runId, state.WindowStart, state.WindowEnd));
                }
            }
        }

        if (changed.Count > 0)
        {
            using (var appender = _connection.CreateAppender("temp", null, "stage_log_runs"))
            {
                foreach (var (runId, t) in changed)
                {
                    var (start, end) = KnownRuns.WindowAround(t.First, t.Last);
                    appender.CreateRow()
                        .AppendValue(runId).AppendValue(t.Script).AppendValue(t.DeploymentId).AppendValue(t.DeploymentVersion)
                        .AppendValue(t.Source).AppendValue(t.SourceType).AppendValue(t.First).AppendValue(start).AppendValue(end)
                        .AppendValue((bool?)t.HasStdout).AppendValue((bool?)t.HasKorelogger)
                        .EndRow();
                }
            }

            foreach (var (runId, merged) in UpsertReturningStates(UpsertRunsFromLogsSql, now))
            {
                var touch = touches[runId];
                if (merged.HasBoth && (touch.HasStdout || touch.HasKorelogger))
                {
                    reconcile.Add((runId, merged.WindowStart, merged.WindowEnd));
                }
            }

            Execute(ClearStagedLogRuns);
        }

        return reconcile;
    }

    /// <summary>Runs an upsert of runs that returns their stored state, and remembers each state.</summary>
    private List<(string RunId, RunState State)> UpsertReturningStates(string sql, DateTime now)
    {
        var states = new List<(string, RunState)>();
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.Add(new DuckDBParameter("now", now));
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var runId = reader.GetString(0);
            var state = new RunState(
                reader.IsDBNull(1) ? DateTime.MaxValue : reader.GetDateTime(1),
                reader.IsDBNull(2) ? DateTime.MinValue : reader.GetDateTime(2),
                reader.GetBoolean(3),
                reader.GetBoolean(4),
                reader.IsDBNull(5) ? null : reader.GetDateTime(5),
                reader.GetBoolean(6),
                reader.GetBoolean(7),
                reader.GetBoolean(8),
                reader.GetBoolean(9));
            _known.Stage(runId, state);
            states.Add((runId, state));
        }

        return states;
    }

    /// <summary>Completes runs from their run spans, and learns the stored state of each.</summary>
    private void UpsertRunsFromRunSpans()
    {
        UpsertReturningStates(UpsertRunsFromRunSpansSql, DateTime.UtcNow);
        Execute(ClearStagedRuns);
    }

    /// <summary>
    /// korelogger prints each log on stdout too. Per run, level and message, the first K stdout lines are marked
    /// as mirrors, K being the number of korelogger logs with that level and message (a multiset match), so
    /// the two arrive in any order and are stored once. Stdout lines beyond K stay visible.
    /// </summary>
    private void ReconcileMirrors(List<(string RunId, DateTime Start, DateTime End)> runs)
    {
        if (runs.Count == 0)
        {
            return;
        }

        using (var appender = _connection.CreateAppender("temp", null, "stage_reconcile"))
        {
            foreach (var run in runs)
            {
                appender.CreateRow().AppendValue(run.RunId).EndRow();
            }
        }

        using var command = _connection.CreateCommand();
        command.CommandText = ReconcileMirrorsSql;
        command.Parameters.Add(new DuckDBParameter("lo", runs.Min(r => r.Start)));
        command.Parameters.Add(new DuckDBParameter("hi", runs.Max(r => r.End)));
        command.ExecuteNonQuery();
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string OriginName(LogOrigin origin) => origin switch
    {
        LogOrigin.Korelogger => "korelogger",
        LogOrigin.Stdout => "stdout",
        LogOrigin.Stderr => "stderr",
        _ => origin.ToString().ToLower(CultureInfo.InvariantCulture),
    };

    private sealed class Batch
    {
        public List<LogRow> Logs { get; } = [];

        public Dictionary<string, RunTouch> RunsOfLogs { get; } = [];

        public List<(RunRow Run, int? Version)> Runs { get; } = [];

        public List<SpanRow> Spans { get; } = [];
    }

    /// <summary>What one group's logs say about their run: the first values sent, and the bounds of their times.</summary>
    private sealed class RunTouch(RunLogSummary first, int? version)
    {
        public string Script { get; } = first.Run.Script;
        public string? DeploymentId { get; private set; } = first.Run.DeploymentId;
        public int? DeploymentVersion { get; private set; } = version;
        public string? Source { get; private set; } = first.Run.Source;
        public string? SourceType { get; private set; } = first.Run.SourceType;
        public DateTime First { get; private set; } = first.First;
        public DateTime Last { get; private set; } = first.Last;
        public bool HasStdout { get; private set; } = first.HasStdout;
        public bool HasKorelogger { get; private set; } = first.HasKorelogger;

        public void Add(RunLogSummary summary, int? version)
        {
            DeploymentId ??= summary.Run.DeploymentId;
            DeploymentVersion ??= version;
            Source ??= summary.Run.Source;
            SourceType ??= summary.Run.SourceType;
            First = summary.First < First ? summary.First : First;
            Last = summary.Last > Last ? summary.Last : Last;
            HasStdout |= summary.HasStdout;
            HasKorelogger |= summary.HasKorelogger;
        }
    }

    private const string StagingTables = """
        CREATE TEMP TABLE IF NOT EXISTS stage_logs AS SELECT * FROM log_lines LIMIT 0;
        CREATE TEMP TABLE IF NOT EXISTS stage_log_runs (
            run_id VARCHAR, script VARCHAR, deployment_id VARCHAR, deployment_version INTEGER, source VARCHAR,
            source_type VARCHAR, first_log_at TIMESTAMP, log_window_start TIMESTAMP, log_window_end TIMESTAMP,
            has_stdout BOOLEAN, has_korelogger BOOLEAN);
        CREATE TEMP TABLE IF NOT EXISTS stage_runs (
            run_id VARCHAR, script VARCHAR, status VARCHAR, deployment_id VARCHAR, deployment_version INTEGER,
            duration_ms DOUBLE, function VARCHAR, executed_on TIMESTAMP, ended_on TIMESTAMP, source_type VARCHAR,
            source VARCHAR, error VARCHAR, input VARCHAR, output VARCHAR, trace_id VARCHAR, span_id VARCHAR,
            attributes VARCHAR, resource VARCHAR);
        CREATE TEMP TABLE IF NOT EXISTS stage_spans (
            trace_id VARCHAR, span_id VARCHAR, parent_span_id VARCHAR, run_id VARCHAR, script VARCHAR, name VARCHAR,
            kind INTEGER, start_time TIMESTAMP, end_time TIMESTAMP, duration_ms DOUBLE, status_code INTEGER,
            status_message VARCHAR, attributes VARCHAR, events VARCHAR);
        CREATE TEMP TABLE IF NOT EXISTS stage_reconcile (run_id VARCHAR);
        """;

    // A late log never reverts a completed run: only In Progress runs move their start earlier.
    private const string UpsertRunsFromLogsSql = $"""
        INSERT INTO runs (run_id, script, status, deployment_id, deployment_version, executed_on, source_type, source,
                          log_window_start, log_window_end, has_stdout, has_korelogger, updated_at)
        SELECT run_id, script, 'In Progress', deployment_id, deployment_version, first_log_at, source_type, source,
               log_window_start, log_window_end, has_stdout, has_korelogger, $now
        FROM stage_log_runs
        ON CONFLICT (run_id) DO UPDATE SET
            executed_on = CASE WHEN runs.status = 'In Progress' THEN LEAST(runs.executed_on, excluded.executed_on) ELSE runs.executed_on END,
            deployment_id = COALESCE(runs.deployment_id, excluded.deployment_id),
            deployment_version = COALESCE(runs.deployment_version, excluded.deployment_version),
            source_type = COALESCE(runs.source_type, excluded.source_type),
            source = COALESCE(runs.source, excluded.source),
            log_window_start = LEAST(runs.log_window_start, excluded.log_window_start),
            log_window_end = GREATEST(runs.log_window_end, excluded.log_window_end),
            has_stdout = runs.has_stdout OR excluded.has_stdout,
            has_korelogger = runs.has_korelogger OR excluded.has_korelogger,
            updated_at = excluded.updated_at
        RETURNING {ReturnRunState};
        """;

    // What the writer remembers of a run after writing it (see KnownRuns).
    private const string ReturnRunState = """
        run_id, log_window_start, log_window_end, has_stdout, has_korelogger,
        CASE WHEN status = 'In Progress' THEN executed_on END, deployment_id IS NOT NULL,
        deployment_version IS NOT NULL, source IS NOT NULL, source_type IS NOT NULL
        """;

    // Each staging table is emptied in the transaction that used it.
    private const string ClearStagedLogRuns = "DELETE FROM stage_log_runs;";
    private const string ClearStagedRuns = "DELETE FROM stage_runs;";

    // The run span completes the run, whatever logs said before. Response time stays empty unless it succeeded.
    private const string UpsertRunsFromRunSpansSql = $"""
        INSERT INTO runs (run_id, script, status, deployment_id, deployment_version, response_time_ms, duration_ms,
                          function, executed_on, ended_on, source_type, source, error, input, output, trace_id, span_id,
                          attributes, resource, updated_at)
        SELECT run_id, script, status, deployment_id, deployment_version,
               CASE WHEN status = 'Success' THEN duration_ms END, duration_ms, function, executed_on,
               ended_on, source_type, source, error, input, output, trace_id, span_id,
               attributes::JSON, resource::JSON, $now
        FROM stage_runs
        QUALIFY row_number() OVER (PARTITION BY run_id ORDER BY ended_on DESC) = 1
        ON CONFLICT (run_id) DO UPDATE SET
            script = excluded.script, status = excluded.status,
            deployment_id = COALESCE(excluded.deployment_id, runs.deployment_id),
            deployment_version = COALESCE(excluded.deployment_version, runs.deployment_version),
            response_time_ms = excluded.response_time_ms, duration_ms = excluded.duration_ms,
            function = excluded.function, executed_on = excluded.executed_on, ended_on = excluded.ended_on,
            source_type = COALESCE(excluded.source_type, runs.source_type),
            source = COALESCE(excluded.source, runs.source),
            error = excluded.error, input = excluded.input, output = excluded.output,
            trace_id = excluded.trace_id, span_id = excluded.span_id,
            attributes = excluded.attributes, resource = excluded.resource, updated_at = excluded.updated_at
        RETURNING {ReturnRunState};
        """;

    // Keyed by log id: a line seen before (a retried export) is ignored.
    private const string InsertLogLinesByKey = "INSERT OR IGNORE INTO log_lines SELECT * FROM stage_logs; DELETE FROM stage_logs;";

    private const string ReconcileMirrorsSql = """
        UPDATE log_lines SET mirrored = m.mirrored
        FROM (
            WITH scope AS (
                SELECT l.log_id, l.run_id, l.level, l.message, l.origin, l.timestamp, l.seq
                FROM log_lines l
                WHERE l.timestamp BETWEEN $lo AND $hi
                  AND l.origin IN ('korelogger', 'stdout')
                  AND l.run_id IN (SELECT run_id FROM stage_reconcile)
            ),
            korelogger AS (
                SELECT run_id, level, message, count(*) AS n FROM scope WHERE origin = 'korelogger' GROUP BY ALL
            )
            SELECT s.log_id,
                   row_number() OVER (PARTITION BY s.run_id, s.level, s.message ORDER BY s.timestamp, s.seq, s.log_id)
                     <= COALESCE(k.n, 0) AS mirrored
            FROM scope s LEFT JOIN korelogger k USING (run_id, level, message)
            WHERE s.origin = 'stdout'
        ) m
        WHERE log_lines.log_id = m.log_id
          AND log_lines.timestamp BETWEEN $lo AND $hi
          AND log_lines.mirrored <> m.mirrored;
        DELETE FROM stage_reconcile;
        """;

    private const string InsertSpans = """
        INSERT OR IGNORE INTO spans
        SELECT trace_id, span_id, parent_span_id, run_id, script, name, kind, start_time, end_time, duration_ms,
               status_code, status_message, attributes::JSON, events::JSON
        FROM stage_spans;
        DELETE FROM stage_spans;
        """;
}
