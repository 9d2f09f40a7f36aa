-- One row per (live data view, dataset its live components read), with data_view_components on:
-- how many dimensions and metrics of the data view read the dataset, beside the dataset's health
-- in the data view's connection (backfill_health; NULL when the connection no longer holds it).
WITH links AS (
    SELECT
        l.data_view_id,
        l.data_set_id,
        COUNT(*) AS components,
        CAST(SUM(CASE WHEN k.kind = 'dimension' THEN 1 ELSE 0 END) AS BIGINT) AS dimensions,
        CAST(SUM(CASE WHEN k.kind = 'metric' THEN 1 ELSE 0 END) AS BIGINT) AS metrics,
        CAST(SUM(CASE WHEN k.hidden THEN 1 ELSE 0 END) AS BIGINT) AS hidden_components
    FROM data_view_component_datasets AS l
    JOIN data_view_components AS k ON k.data_view_id = l.data_view_id AND k.id = l.component_id
    WHERE k.deleted_in_source_at IS NULL
    GROUP BY l.data_view_id, l.data_set_id
)
SELECT
    v.org_id,
    v.connection_id,
    links.data_set_id,
    h.data_set_name,
    v.id AS data_view_id,
    v.name AS data_view_name,
    links.components,
    links.dimensions,
    links.metrics,
    links.hidden_components,
    h.health_status,
    h.is_stale,
    h.failed_count,
    h.stuck_count,
    h.last_ingested_time,
    CASE WHEN h.data_set_id IS NULL THEN FALSE ELSE TRUE END AS in_connection,
    h.as_of
FROM links
JOIN data_views AS v ON v.id = links.data_view_id
LEFT JOIN backfill_health AS h ON h.connection_id = v.connection_id AND h.data_set_id = links.data_set_id
WHERE v.deleted_in_source_at IS NULL
