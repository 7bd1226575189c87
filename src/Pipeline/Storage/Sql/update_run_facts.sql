-- What later logs add to a completed run: the window of its log times, the kinds of lines, and the fields that
-- logs may fill in when the run span left them empty. Found by the executed_on the writer remembers for each run.
UPDATE runs SET
    log_window_start   = f.log_window_start,
    log_window_end     = f.log_window_end,
    has_stdout         = f.has_stdout,
    has_korelogger     = f.has_korelogger,
    deployment_id      = COALESCE(runs.deployment_id, f.deployment_id),
    deployment_version = COALESCE(runs.deployment_version, f.deployment_version),
    source             = COALESCE(runs.source, f.source),
    source_type        = COALESCE(runs.source_type, f.source_type),
    updated_at         = $now
FROM stage_run_facts f
WHERE runs.executed_on BETWEEN $lo AND $hi
  AND runs.script = f.script AND runs.run_id = f.run_id AND runs.executed_on = f.executed_on;
