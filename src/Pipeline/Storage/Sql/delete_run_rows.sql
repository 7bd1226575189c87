-- Removes the stored rows of runs that the group writes anew. $lo..$hi bound executed_on (literals, so that DuckDB
-- prunes row groups by their min/max): a few row groups are read, not the table.
DELETE FROM runs USING stage_run_rows s
WHERE runs.executed_on BETWEEN $lo AND $hi
  AND runs.script = s.script AND runs.run_id = s.run_id AND runs.executed_on = s.executed_on;
