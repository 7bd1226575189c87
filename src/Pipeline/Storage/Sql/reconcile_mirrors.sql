-- korelogger prints each log on stdout too. Per run, level and message, the first K stdout lines are marked as
-- mirrors, K being the number of korelogger logs with that level and message (a multiset match), so the two arrive
-- in any order and are stored once. Stdout lines beyond K stay visible. $lo..$hi bound the runs' log windows; a line
-- that changes takes the commit's time, so the lake publisher sends it again.
UPDATE log_lines SET mirrored = m.mirrored, committed_at = $now
FROM (
    WITH scope AS (
        SELECT l.script, l.run_id, l.log_id, l.level, l.message, l.origin, l.timestamp, l.seq
        FROM log_lines l SEMI JOIN stage_reconcile r ON l.script = r.script AND l.run_id = r.run_id
        WHERE l.timestamp BETWEEN $lo AND $hi
          AND l.origin IN ('korelogger', 'stdout')
    ),
    korelogger AS (
        SELECT script, run_id, level, message, count(*) AS n FROM scope WHERE origin = 'korelogger' GROUP BY ALL
    )
    SELECT s.script, s.run_id, s.log_id, s.timestamp, s.seq,
           row_number() OVER (PARTITION BY s.script, s.run_id, s.level, s.message ORDER BY s.timestamp, s.seq, s.log_id)
             <= COALESCE(k.n, 0) AS mirrored
    FROM scope s LEFT JOIN korelogger k USING (script, run_id, level, message)
    WHERE s.origin = 'stdout'
) m
WHERE log_lines.timestamp BETWEEN $lo AND $hi
  AND log_lines.origin = 'stdout'
  AND log_lines.script = m.script AND log_lines.run_id = m.run_id AND log_lines.log_id = m.log_id
  AND log_lines.timestamp = m.timestamp AND log_lines.seq = m.seq
  AND log_lines.mirrored <> m.mirrored;
