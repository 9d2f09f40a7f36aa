-- The clock of every health view: the finish time of the latest successful sync of each org, so the
-- same warehouse contents always give the same answer, whenever they are queried.
SELECT
    r.org_id,
    MAX(r.finished_at) AS as_of,
    MAX(s.stuck_after_hours) AS stuck_after_hours,
    MAX(s.stale_after_hours) AS stale_after_hours
FROM sync_runs AS r
CROSS JOIN health_settings AS s
WHERE r.status = 'succeeded' AND r.finished_at IS NOT NULL
GROUP BY r.org_id
