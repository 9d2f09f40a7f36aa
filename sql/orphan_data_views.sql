-- Live data views whose connection is missing from the warehouse (never listed: deleted before
-- the first sync, or outside the listing's filters) or deleted in CJA. Their reports show nothing new.
SELECT
    v.org_id,
    v.id AS data_view_id,
    v.name AS data_view_name,
    v.connection_id,
    c.name AS connection_name,
    CASE WHEN c.id IS NULL THEN 'MISSING' ELSE 'DELETED' END AS reason,
    c.deleted_in_source_at AS connection_deleted_at
FROM data_views AS v
LEFT JOIN connections AS c ON c.id = v.connection_id
WHERE v.deleted_in_source_at IS NULL
AND (c.id IS NULL OR c.deleted_in_source_at IS NOT NULL)
