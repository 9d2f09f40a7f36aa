-- Open backfills (IN_PROGRESS or IN_QUEUE) created longer than stuck_after_hours before as_of
-- (is_stuck, defined in backfill_ages).
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
    age_hours,
    stuck_after_hours,
    as_of
FROM backfill_ages
WHERE is_stuck
