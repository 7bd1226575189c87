-- One retention step: the runs that started before $cutoff, with every log line and span of theirs, and every line
-- and span stamped before $cutoff. $cutoff and $until are literals (row groups are pruned by their min/max); $until is
-- the latest log or end time of a deleted run, so lines of a run that straddles the cutoff go with it.
CREATE OR REPLACE TEMP TABLE doomed AS
    SELECT script, run_id FROM runs WHERE executed_on < $cutoff;
DELETE FROM log_lines WHERE timestamp < $cutoff;
DELETE FROM log_lines USING doomed d
WHERE log_lines.timestamp >= $cutoff AND log_lines.timestamp <= $until
  AND log_lines.script = d.script AND log_lines.run_id = d.run_id;
DELETE FROM spans WHERE start_time < $cutoff;
DELETE FROM spans USING doomed d
WHERE spans.start_time >= $cutoff AND spans.start_time <= $until
  AND spans.script = d.script AND spans.run_id = d.run_id;
DELETE FROM runs WHERE executed_on < $cutoff;
DROP TABLE doomed;
