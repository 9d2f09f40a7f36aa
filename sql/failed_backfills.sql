-- Every FAILED backfill of a live dataset; cleared_by_later_completion says a later COMPLETED
-- backfill of the same dataset has since made up for it.
SELECT
    b.org_id,
    b.id AS backfill_id,
    b.connection_id,
    c.name AS connection_name,
    b.data_set_id,
    d.name AS data_set_name,
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
    CASE WHEN h.last_completed_at > b.created_date THEN TRUE ELSE FALSE END AS cleared_by_later_completion,
    ref.as_of
FROM backfills AS b
JOIN datasets AS d ON d.connection_id = b.connection_id AND d.data_set_id = b.data_set_id
JOIN connections AS c ON c.id = b.connection_id
JOIN health_reference AS ref ON ref.org_id = b.org_id
JOIN backfill_health AS h ON h.connection_id = b.connection_id AND h.data_set_id = b.data_set_id
WHERE b.status = 'FAILED'
    AND d.deleted_in_source_at IS NULL
    AND c.deleted_in_source_at IS NULL
