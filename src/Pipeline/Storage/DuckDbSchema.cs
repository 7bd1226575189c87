using DuckDB.NET.Data;

namespace Pipeline.Storage;

/// <summary>
/// The tables, created and versioned at start. <c>schema_info</c> holds the version; each step upgrades one
/// version, in order, in a transaction. A file written by a newer Pipeline is refused rather than misread.
/// </summary>
internal static class DuckDbSchema
{
    public const int Version = 1;

    private static readonly string[] Steps =
    [
        // Version 1.
        """
        CREATE TABLE deployments (
            script        VARCHAR   NOT NULL,
            deployment_id VARCHAR   NOT NULL,
            version       INTEGER   NOT NULL,
            first_seen    TIMESTAMP NOT NULL,
            PRIMARY KEY (script, deployment_id)
        );

        CREATE TABLE runs (
            run_id             VARCHAR PRIMARY KEY,
            script             VARCHAR   NOT NULL,
            status             VARCHAR   NOT NULL,   -- Success | Failed | In Progress
            deployment_id      VARCHAR,
            deployment_version INTEGER,
            response_time_ms   DOUBLE,               -- empty for Failed and In Progress runs
            duration_ms        DOUBLE,               -- run span end - start, whatever the status
            function           VARCHAR,
            executed_on        TIMESTAMP NOT NULL,
            ended_on           TIMESTAMP,
            source_type        VARCHAR,
            source             VARCHAR,
            error              VARCHAR,
            input              VARCHAR,              -- JSON text, or text as sent when it is not JSON
            output             VARCHAR,
            trace_id           VARCHAR,
            span_id            VARCHAR,
            attributes         JSON,
            resource           JSON,
            log_window_start   TIMESTAMP,            -- a window (10 s steps) holding all the run's log timestamps:
            log_window_end     TIMESTAMP,            -- the writer reads a few row groups of log_lines, not all
            has_stdout         BOOLEAN   NOT NULL DEFAULT false,
            has_korelogger     BOOLEAN   NOT NULL DEFAULT false,
            updated_at         TIMESTAMP NOT NULL
        );

        CREATE TABLE log_lines (
            log_id        VARCHAR PRIMARY KEY,
            run_id        VARCHAR   NOT NULL,
            script        VARCHAR   NOT NULL,
            level         VARCHAR   NOT NULL,
            message       VARCHAR   NOT NULL,
            timestamp     TIMESTAMP NOT NULL,
            seq           INTEGER   NOT NULL,        -- line number within one printed text
            origin        VARCHAR   NOT NULL,        -- korelogger | stdout | stderr
            mirrored      BOOLEAN   NOT NULL,        -- a stdout line repeating a korelogger log of its run
            deployment_id VARCHAR,
            source        VARCHAR,
            source_type   VARCHAR,
            pid           VARCHAR,
            trace_id      VARCHAR,
            span_id       VARCHAR,
            attributes    JSON
        );

        -- What users see as logs: every line but the stdout mirrors of korelogger logs.
        CREATE VIEW logs AS
            SELECT log_id, run_id, script, level, message, timestamp, seq, origin, deployment_id,
                   source, source_type, pid, trace_id, span_id, attributes
            FROM log_lines
            WHERE NOT mirrored;

        CREATE TABLE spans (
            trace_id       VARCHAR   NOT NULL,
            span_id        VARCHAR   NOT NULL,
            parent_span_id VARCHAR,
            run_id         VARCHAR   NOT NULL,
            script         VARCHAR   NOT NULL,
            name           VARCHAR   NOT NULL,
            kind           INTEGER   NOT NULL,
            start_time     TIMESTAMP NOT NULL,
            end_time       TIMESTAMP NOT NULL,
            duration_ms    DOUBLE    NOT NULL,
            status_code    INTEGER   NOT NULL,
            status_message VARCHAR,
            attributes     JSON,
            events         JSON,
            PRIMARY KEY (trace_id, span_id)
        );
        """,
    ];

    /// <summary>Brings the file to <see cref="Version"/>; returns the version it found.</summary>
    public static int Apply(DuckDBConnection connection)
    {
        Execute(connection, "CREATE TABLE IF NOT EXISTS schema_info (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL)");
        using var read = connection.CreateCommand();
        read.CommandText = "SELECT COALESCE(max(version), 0) FROM schema_info";
        var found = Convert.ToInt32(read.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        if (found > Version)
        {
            throw new InvalidOperationException(
                $"The database was written by a newer Pipeline (schema version {found}; this build knows up to {Version}). Refusing to open it.");
        }

        for (var version = found + 1; version <= Version; version++)
        {
            using var transaction = connection.BeginTransaction();
            Execute(connection, Steps[version - 1]);
            using var record = connection.CreateCommand();
            record.CommandText = "INSERT INTO schema_info VALUES ($version, $at)";
            record.Parameters.Add(new DuckDBParameter("version", version));
            record.Parameters.Add(new DuckDBParameter("at", DateTime.UtcNow));
            record.ExecuteNonQuery();
            transaction.Commit();
        }

        return found;
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
