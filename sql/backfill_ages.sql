-- One row per backfill of a live (connection, dataset) in an org with a successful sync. The one
-- place a backfill's age and its open/stuck rules live; every other view and the report read these.
-- age_seconds is cut to microseconds so DuckDB (double) and Postgres (numeric) agree to the bit.
WITH backfills_dated AS (
    SELECT
        b.org_id,
        b.id AS backfill_id,
        b.connection_id,
        c.name AS connection_name,
        b.data_set_id,
        d.name AS data_set_name,
        b.status,
        b.created_date,
        b.start_date,
        b.end_date,
        b.all_data,
        CAST(
            CAST(EXTRACT(EPOCH FROM ref.as_of) - EXTRACT(EPOCH FROM b.created_date) AS NUMERIC(18, 6))
            AS DOUBLE PRECISION
        ) AS age_seconds,
        CASE WHEN b.status IN ('IN_PROGRESS', 'IN_QUEUE') THEN TRUE ELSE FALSE END AS is_open,
        ref.stuck_after_hours,
        ref.as_of
    FROM backfills AS b
    JOIN datasets AS d ON d.connection_id = b.connection_id AND d.data_set_id = b.data_set_id
    JOIN connections AS c ON c.id = b.connection_id
    JOIN health_reference AS ref ON ref.org_id = b.org_id
    -- deleted in source: kept in the tables, left out of health
    WHERE d.deleted_in_source_at IS NULL AND c.deleted_in_source_at IS NULL
)
SELECT
    org_id,
    backfill_id,
    connection_id,
    connection_name,
    data_set_id,
    data_set_name,
    status,
    created_date,
    start_date,
    end_date,
    all_data,
    age_seconds,
    CAST(ROUND(CAST(age_seconds / 3600.0 AS NUMERIC(18, 3)), 2) AS DOUBLE PRECISION) AS age_hours,
    is_open,
    CASE WHEN is_open AND age_seconds > stuck_after_hours * 3600 THEN TRUE ELSE FALSE END AS is_stuck,
    stuck_after_hours,
    as_of
FROM backfills_dated
