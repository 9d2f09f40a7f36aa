-- Per live backfill, how long it queued, ran and took to complete, as lower/upper bounds: the API
-- gives no finish time, so each status change is only known to have happened between the sync that
-- saw it (observed_at) and the last sync that saw the old status (previous_observed_at, or the
-- backfill's createdDate when that is later or unknown). Per connection, the median and 90th
-- percentile of the upper bound of its completed backfills' time to complete; an open backfill
-- older than its connection's p90 (with at least 3 completions measured) has exceeds_p90.
WITH bracketed AS (
    SELECT
        ch.backfill_id,
        ch.to_status,
        ch.observed_at,
        CASE
            WHEN ch.previous_observed_at > a.created_date THEN ch.previous_observed_at
            ELSE a.created_date
        END AS not_before
    FROM backfill_status_changes AS ch
    JOIN backfill_ages AS a ON a.backfill_id = ch.backfill_id
),
left_queue AS (
    SELECT backfill_id, MIN(not_before) AS lo, MIN(observed_at) AS hi
    FROM bracketed
    WHERE to_status <> 'IN_QUEUE'
    GROUP BY backfill_id
),
finished AS (
    SELECT backfill_id, MIN(not_before) AS lo, MIN(observed_at) AS hi
    FROM bracketed
    WHERE to_status IN ('COMPLETED', 'FAILED')
    GROUP BY backfill_id
),
seconds AS (
    SELECT
        a.org_id,
        a.backfill_id,
        a.connection_id,
        a.connection_name,
        a.data_set_id,
        a.data_set_name,
        a.status,
        a.created_date,
        a.is_open,
        a.age_seconds,
        a.as_of,
        EXTRACT(EPOCH FROM q.lo) - EXTRACT(EPOCH FROM a.created_date) AS queued_min,
        EXTRACT(EPOCH FROM q.hi) - EXTRACT(EPOCH FROM a.created_date) AS queued_max,
        CASE WHEN f.lo IS NULL OR q.hi IS NULL THEN NULL WHEN f.lo > q.hi THEN EXTRACT(EPOCH FROM f.lo) - EXTRACT(EPOCH FROM q.hi) ELSE 0 END
            AS running_min,
        EXTRACT(EPOCH FROM f.hi) - EXTRACT(EPOCH FROM q.lo) AS running_max,
        CASE WHEN a.status = 'COMPLETED' THEN EXTRACT(EPOCH FROM f.lo) - EXTRACT(EPOCH FROM a.created_date) END
            AS completed_min,
        CASE WHEN a.status = 'COMPLETED' THEN EXTRACT(EPOCH FROM f.hi) - EXTRACT(EPOCH FROM a.created_date) END
            AS completed_max
    FROM backfill_ages AS a
    LEFT JOIN left_queue AS q ON q.backfill_id = a.backfill_id
    LEFT JOIN finished AS f ON f.backfill_id = a.backfill_id
),
per_connection AS (
    SELECT
        connection_id,
        COUNT(*) AS completed_measured,
        PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY completed_max) AS p50,
        PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY completed_max) AS p90
    FROM seconds
    WHERE completed_max IS NOT NULL
    GROUP BY connection_id
)
SELECT
    s.org_id,
    s.backfill_id,
    s.connection_id,
    s.connection_name,
    s.data_set_id,
    s.data_set_name,
    s.status,
    s.created_date,
    s.is_open,
    CAST(ROUND(CAST(s.age_seconds / 3600.0 AS NUMERIC(18, 3)), 2) AS DOUBLE PRECISION) AS age_hours,
    CAST(ROUND(CAST(s.queued_min / 3600.0 AS NUMERIC(18, 3)), 2) AS DOUBLE PRECISION) AS queued_hours_min,
    CAST(ROUND(CAST(s.queued_max / 3600.0 AS NUMERIC(18, 3)), 2) AS DOUBLE PRECISION) AS queued_hours_max,
    CAST(ROUND(CAST(s.running_min / 3600.0 AS NUMERIC(18, 3)), 2) AS DOUBLE PRECISION) AS running_hours_min,
    CAST(ROUND(CAST(s.running_max / 3600.0 AS NUMERIC(18, 3)), 2) AS DOUBLE PRECISION) AS running_hours_max,
    CAST(ROUND(CAST(s.completed_min / 3600.0 AS NUMERIC(18, 3)), 2) AS DOUBLE PRECISION)
        AS completed_hours_min,
    CAST(ROUND(CAST(s.completed_max / 3600.0 AS NUMERIC(18, 3)), 2) AS DOUBLE PRECISION)
        AS completed_hours_max,
    COALESCE(p.completed_measured, 0) AS connection_completed_measured,
    CAST(ROUND(CAST(p.p50 / 3600.0 AS NUMERIC(18, 3)), 2) AS DOUBLE PRECISION) AS connection_p50_hours,
    CAST(ROUND(CAST(p.p90 / 3600.0 AS NUMERIC(18, 3)), 2) AS DOUBLE PRECISION) AS connection_p90_hours,
    CASE
        WHEN s.is_open AND p.completed_measured >= 3 AND s.age_seconds > p.p90 THEN TRUE ELSE FALSE
    END AS exceeds_p90,
    s.as_of
FROM seconds AS s
LEFT JOIN per_connection AS p ON p.connection_id = s.connection_id
