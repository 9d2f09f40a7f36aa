-- One row per live connection. worst_status is the first that applies:
-- STUCK, FAILED, STALE, VALIDATION_ERRORS, IN_PROGRESS, HEALTHY, NO_BACKFILLS.
WITH ds AS (
    SELECT
        connection_id,
        COUNT(*) AS datasets,
        CAST(SUM(CASE WHEN streaming THEN 1 ELSE 0 END) AS BIGINT) AS streaming_datasets,
        CAST(SUM(backfills_total) AS BIGINT) AS backfills_total,
        CAST(SUM(failed_count) AS BIGINT) AS backfills_failed,
        CAST(SUM(stuck_count) AS BIGINT) AS backfills_stuck,
        CAST(SUM(CASE WHEN health_status = 'STUCK' THEN 1 ELSE 0 END) AS BIGINT) AS datasets_stuck,
        CAST(SUM(CASE WHEN health_status = 'FAILED' THEN 1 ELSE 0 END) AS BIGINT) AS datasets_failed,
        CAST(SUM(CASE WHEN health_status = 'IN_PROGRESS' THEN 1 ELSE 0 END) AS BIGINT) AS datasets_in_progress,
        CAST(SUM(CASE WHEN health_status = 'HEALTHY' THEN 1 ELSE 0 END) AS BIGINT) AS datasets_healthy,
        CAST(SUM(CASE WHEN health_status = 'NO_BACKFILLS' THEN 1 ELSE 0 END) AS BIGINT) AS datasets_no_backfills,
        CAST(SUM(CASE WHEN is_stale THEN 1 ELSE 0 END) AS BIGINT) AS datasets_stale
    FROM backfill_health
    GROUP BY connection_id
),
ve AS (
    SELECT connection_id, COUNT(*) AS validation_errors
    FROM connection_validation_errors
    GROUP BY connection_id
),
conn AS (
    SELECT
        c.org_id,
        c.id AS connection_id,
        c.name AS connection_name,
        c.sandbox_name,
        c.is_disabled,
        COALESCE(ds.datasets, 0) AS datasets,
        COALESCE(ds.streaming_datasets, 0) AS streaming_datasets,
        COALESCE(ds.backfills_total, 0) AS backfills_total,
        COALESCE(ds.backfills_failed, 0) AS backfills_failed,
        COALESCE(ds.backfills_stuck, 0) AS backfills_stuck,
        COALESCE(ds.datasets_stuck, 0) AS datasets_stuck,
        COALESCE(ds.datasets_failed, 0) AS datasets_failed,
        COALESCE(ds.datasets_in_progress, 0) AS datasets_in_progress,
        COALESCE(ds.datasets_healthy, 0) AS datasets_healthy,
        COALESCE(ds.datasets_no_backfills, 0) AS datasets_no_backfills,
        COALESCE(ds.datasets_stale, 0) AS datasets_stale,
        COALESCE(ve.validation_errors, 0) AS validation_errors,
        ref.as_of
    FROM connections AS c
    JOIN health_reference AS ref ON ref.org_id = c.org_id
    LEFT JOIN ds ON ds.connection_id = c.id
    LEFT JOIN ve ON ve.connection_id = c.id
    WHERE c.deleted_in_source_at IS NULL
)
SELECT
    org_id,
    connection_id,
    connection_name,
    sandbox_name,
    is_disabled,
    datasets,
    streaming_datasets,
    backfills_total,
    backfills_failed,
    backfills_stuck,
    datasets_stuck,
    datasets_failed,
    datasets_in_progress,
    datasets_healthy,
    datasets_no_backfills,
    datasets_stale,
    validation_errors,
    CASE
        WHEN datasets_stuck > 0 THEN 'STUCK'
        WHEN datasets_failed > 0 THEN 'FAILED'
        WHEN datasets_stale > 0 THEN 'STALE'
        WHEN validation_errors > 0 THEN 'VALIDATION_ERRORS'
        WHEN datasets_in_progress > 0 THEN 'IN_PROGRESS'
        WHEN datasets_healthy > 0 THEN 'HEALTHY'
        ELSE 'NO_BACKFILLS'
    END AS worst_status,
    CASE
        WHEN datasets_stuck > 0 THEN 6
        WHEN datasets_failed > 0 THEN 5
        WHEN datasets_stale > 0 THEN 4
        WHEN validation_errors > 0 THEN 3
        WHEN datasets_in_progress > 0 THEN 2
        WHEN datasets_healthy > 0 THEN 1
        ELSE 0
    END AS severity,
    as_of
FROM conn
