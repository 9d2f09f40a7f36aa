-- One row per org with a successful sync: the numbers for a dashboard tile.
WITH connection_counts AS (
    SELECT
        org_id,
        COUNT(*) AS connections,
        CAST(SUM(CASE WHEN severity >= 3 THEN 1 ELSE 0 END) AS BIGINT) AS connections_unhealthy,
        CAST(SUM(CASE WHEN validation_errors > 0 THEN 1 ELSE 0 END) AS BIGINT) AS connections_with_validation_errors,
        CAST(SUM(validation_errors) AS BIGINT) AS validation_errors
    FROM connection_health
    GROUP BY org_id
),
dataset_counts AS (
    SELECT
        org_id,
        COUNT(*) AS datasets,
        CAST(SUM(CASE WHEN streaming THEN 1 ELSE 0 END) AS BIGINT) AS streaming_datasets,
        CAST(SUM(CASE WHEN is_stale THEN 1 ELSE 0 END) AS BIGINT) AS datasets_stale,
        CAST(SUM(CASE WHEN health_status = 'STUCK' THEN 1 ELSE 0 END) AS BIGINT) AS datasets_stuck,
        CAST(SUM(CASE WHEN health_status = 'FAILED' THEN 1 ELSE 0 END) AS BIGINT) AS datasets_failed,
        CAST(SUM(CASE WHEN health_status = 'IN_PROGRESS' THEN 1 ELSE 0 END) AS BIGINT) AS datasets_in_progress,
        CAST(SUM(CASE WHEN health_status = 'HEALTHY' THEN 1 ELSE 0 END) AS BIGINT) AS datasets_healthy,
        CAST(SUM(CASE WHEN health_status = 'NO_BACKFILLS' THEN 1 ELSE 0 END) AS BIGINT) AS datasets_no_backfills,
        CAST(SUM(backfills_total) AS BIGINT) AS backfills_total,
        CAST(SUM(completed_count) AS BIGINT) AS backfills_completed,
        CAST(SUM(failed_count) AS BIGINT) AS backfills_failed,
        CAST(SUM(in_progress_count) AS BIGINT) AS backfills_in_progress,
        CAST(SUM(in_queue_count) AS BIGINT) AS backfills_in_queue,
        CAST(SUM(stuck_count) AS BIGINT) AS backfills_stuck
    FROM backfill_health
    GROUP BY org_id
)
SELECT
    ref.org_id,
    ref.as_of,
    ref.stuck_after_hours,
    ref.stale_after_hours,
    COALESCE(connection_counts.connections, 0) AS connections,
    COALESCE(connection_counts.connections_unhealthy, 0) AS connections_unhealthy,
    COALESCE(connection_counts.connections_with_validation_errors, 0) AS connections_with_validation_errors,
    COALESCE(connection_counts.validation_errors, 0) AS validation_errors,
    COALESCE(dataset_counts.datasets, 0) AS datasets,
    COALESCE(dataset_counts.streaming_datasets, 0) AS streaming_datasets,
    COALESCE(dataset_counts.datasets_stale, 0) AS datasets_stale,
    COALESCE(dataset_counts.datasets_stuck, 0) AS datasets_stuck,
    COALESCE(dataset_counts.datasets_failed, 0) AS datasets_failed,
    COALESCE(dataset_counts.datasets_in_progress, 0) AS datasets_in_progress,
    COALESCE(dataset_counts.datasets_healthy, 0) AS datasets_healthy,
    COALESCE(dataset_counts.datasets_no_backfills, 0) AS datasets_no_backfills,
    COALESCE(dataset_counts.backfills_total, 0) AS backfills_total,
    COALESCE(dataset_counts.backfills_completed, 0) AS backfills_completed,
    COALESCE(dataset_counts.backfills_failed, 0) AS backfills_failed,
    COALESCE(dataset_counts.backfills_in_progress, 0) AS backfills_in_progress,
    COALESCE(dataset_counts.backfills_in_queue, 0) AS backfills_in_queue,
    COALESCE(dataset_counts.backfills_stuck, 0) AS backfills_stuck
FROM health_reference AS ref
LEFT JOIN connection_counts ON connection_counts.org_id = ref.org_id
LEFT JOIN dataset_counts ON dataset_counts.org_id = ref.org_id
