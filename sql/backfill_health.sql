-- One row per live (connection, dataset). health_status is the first that applies:
-- STUCK, FAILED, IN_PROGRESS, HEALTHY, NO_BACKFILLS. is_stale is reported beside it.
-- severity_rank orders datasets worst first on the scale connection_health uses (6 STUCK, 5 FAILED,
-- 4 stale, 2 IN_PROGRESS, 1 HEALTHY, 0 NO_BACKFILLS): the one place that order is written down.
WITH backfill_counts AS (
    SELECT
        connection_id,
        data_set_id,
        COUNT(*) AS backfills_total,
        CAST(SUM(CASE WHEN status = 'COMPLETED' THEN 1 ELSE 0 END) AS BIGINT) AS completed,
        CAST(SUM(CASE WHEN status = 'FAILED' THEN 1 ELSE 0 END) AS BIGINT) AS failed,
        CAST(SUM(CASE WHEN status = 'IN_PROGRESS' THEN 1 ELSE 0 END) AS BIGINT) AS in_progress,
        CAST(SUM(CASE WHEN status = 'IN_QUEUE' THEN 1 ELSE 0 END) AS BIGINT) AS in_queue,
        CAST(SUM(CASE WHEN is_stuck THEN 1 ELSE 0 END) AS BIGINT) AS stuck,
        MAX(created_date) AS last_created_at,
        MAX(CASE WHEN status = 'COMPLETED' THEN created_date END) AS last_completed_at,
        MAX(CASE WHEN status = 'FAILED' THEN created_date END) AS last_failed_at,
        MIN(CASE WHEN is_open THEN created_date END) AS oldest_open_created_at,
        -- rounding keeps order, so the largest rounded age is the oldest one's
        MAX(CASE WHEN is_open THEN age_hours END) AS oldest_open_age_hours
    FROM backfill_ages
    GROUP BY connection_id, data_set_id
),
live_datasets AS (
    SELECT
        d.org_id,
        d.connection_id,
        c.name AS connection_name,
        d.data_set_id,
        d.name AS data_set_name,
        d.type AS data_set_type,
        COALESCE(d.streaming, FALSE) AS streaming,
        d.last_ingested_time,
        -- cut to microseconds so DuckDB (double) and Postgres (numeric) agree to the bit
        CAST(
            CAST(EXTRACT(EPOCH FROM ref.as_of) - EXTRACT(EPOCH FROM d.last_ingested_time) AS NUMERIC(18, 6))
            AS DOUBLE PRECISION
        ) AS seconds_since_ingestion,
        ref.stale_after_hours,
        ref.as_of
    FROM datasets AS d
    JOIN connections AS c ON c.id = d.connection_id
    JOIN health_reference AS ref ON ref.org_id = d.org_id
    -- deleted in source: kept in the tables, left out of health
    WHERE d.deleted_in_source_at IS NULL AND c.deleted_in_source_at IS NULL
),
datasets_counted AS (
    SELECT
        l.org_id,
        l.connection_id,
        l.connection_name,
        l.data_set_id,
        l.data_set_name,
        l.data_set_type,
        l.streaming,
        l.last_ingested_time,
        CASE
            WHEN l.streaming
                AND (l.last_ingested_time IS NULL OR l.seconds_since_ingestion > l.stale_after_hours * 3600)
            THEN TRUE ELSE FALSE
        END AS is_stale,
        COALESCE(n.backfills_total, 0) AS backfills_total,
        COALESCE(n.completed, 0) AS completed_count,
        COALESCE(n.failed, 0) AS failed_count,
        COALESCE(n.in_progress, 0) AS in_progress_count,
        COALESCE(n.in_queue, 0) AS in_queue_count,
        COALESCE(n.stuck, 0) AS stuck_count,
        n.last_created_at,
        n.last_completed_at,
        n.last_failed_at,
        n.oldest_open_created_at,
        n.oldest_open_age_hours,
        l.seconds_since_ingestion,
        l.as_of
    FROM live_datasets AS l
    LEFT JOIN backfill_counts AS n ON n.connection_id = l.connection_id AND n.data_set_id = l.data_set_id
),
datasets_judged AS (
    SELECT
        *,
        CASE
            WHEN stuck_count > 0 THEN 'STUCK'
            -- backfills carry no finish time: the latest created finished one decides; ties count as failed
            WHEN last_failed_at IS NOT NULL AND (last_completed_at IS NULL OR last_failed_at >= last_completed_at)
                THEN 'FAILED'
            WHEN in_progress_count + in_queue_count > 0 THEN 'IN_PROGRESS'
            WHEN last_completed_at IS NOT NULL THEN 'HEALTHY'
            ELSE 'NO_BACKFILLS'
        END AS health_status
    FROM datasets_counted
)
SELECT
    org_id,
    connection_id,
    connection_name,
    data_set_id,
    data_set_name,
    data_set_type,
    streaming,
    last_ingested_time,
    is_stale,
    backfills_total,
    completed_count,
    failed_count,
    in_progress_count,
    in_queue_count,
    stuck_count,
    last_created_at,
    last_completed_at,
    last_failed_at,
    oldest_open_created_at,
    oldest_open_age_hours,
    health_status,
    CASE health_status
        WHEN 'STUCK' THEN 4
        WHEN 'FAILED' THEN 3
        WHEN 'IN_PROGRESS' THEN 2
        WHEN 'HEALTHY' THEN 1
        ELSE 0
    END AS severity,
    as_of,
    CASE
        WHEN health_status = 'STUCK' THEN 6
        WHEN health_status = 'FAILED' THEN 5
        WHEN is_stale THEN 4
        WHEN health_status = 'IN_PROGRESS' THEN 2
        WHEN health_status = 'HEALTHY' THEN 1
        ELSE 0
    END AS severity_rank,
    seconds_since_ingestion,
    CAST(ROUND(CAST(seconds_since_ingestion / 3600.0 AS NUMERIC(18, 3)), 2) AS DOUBLE PRECISION)
        AS hours_since_ingestion
FROM datasets_judged
