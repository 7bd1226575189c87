using System.Globalization;
using DuckDB.NET.Data;
using Pipeline.Parsing;

namespace Pipeline.Storage;

/// <summary>
/// The one place that writes to DuckDB. Each call is one transaction: rows go into connection-local staging
/// tables through Appenders, then set-based SQL merges them into runs, log_lines, spans and deployments.
/// Merging by key is what makes a retried export land once, and what lets records arrive in any order.
/// </summary>
internal sealed class DuckDbWriter : IDisposable
{
    private readonly DuckDBConnection _connection;

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
    }

    /// <summary>Stores the rows in one transaction; throws (and stores none of them) if DuckDB fails.</summary>
    public void Write(IReadOnlyList<IngestRow> rows)
    {
        using var transaction = _connection.BeginTransaction();
        var (logs, runs, spans) = Stage(rows);
        if (logs + runs > 0)
        {
            Execute(MergeDeployments);
        }

        if (logs > 0)
        {
            var runsWithBoth = UpsertRunsFromLogs();
            Execute(InsertLogLines);
            ReconcileMirrors(runsWithBoth);
        }

        if (runs > 0)
        {
            Execute(UpsertRunsFromRunSpans);
        }

        if (spans > 0)
        {
            Execute(InsertSpans);
        }

        Execute("DELETE FROM stage_logs; DELETE FROM stage_runs; DELETE FROM stage_spans; DELETE FROM stage_reconcile;");
        transaction.Commit();
    }

    public void Dispose() => _connection.Dispose();

    private (int Logs, int Runs, int Spans) Stage(IReadOnlyList<IngestRow> rows)
    {
        int logs = 0, runs = 0, spans = 0;
        using (var logAppender = _connection.CreateAppender("temp", "main", "stage_logs"))
        using (var runAppender = _connection.CreateAppender("temp", "main", "stage_runs"))
        using (var spanAppender = _connection.CreateAppender("temp", "main", "stage_spans"))
        {
            // Every value is passed with its C# type: DuckDB.NET binds an integer literal to its byte overload.
            foreach (var row in rows)
            {
                switch (row)
                {
                    case LogRow log:
                        logs++;
                        logAppender.CreateRow()
                            .AppendValue(log.LogId).AppendValue(log.Run.RunId).AppendValue(log.Run.Script)
                            .AppendValue(log.Level).AppendValue(log.Message).AppendValue(log.Timestamp)
                            .AppendValue((int?)log.Seq).AppendValue(OriginName(log.Origin))
                            .AppendValue(log.Run.DeploymentId).AppendValue(log.Run.DeploymentVersion)
                            .AppendValue(log.Run.Source).AppendValue(log.Run.SourceType).AppendValue(log.Pid)
                            .AppendValue(log.TraceId).AppendValue(log.SpanId).AppendValue(log.AttributesJson)
                            .EndRow();
                        break;
                    case RunRow run:
                        runs++;
                        runAppender.CreateRow()
                            .AppendValue(run.Run.RunId).AppendValue(run.Run.Script)
                            .AppendValue(run.Status == RunStatus.Failed ? "Failed" : "Success")
                            .AppendValue(run.Run.DeploymentId).AppendValue(run.Run.DeploymentVersion)
                            .AppendValue((double?)run.DurationMs).AppendValue(run.Function)
                            .AppendValue(run.ExecutedOn).AppendValue(run.EndedOn)
                            .AppendValue(run.Run.SourceType).AppendValue(run.Run.Source).AppendValue(run.Error)
                            .AppendValue(run.Input).AppendValue(run.Output).AppendValue(run.TraceId).AppendValue(run.SpanId)
                            .AppendValue(run.AttributesJson).AppendValue(run.ResourceJson)
                            .EndRow();
                        break;
                    case SpanRow span:
                        spans++;
                        spanAppender.CreateRow()
                            .AppendValue(span.TraceId).AppendValue(span.SpanId).AppendValue(span.ParentSpanId)
                            .AppendValue(span.Run.RunId).AppendValue(span.Run.Script).AppendValue(span.Name)
                            .AppendValue((int?)span.Kind).AppendValue(span.Start).AppendValue(span.End)
                            .AppendValue((double?)span.DurationMs).AppendValue((int?)span.StatusCode)
                            .AppendValue(span.StatusMessage).AppendValue(span.AttributesJson).AppendValue(span.EventsJson)
                            .EndRow();
                        break;
                    default:
                        throw new InvalidOperationException($"No table for row type {row.GetType().Name}.");
                }
            }
        }

        return (logs, runs, spans);
    }

    /// <summary>
    /// Creates or extends the runs the logs belong to (In Progress until their run span comes) and returns
    /// those that now hold both korelogger logs and stdout lines, with the time bounds of their logs.
    /// </summary>
    private List<(string RunId, DateTime First, DateTime Last)> UpsertRunsFromLogs()
    {
        var both = new List<(string, DateTime, DateTime)>();
        using var command = _connection.CreateCommand();
        command.CommandText = UpsertRunsFromLogsSql;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            if (reader.GetBoolean(1))
            {
                both.Add((reader.GetString(0), reader.GetDateTime(2), reader.GetDateTime(3)));
            }
        }

        return both;
    }

    /// <summary>
    /// korelogger prints each log on stdout too. Per run, level and message, the first K stdout lines are marked
    /// as mirrors, K being the number of korelogger logs with that level and message (a multiset match), so
    /// the two arrive in any order and are stored once. Stdout lines beyond K stay visible.
    /// </summary>
    private void ReconcileMirrors(List<(string RunId, DateTime First, DateTime Last)> runs)
    {
        if (runs.Count == 0)
        {
            return;
        }

        using (var appender = _connection.CreateAppender("temp", "main", "stage_reconcile"))
        {
            foreach (var run in runs)
            {
                appender.CreateRow().AppendValue(run.RunId).EndRow();
            }
        }

        using var command = _connection.CreateCommand();
        command.CommandText = ReconcileMirrorsSql;
        command.Parameters.Add(new DuckDBParameter("lo", runs.Min(r => r.First)));
        command.Parameters.Add(new DuckDBParameter("hi", runs.Max(r => r.Last)));
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

    private const string StagingTables = """
        CREATE TEMP TABLE IF NOT EXISTS stage_logs (
            log_id VARCHAR, run_id VARCHAR, script VARCHAR, level VARCHAR, message VARCHAR, timestamp TIMESTAMP,
            seq INTEGER, origin VARCHAR, deployment_id VARCHAR, deployment_version INTEGER, source VARCHAR,
            source_type VARCHAR, pid VARCHAR, trace_id VARCHAR, span_id VARCHAR, attributes VARCHAR);
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

    // Deployment versions: an integer deployment.version is taken as sent; other deployment ids are numbered
    // per script 1, 2, 3... in the order they are first seen.
    private const string MergeDeployments = """
        CREATE OR REPLACE TEMP TABLE stage_deployments AS
            SELECT script, deployment_id, min(ts) AS first_seen, max(deployment_version) AS explicit_version
            FROM (SELECT script, deployment_id, executed_on AS ts, deployment_version FROM stage_runs
                  UNION ALL
                  SELECT script, deployment_id, timestamp, deployment_version FROM stage_logs) s
            WHERE deployment_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM deployments d WHERE d.script = s.script AND d.deployment_id = s.deployment_id)
            GROUP BY script, deployment_id;

        INSERT INTO deployments
            SELECT script, deployment_id, explicit_version, first_seen
            FROM stage_deployments WHERE explicit_version IS NOT NULL;

        INSERT INTO deployments
            SELECT n.script, n.deployment_id,
                   COALESCE((SELECT max(d.version) FROM deployments d WHERE d.script = n.script), 0)
                     + row_number() OVER (PARTITION BY n.script ORDER BY n.first_seen, n.deployment_id),
                   n.first_seen
            FROM stage_deployments n WHERE n.explicit_version IS NULL;
        """;

    // A late log never reverts a completed run: only In Progress runs move their start earlier.
    private const string UpsertRunsFromLogsSql = """
        INSERT INTO runs (run_id, script, status, deployment_id, deployment_version, executed_on, source_type, source,
                          first_log_at, last_log_at, has_stdout, has_korelogger, updated_at)
        SELECT s.run_id, any_value(s.script), 'In Progress', any_value(s.deployment_id),
               COALESCE(max(s.deployment_version), max(d.version)), min(s.timestamp),
               any_value(s.source_type), any_value(s.source), min(s.timestamp), max(s.timestamp),
               bool_or(s.origin = 'stdout'), bool_or(s.origin = 'korelogger'), now()::TIMESTAMP
        FROM stage_logs s
        LEFT JOIN deployments d ON d.script = s.script AND d.deployment_id = s.deployment_id
        GROUP BY s.run_id
        ON CONFLICT (run_id) DO UPDATE SET
            executed_on = CASE WHEN runs.status = 'In Progress' THEN LEAST(runs.executed_on, excluded.executed_on) ELSE runs.executed_on END,
            deployment_id = COALESCE(runs.deployment_id, excluded.deployment_id),
            deployment_version = COALESCE(runs.deployment_version, excluded.deployment_version),
            source_type = COALESCE(runs.source_type, excluded.source_type),
            source = COALESCE(runs.source, excluded.source),
            first_log_at = LEAST(runs.first_log_at, excluded.first_log_at),
            last_log_at = GREATEST(runs.last_log_at, excluded.last_log_at),
            has_stdout = runs.has_stdout OR excluded.has_stdout,
            has_korelogger = runs.has_korelogger OR excluded.has_korelogger,
            updated_at = excluded.updated_at
        RETURNING run_id, has_stdout AND has_korelogger, first_log_at, last_log_at;
        """;

    // The run span completes the run, whatever logs said before. Response time stays empty unless it succeeded.
    private const string UpsertRunsFromRunSpans = """
        INSERT INTO runs (run_id, script, status, deployment_id, deployment_version, response_time_ms, duration_ms,
                          function, executed_on, ended_on, source_type, source, error, input, output, trace_id, span_id,
                          attributes, resource, updated_at)
        SELECT s.run_id, s.script, s.status, s.deployment_id, COALESCE(s.deployment_version, d.version),
               CASE WHEN s.status = 'Success' THEN s.duration_ms END, s.duration_ms, s.function, s.executed_on,
               s.ended_on, s.source_type, s.source, s.error, s.input, s.output, s.trace_id, s.span_id,
               s.attributes::JSON, s.resource::JSON, now()::TIMESTAMP
        FROM stage_runs s
        LEFT JOIN deployments d ON d.script = s.script AND d.deployment_id = s.deployment_id
        QUALIFY row_number() OVER (PARTITION BY s.run_id ORDER BY s.ended_on DESC) = 1
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
            attributes = excluded.attributes, resource = excluded.resource, updated_at = excluded.updated_at;
        """;

    // Keyed by log id: a line seen before (a retried export) is ignored.
    private const string InsertLogLines = """
        INSERT OR IGNORE INTO log_lines
        SELECT log_id, run_id, script, level, message, timestamp, seq, origin, false, deployment_id, source,
               source_type, pid, trace_id, span_id, attributes::JSON
        FROM stage_logs;
        """;

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
        """;

    private const string InsertSpans = """
        INSERT OR IGNORE INTO spans
        SELECT trace_id, span_id, parent_span_id, run_id, script, name, kind, start_time, end_time, duration_ms,
               status_code, status_message, attributes::JSON, events::JSON
        FROM stage_spans;
        """;
}
