-- Live connections that no live data view reads: ingestion nobody reports on. Only orgs whose
-- data views were synced (sources.cja.data_views on) can have any: without a data view listing,
-- no connection is known to be unread.
SELECT
    h.org_id,
    h.connection_id,
    h.connection_name,
    h.sandbox_name,
    h.is_disabled,
    h.datasets,
    h.worst_status,
    h.as_of
FROM connection_health AS h
WHERE NOT EXISTS (
    SELECT 1
    FROM data_views AS v
    WHERE v.connection_id = h.connection_id AND v.deleted_in_source_at IS NULL
)
AND EXISTS (SELECT 1 FROM data_views AS listed WHERE listed.org_id = h.org_id)
