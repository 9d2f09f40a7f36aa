-- One row per live (connection, dataset). health_status is the first that applies:
-- STUCK, FAILED, IN_PROGRESS, HEALTHY, NO_BACKFILLS.
WITH bf AS (
    SELECT
        b.connection_id,
        b.data_set_id,
        b.status,
        b.created_date,
        ref.stuck_after_hours,
        EXTRACT(EPOCH FROM ref.as_of) - EXTRACT(EPOCH FROM b.created_date) AS age_seconds
    FROM backfills AS b
    JOIN health_reference AS ref ON ref.org_id = b.org_id
),
agg AS (
    SELECT
        connection_id,
        data_set_id,
        COUNT(*) AS backfills_total,
        CAST(SUM(CASE WHEN status = 'COMPLETED' THEN 1 ELSE 0 END) AS BIGINT) AS completed,
        CAST(SUM(CASE WHEN status = 'FAILED' THEN 1 ELSE 0 END) AS BIGINT) AS failed,
        CAST(SUM(CASE WHEN status = 'IN_PROGRESS' THEN 1 ELSE 0 END) AS BIGINT) AS in_progress,
        CAST(SUM(CASE WHEN status = 'IN_QUEUE' THEN 1 ELSE 0 END) AS BIGINT) AS in_queue,
        CAST(
            SUM(
                CASE
                    WHEN status IN ('IN_PROGRESS', 'IN_QUEUE') AND age_seconds > stuck_after_hours * 3600
                    THEN 1 ELSE 0
                END
            ) AS BIGINT
        ) AS stuck,
        MAX(created_date) AS last_created_at,
        MAX(CASE WHEN status = 'COMPLETED' THEN created_date END) AS last_completed_at,
        MAX(CASE WHEN status = 'FAILED' THEN created_date END) AS last_failed_at,
        MIN(CASE WHEN status IN ('IN_PROGRESS', 'IN_QUEUE') THEN created_date END) AS oldest_open_created_at,
        MAX(CASE WHEN status IN ('IN_PROGRESS', 'IN_QUEUE') THEN age_seconds END) AS oldest_open_age_seconds
    FROM bf
    GROUP BY connection_id, data_set_id
),
pairs AS (
    SELECT
        d.org_id,
        d.connection_id,
        c.name AS connection_name,
        d.data_set_id,
        d.name AS data_set_name,
        d.type AS data_set_type,
        COALESCE(d.streaming, FALSE) AS streaming,
        d.last_ingested_time,
        CASE
            WHEN COALESCE(d.streaming, FALSE)
                AND (
                    d.last_ingested_time IS NULL
                    OR EXTRACT(EPOCH FROM ref.as_of) - EXTRACT(EPOCH FROM d.last_ingested_time)
                        > ref.stale_after_hours * 3600
                )
            THEN TRUE ELSE FALSE
        END AS is_stale,
        COALESCE(a.backfills_total, 0) AS backfills_total,
        COALESCE(a.completed, 0) AS completed_count,
        COALESCE(a.failed, 0) AS failed_count,
        COALESCE(a.in_progress, 0) AS in_progress_count,
        COALESCE(a.in_queue, 0) AS in_queue_count,
        COALESCE(a.stuck, 0) AS stuck_count,
        a.last_created_at,
        a.last_completed_at,
        a.last_failed_at,
        a.oldest_open_created_at,
        CAST(ROUND(CAST(a.oldest_open_age_seconds / 3600.0 AS NUMERIC(18, 3)), 2) AS DOUBLE PRECISION)
            AS oldest_open_age_hours,
        ref.as_of
    FROM datasets AS d
    JOIN connections AS c ON c.id = d.connection_id
    JOIN health_reference AS ref ON ref.org_id = d.org_id
    LEFT JOIN agg AS a ON a.connection_id = d.connection_id AND a.data_set_id = d.data_set_id
    -- deleted in source: kept in the tables, left out of health
    WHERE d.deleted_in_source_at IS NULL AND c.deleted_in_source_at IS NULL
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
    CASE
        WHEN stuck_count > 0 THEN 'STUCK'
        -- backfills carry no finish time: the latest created finished one decides; ties count as failed
        WHEN last_failed_at IS NOT NULL AND (last_completed_at IS NULL OR last_failed_at >= last_completed_at)
            THEN 'FAILED'
        WHEN in_progress_count + in_queue_count > 0 THEN 'IN_PROGRESS'
        WHEN last_completed_at IS NOT NULL THEN 'HEALTHY'
        ELSE 'NO_BACKFILLS'
    END AS health_status,
    CASE
        WHEN stuck_count > 0 THEN 4
        WHEN last_failed_at IS NOT NULL AND (last_completed_at IS NULL OR last_failed_at >= last_completed_at)
            THEN 3
        WHEN in_progress_count + in_queue_count > 0 THEN 2
        WHEN last_completed_at IS NOT NULL THEN 1
        ELSE 0
    END AS severity,
    as_of
FROM pairs
