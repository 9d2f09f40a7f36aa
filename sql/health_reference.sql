-- The clock of every health view: the finish time of the latest successful sync of each org, so the
-- same warehouse contents always give the same answer, whenever they are queried; and that org's
-- thresholds (health_settings has one row per org). New columns go at the end: Postgres replaces a
-- view in place only when its existing columns keep their names, types and order.
SELECT
    r.org_id,
    MAX(r.finished_at) AS as_of,
    MAX(s.stuck_after_hours) AS stuck_after_hours,
    MAX(s.stale_after_hours) AS stale_after_hours,
    MAX(s.volume_drop_pct) AS volume_drop_pct,
    MAX(s.volume_baseline_days) AS volume_baseline_days,
    MAX(s.volume_min_points) AS volume_min_points
FROM sync_runs AS r
JOIN health_settings AS s ON s.org_id = r.org_id
WHERE r.status = 'succeeded' AND r.finished_at IS NOT NULL
GROUP BY r.org_id
