-- Version 2: no table-wide keys. A run is identified by (script, run_id), a log by (script, run_id, log_id), a span
-- by (script, trace_id, span_id); retries are caught by export digests (export_digests, kept for the dedup window),
-- and the writer finds a stored run by the time it remembers for it, which DuckDB's zone maps turn into a read of a
-- few row groups. Rows are appended in arrival order, so each table stays roughly sorted by time: that is what makes
-- those reads, and retention's deletes, cost the same on a small file and a large one.
DROP VIEW logs;

CREATE TABLE runs_v2 (
    run_id             VARCHAR   NOT NULL,
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
    log_window_end     TIMESTAMP,            -- readers and the writer read a few row groups of log_lines, not all
    has_stdout         BOOLEAN   NOT NULL DEFAULT false,
    has_korelogger     BOOLEAN   NOT NULL DEFAULT false,
    updated_at         TIMESTAMP NOT NULL
);
INSERT INTO runs_v2 SELECT * FROM runs;
DROP TABLE runs;
ALTER TABLE runs_v2 RENAME TO runs;

CREATE TABLE log_lines_v2 (
    log_id        VARCHAR   NOT NULL,
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
INSERT INTO log_lines_v2 SELECT * FROM log_lines;
DROP TABLE log_lines;
ALTER TABLE log_lines_v2 RENAME TO log_lines;

-- What users see as logs: every line but the stdout mirrors of korelogger logs.
CREATE VIEW logs AS
    SELECT log_id, run_id, script, level, message, timestamp, seq, origin, deployment_id,
           source, source_type, pid, trace_id, span_id, attributes
    FROM log_lines
    WHERE NOT mirrored;

CREATE TABLE spans_v2 (
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
    events         JSON
);
INSERT INTO spans_v2 SELECT * FROM spans;
DROP TABLE spans;
ALTER TABLE spans_v2 RENAME TO spans;

-- The export digests of the dedup window, written with each commit, read at start.
CREATE TABLE export_digests (
    digest_high  UBIGINT   NOT NULL,
    digest_low   UBIGINT   NOT NULL,
    committed_at TIMESTAMP NOT NULL
);
