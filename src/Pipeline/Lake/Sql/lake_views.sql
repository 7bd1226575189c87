-- The reader views: what a --Mode=lake daemon answers from, and what the DuckDB CLI can run to ask a lake the same
-- questions. Replace {lake} with the lake's folder (an absolute path, no trailing '/'). The views are bound again at
-- every query, so files published since are read as soon as they are renamed to *.parquet (*.parquet.partial files
-- are still being written and never match). Each file holds one node's rows of one table, one script and one time
-- slice. DuckDB takes script and date from the folder names (script=..., date=..., URL-decoded: the publisher escapes
-- the name so that it decodes to the script as stored), and skips the folders a query's script and days rule out.

-- Every published row of each table, as the files hold them: the store's columns, then the lake's own.
CREATE OR REPLACE VIEW run_files AS
SELECT run_id, script, status, deployment_id, deployment_version, response_time_ms, duration_ms, function,
       executed_on, ended_on, source_type, source, error, input, output, trace_id, span_id, attributes, resource,
       log_window_start, log_window_end, has_stdout, has_korelogger, updated_at,
       node, date
FROM read_parquet('{lake}/runs/*/*/*.parquet', hive_partitioning = true, hive_types = {'script': VARCHAR, 'date': DATE});

CREATE OR REPLACE VIEW log_files AS
SELECT log_id, run_id, script, level, message, timestamp, seq, origin, mirrored, deployment_id, source, source_type,
       pid, trace_id, span_id, attributes,
       committed_at, revision, node, date
FROM read_parquet('{lake}/logs/*/*/*.parquet', hive_partitioning = true, hive_types = {'script': VARCHAR, 'date': DATE});

CREATE OR REPLACE VIEW span_files AS
SELECT trace_id, span_id, parent_span_id, run_id, script, name, kind, start_time, end_time, duration_ms, status_code,
       status_message, attributes, events,
       committed_at, node, date
FROM read_parquet('{lake}/spans/*/*/*.parquet', hive_partitioning = true, hive_types = {'script': VARCHAR, 'date': DATE});

-- runs: a run is published again when it changes (In Progress, then Success or Failed), in a later file and perhaps
-- another slice: the row updated last is the run.
CREATE OR REPLACE VIEW runs AS
SELECT * EXCLUDE (date) FROM run_files
QUALIFY row_number() OVER (PARTITION BY script, run_id ORDER BY updated_at DESC, node) = 1;

-- runs_in(lo, hi): the runs that started in [lo, hi) and perhaps a few around them, reading only the day folders
-- near that range. A run's versions lie within a day of each other (its start is first taken from its first log, then
-- from its run span), so the row updated last among them is the run, as in the runs view.
CREATE OR REPLACE MACRO runs_in(lo, hi) AS TABLE
SELECT * EXCLUDE (date) FROM run_files
WHERE date BETWEEN CAST(lo AS DATE) - INTERVAL 1 DAY AND CAST(hi AS DATE) + INTERVAL 1 DAY
QUALIFY row_number() OVER (PARTITION BY script, run_id ORDER BY updated_at DESC, node) = 1;

-- The current rows of log_lines, with their day folder. The later files of a slice carry revision rows, which
-- replace the rows of the same log published before them (a stdout line found to mirror a korelogger log afterwards):
-- a row is current unless a revision of it was committed later. An anti-join against the few revision rows, not a
-- window over every log; a revision lies in its line's own slice, so a bound on the day folders bounds both sides.
CREATE OR REPLACE VIEW log_lines_by_day AS
SELECT * EXCLUDE (committed_at, revision) FROM log_files AS line
WHERE NOT EXISTS (
    SELECT 1 FROM log_files AS later
    WHERE later.revision AND later.date = line.date
      AND later.script = line.script AND later.run_id = line.run_id AND later.log_id = line.log_id
      AND later.committed_at > coalesce(line.committed_at, TIMESTAMP '-infinity'));

-- log_lines, as the store's table: every current row.
CREATE OR REPLACE VIEW log_lines AS
SELECT * EXCLUDE (date) FROM log_lines_by_day;

-- logs, as the store's view: every line but the stdout mirrors of korelogger logs.
CREATE OR REPLACE VIEW logs AS
SELECT log_id, run_id, script, level, message, timestamp, seq, origin, deployment_id, source, source_type, pid,
       trace_id, span_id, attributes,
       node
FROM log_lines_by_day
WHERE NOT mirrored;

-- logs_in(lo, hi): the logs of the days from lo to hi, reading only those day folders.
CREATE OR REPLACE MACRO logs_in(lo, hi) AS TABLE
SELECT log_id, run_id, script, level, message, timestamp, seq, origin, deployment_id, source, source_type, pid,
       trace_id, span_id, attributes,
       node
FROM log_lines_by_day
WHERE date BETWEEN CAST(lo AS DATE) AND CAST(hi AS DATE) AND NOT mirrored;

-- spans: inserted once, never changed; as the store's table, with node.
CREATE OR REPLACE VIEW spans AS
SELECT * EXCLUDE (date) FROM span_files;
