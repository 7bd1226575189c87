-- Connection-local tables the writer fills with an Appender and joins against, emptied in the transaction that used them.
CREATE TEMP TABLE IF NOT EXISTS stage_run_rows (script VARCHAR, run_id VARCHAR, executed_on TIMESTAMP);
CREATE TEMP TABLE IF NOT EXISTS stage_run_facts (
    script VARCHAR, run_id VARCHAR, executed_on TIMESTAMP, deployment_id VARCHAR, deployment_version INTEGER,
    source VARCHAR, source_type VARCHAR, log_window_start TIMESTAMP, log_window_end TIMESTAMP,
    has_stdout BOOLEAN, has_korelogger BOOLEAN);
CREATE TEMP TABLE IF NOT EXISTS stage_reconcile (script VARCHAR, run_id VARCHAR);
