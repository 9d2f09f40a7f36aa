-- Streaming datasets not ingested within stale_after_hours before as_of, or never ingested
-- (is_stale, defined in backfill_health).
SELECT
    h.org_id,
    h.connection_id,
    h.connection_name,
    h.data_set_id,
    h.data_set_name,
    h.data_set_type,
    h.last_ingested_time,
    CASE WHEN h.last_ingested_time IS NULL THEN TRUE ELSE FALSE END AS never_ingested,
    h.hours_since_ingestion,
    ref.stale_after_hours,
    h.as_of
FROM backfill_health AS h
JOIN health_reference AS ref ON ref.org_id = h.org_id
WHERE h.is_stale
