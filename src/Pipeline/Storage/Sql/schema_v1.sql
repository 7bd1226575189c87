-- Version 1: the first layout, with table-wide primary keys (kept so that an old file upgrades step by step).
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
    status             VARCHAR   NOT NULL,
    deployment_id      VARCHAR,
    deployment_version INTEGER,
    response_time_ms   DOUBLE,
    duration_ms        DOUBLE,
    function           VARCHAR,
    executed_on        TIMESTAMP NOT NULL,
    ended_on           TIMESTAMP,
    source_type        VARCHAR,
    source             VARCHAR,
    error              VARCHAR,
    input              VARCHAR,
    output             VARCHAR,
    trace_id           VARCHAR,
    span_id            VARCHAR,
    attributes         JSON,
    resource           JSON,
    log_window_start   TIMESTAMP,
    log_window_end     TIMESTAMP,
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
    seq           INTEGER   NOT NULL,
    origin        VARCHAR   NOT NULL,
    mirrored      BOOLEAN   NOT NULL,
    deployment_id VARCHAR,
    source        VARCHAR,
    source_type   VARCHAR,
    pid           VARCHAR,
    trace_id      VARCHAR,
    span_id       VARCHAR,
    attributes    JSON
);

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
