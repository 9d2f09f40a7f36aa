-- One row per live data view of a live connection: the data views a connection feeds, beside the
-- connection's health (connection_health), so "which data views does this failure hit" is one
-- query: WHERE worst_status IN ('FAILED', 'STUCK').
SELECT
    h.org_id,
    h.connection_id,
    h.connection_name,
    v.id AS data_view_id,
    v.name AS data_view_name,
    h.worst_status,
    h.severity,
    h.datasets,
    h.datasets_failed,
    h.datasets_stuck,
    h.datasets_stale,
    h.backfills_failed,
    h.backfills_stuck,
    h.validation_errors,
    h.as_of
FROM connection_health AS h
JOIN data_views AS v ON v.connection_id = h.connection_id AND v.org_id = h.org_id
WHERE v.deleted_in_source_at IS NULL
