-- Every FAILED backfill of a live dataset; cleared_by_later_completion says a later COMPLETED
-- backfill of the same dataset has since made up for it.
SELECT
    a.org_id,
    a.backfill_id,
    a.connection_id,
    a.connection_name,
    a.data_set_id,
    a.data_set_name,
    a.created_date,
    a.start_date,
    a.end_date,
    a.all_data,
    a.age_hours,
    CASE WHEN h.last_completed_at > a.created_date THEN TRUE ELSE FALSE END AS cleared_by_later_completion,
    a.as_of
FROM backfill_ages AS a
JOIN backfill_health AS h ON h.connection_id = a.connection_id AND h.data_set_id = a.data_set_id
WHERE a.status = 'FAILED'
