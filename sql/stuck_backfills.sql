-- Open backfills (IN_PROGRESS or IN_QUEUE) created longer than stuck_after_hours before as_of.
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
        ROUND(
            CAST((EXTRACT(EPOCH FROM ref.as_of) - EXTRACT(EPOCH FROM b.created_date)) / 3600.0 AS NUMERIC(18, 3)),
            2
        ) AS DOUBLE PRECISION
    ) AS age_hours,
    ref.stuck_after_hours,
    ref.as_of
FROM backfills AS b
JOIN datasets AS d ON d.connection_id = b.connection_id AND d.data_set_id = b.data_set_id
JOIN connections AS c ON c.id = b.connection_id
JOIN health_reference AS ref ON ref.org_id = b.org_id
WHERE b.status IN ('IN_PROGRESS', 'IN_QUEUE')
    AND EXTRACT(EPOCH FROM ref.as_of) - EXTRACT(EPOCH FROM b.created_date) > ref.stuck_after_hours * 3600
    AND d.deleted_in_source_at IS NULL
    AND c.deleted_in_source_at IS NULL
