-- One row per live connection. worst_status is the first that applies:
-- STUCK, FAILED, STALE, VALIDATION_ERRORS, IN_PROGRESS, HEALTHY, NO_BACKFILLS. severity is the worst
-- severity_rank of its datasets, or 3 for validation errors if that is worse; worst_status names it.
WITH dataset_counts AS (
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
        CAST(SUM(CASE WHEN is_stale THEN 1 ELSE 0 END) AS BIGINT) AS datasets_stale,
        MAX(severity_rank) AS worst_dataset_rank
    FROM backfill_health
    GROUP BY connection_id
),
validation_error_counts AS (
    SELECT connection_id, COUNT(*) AS validation_errors
    FROM connection_validation_errors
    GROUP BY connection_id
),
connections_counted AS (
    SELECT
        c.org_id,
        c.id AS connection_id,
        c.name AS connection_name,
        c.sandbox_name,
        c.is_disabled,
        COALESCE(dataset_counts.datasets, 0) AS datasets,
        COALESCE(dataset_counts.streaming_datasets, 0) AS streaming_datasets,
        COALESCE(dataset_counts.backfills_total, 0) AS backfills_total,
        COALESCE(dataset_counts.backfills_failed, 0) AS backfills_failed,
        COALESCE(dataset_counts.backfills_stuck, 0) AS backfills_stuck,
        COALESCE(dataset_counts.datasets_stuck, 0) AS datasets_stuck,
        COALESCE(dataset_counts.datasets_failed, 0) AS datasets_failed,
        COALESCE(dataset_counts.datasets_in_progress, 0) AS datasets_in_progress,
        COALESCE(dataset_counts.datasets_healthy, 0) AS datasets_healthy,
        COALESCE(dataset_counts.datasets_no_backfills, 0) AS datasets_no_backfills,
        COALESCE(dataset_counts.datasets_stale, 0) AS datasets_stale,
        COALESCE(validation_error_counts.validation_errors, 0) AS validation_errors,
        GREATEST(
            COALESCE(dataset_counts.worst_dataset_rank, 0),
            CASE WHEN validation_error_counts.validation_errors > 0 THEN 3 ELSE 0 END
        ) AS severity,
        ref.as_of
    FROM connections AS c
    JOIN health_reference AS ref ON ref.org_id = c.org_id
    LEFT JOIN dataset_counts ON dataset_counts.connection_id = c.id
    LEFT JOIN validation_error_counts ON validation_error_counts.connection_id = c.id
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
    CASE severity
        WHEN 6 THEN 'STUCK'
        WHEN 5 THEN 'FAILED'
        WHEN 4 THEN 'STALE'
        WHEN 3 THEN 'VALIDATION_ERRORS'
        WHEN 2 THEN 'IN_PROGRESS'
        WHEN 1 THEN 'HEALTHY'
        ELSE 'NO_BACKFILLS'
    END AS worst_status,
    severity,
    as_of
FROM connections_counted
