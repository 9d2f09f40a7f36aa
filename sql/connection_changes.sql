-- One row per changed field of a connection version (connections_history, scd2): what changed,
-- from what to what, and when a sync saw it (changed_at = valid_from of the new version, or
-- valid_to of a connection's last version when a complete listing stopped returning it).
-- field: a connections_history column (name, data_retention_months, ...); 'connection' when the
-- connection appeared (after the org's first sync) or went away; 'data_sets' when a dataset was
-- added or removed (values: its name); 'data_sets.<setting>' when a dataset's setting changed.
-- change: added, removed or changed. Values are text; NULL where a side has none.
WITH versions AS (
    SELECT
        h.org_id,
        h.connection_id,
        h.name,
        h.valid_from,
        h.valid_to,
        h.source_modified_at,
        h.source_modified_by,
        h.source_modified_by_name,
        h.data_set_settings,
        CAST(h.name AS TEXT) AS v_name,
        CAST(h.description AS TEXT) AS v_description,
        CAST(h.owner_id AS TEXT) AS v_owner_id,
        CAST(h.owner_type AS TEXT) AS v_owner_type,
        CAST(h.owner_name AS TEXT) AS v_owner_name,
        CAST(h.sandbox_id AS TEXT) AS v_sandbox_id,
        CAST(h.sandbox_name AS TEXT) AS v_sandbox_name,
        CAST(h.data_retention_months AS TEXT) AS v_data_retention_months,
        CASE WHEN h.is_disabled THEN 'true' WHEN NOT h.is_disabled THEN 'false' END AS v_is_disabled,
        CASE WHEN h.case_sensitive THEN 'true' WHEN NOT h.case_sensitive THEN 'false' END AS v_case_sensitive,
        CASE WHEN h.backfill_enabled THEN 'true' WHEN NOT h.backfill_enabled THEN 'false' END
            AS v_backfill_enabled,
        CAST(h.float_precision AS TEXT) AS v_float_precision,
        CAST(h.primary_id_type AS TEXT) AS v_primary_id_type,
        CAST(h.configured_containers AS TEXT) AS v_configured_containers,
        ROW_NUMBER() OVER (PARTITION BY h.org_id, h.connection_id ORDER BY h.valid_from) AS version_no,
        MIN(h.valid_from) OVER (PARTITION BY h.org_id) AS org_first_load
    FROM connections_history AS h
),
pairs AS (
    -- each version beside the one before it (none for a connection's first version)
    SELECT
        cur.*,
        prev.valid_from AS prev_valid_from,
        prev.valid_to AS prev_valid_to,
        prev.v_name AS p_name,
        prev.v_description AS p_description,
        prev.v_owner_id AS p_owner_id,
        prev.v_owner_type AS p_owner_type,
        prev.v_owner_name AS p_owner_name,
        prev.v_sandbox_id AS p_sandbox_id,
        prev.v_sandbox_name AS p_sandbox_name,
        prev.v_data_retention_months AS p_data_retention_months,
        prev.v_is_disabled AS p_is_disabled,
        prev.v_case_sensitive AS p_case_sensitive,
        prev.v_backfill_enabled AS p_backfill_enabled,
        prev.v_float_precision AS p_float_precision,
        prev.v_primary_id_type AS p_primary_id_type,
        prev.v_configured_containers AS p_configured_containers
    FROM versions AS cur
    LEFT JOIN versions AS prev
        ON prev.org_id = cur.org_id
        AND prev.connection_id = cur.connection_id
        AND prev.version_no = cur.version_no - 1
),
fields AS (
    SELECT field FROM (
        VALUES
            ('name'), ('description'), ('owner_id'), ('owner_type'), ('owner_name'), ('sandbox_id'),
            ('sandbox_name'), ('data_retention_months'), ('is_disabled'), ('case_sensitive'),
            ('backfill_enabled'), ('float_precision'), ('primary_id_type'), ('configured_containers')
    ) AS f(field)
),
field_values AS (
    SELECT
        p.org_id,
        p.connection_id,
        p.name AS connection_name,
        CAST(NULL AS TEXT) AS data_set_id,
        f.field,
        CASE f.field
            WHEN 'name' THEN p.p_name
            WHEN 'description' THEN p.p_description
            WHEN 'owner_id' THEN p.p_owner_id
            WHEN 'owner_type' THEN p.p_owner_type
            WHEN 'owner_name' THEN p.p_owner_name
            WHEN 'sandbox_id' THEN p.p_sandbox_id
            WHEN 'sandbox_name' THEN p.p_sandbox_name
            WHEN 'data_retention_months' THEN p.p_data_retention_months
            WHEN 'is_disabled' THEN p.p_is_disabled
            WHEN 'case_sensitive' THEN p.p_case_sensitive
            WHEN 'backfill_enabled' THEN p.p_backfill_enabled
            WHEN 'float_precision' THEN p.p_float_precision
            WHEN 'primary_id_type' THEN p.p_primary_id_type
            WHEN 'configured_containers' THEN p.p_configured_containers
        END AS old_value,
        CASE f.field
            WHEN 'name' THEN p.v_name
            WHEN 'description' THEN p.v_description
            WHEN 'owner_id' THEN p.v_owner_id
            WHEN 'owner_type' THEN p.v_owner_type
            WHEN 'owner_name' THEN p.v_owner_name
            WHEN 'sandbox_id' THEN p.v_sandbox_id
            WHEN 'sandbox_name' THEN p.v_sandbox_name
            WHEN 'data_retention_months' THEN p.v_data_retention_months
            WHEN 'is_disabled' THEN p.v_is_disabled
            WHEN 'case_sensitive' THEN p.v_case_sensitive
            WHEN 'backfill_enabled' THEN p.v_backfill_enabled
            WHEN 'float_precision' THEN p.v_float_precision
            WHEN 'primary_id_type' THEN p.v_primary_id_type
            WHEN 'configured_containers' THEN p.v_configured_containers
        END AS new_value,
        p.valid_from AS changed_at,
        p.source_modified_at,
        p.source_modified_by,
        p.source_modified_by_name
    FROM pairs AS p
    CROSS JOIN fields AS f
    WHERE p.prev_valid_from IS NOT NULL
),
field_changes AS (
    SELECT
        org_id,
        connection_id,
        connection_name,
        data_set_id,
        field,
        'changed' AS change,
        old_value,
        new_value,
        changed_at,
        source_modified_at,
        source_modified_by,
        source_modified_by_name
    FROM field_values
    WHERE old_value IS DISTINCT FROM new_value
),
lines AS (
    -- data_set_settings: one '<dataSetId> TAB <setting> TAB <value>' line per dataset setting
    -- (unnest in the select list: DuckDB runs a LATERAL join on UNNEST as a dependent join that
    -- needs over 1 GB for a few thousand datasets; this form streams)
    SELECT
        e.org_id,
        e.connection_id,
        e.valid_from,
        SPLIT_PART(e.line, CHR(9), 1) AS data_set_id,
        SPLIT_PART(e.line, CHR(9), 2) AS setting,
        SPLIT_PART(e.line, CHR(9), 3) AS setting_value
    FROM (
        SELECT
            v.org_id,
            v.connection_id,
            v.valid_from,
            UNNEST(STRING_TO_ARRAY(v.data_set_settings, CHR(10))) AS line
        FROM versions AS v
    ) AS e
    WHERE e.line <> ''
),
old_lines AS (
    SELECT p.org_id, p.connection_id, p.valid_from AS changed_at, l.data_set_id, l.setting, l.setting_value
    FROM pairs AS p
    JOIN lines AS l
        ON l.org_id = p.org_id AND l.connection_id = p.connection_id AND l.valid_from = p.prev_valid_from
),
new_lines AS (
    SELECT p.org_id, p.connection_id, p.valid_from AS changed_at, l.data_set_id, l.setting, l.setting_value
    FROM pairs AS p
    JOIN lines AS l
        ON l.org_id = p.org_id AND l.connection_id = p.connection_id AND l.valid_from = p.valid_from
    WHERE p.prev_valid_from IS NOT NULL
),
line_diffs AS (
    SELECT
        COALESCE(o.org_id, n.org_id) AS org_id,
        COALESCE(o.connection_id, n.connection_id) AS connection_id,
        COALESCE(o.changed_at, n.changed_at) AS changed_at,
        COALESCE(o.data_set_id, n.data_set_id) AS data_set_id,
        COALESCE(o.setting, n.setting) AS setting,
        o.setting_value AS old_value,
        n.setting_value AS new_value
    FROM old_lines AS o
    FULL OUTER JOIN new_lines AS n
        ON o.org_id = n.org_id
        AND o.connection_id = n.connection_id
        AND o.changed_at = n.changed_at
        AND o.data_set_id = n.data_set_id
        AND o.setting = n.setting
    WHERE o.setting_value IS DISTINCT FROM n.setting_value
),
kept_datasets AS (
    -- datasets in both versions: only these report setting changes
    SELECT o.org_id, o.connection_id, o.changed_at, o.data_set_id
    FROM old_lines AS o
    JOIN new_lines AS n
        ON o.org_id = n.org_id
        AND o.connection_id = n.connection_id
        AND o.changed_at = n.changed_at
        AND o.data_set_id = n.data_set_id
    WHERE o.setting = '' AND n.setting = ''
),
dataset_changes AS (
    SELECT
        d.org_id,
        d.connection_id,
        p.name AS connection_name,
        d.data_set_id,
        CASE
            WHEN d.setting = '' AND (d.old_value IS NULL OR d.new_value IS NULL) THEN 'data_sets'
            WHEN d.setting = '' THEN 'data_sets.name'
            ELSE 'data_sets.' || d.setting
        END AS field,
        CASE
            WHEN d.setting = '' AND d.old_value IS NULL THEN 'added'
            WHEN d.setting = '' AND d.new_value IS NULL THEN 'removed'
            ELSE 'changed'
        END AS change,
        d.old_value,
        d.new_value,
        d.changed_at,
        p.source_modified_at,
        p.source_modified_by,
        p.source_modified_by_name
    FROM line_diffs AS d
    JOIN pairs AS p
        ON p.org_id = d.org_id AND p.connection_id = d.connection_id AND p.valid_from = d.changed_at
    LEFT JOIN kept_datasets AS k
        ON k.org_id = d.org_id
        AND k.connection_id = d.connection_id
        AND k.changed_at = d.changed_at
        AND k.data_set_id = d.data_set_id
    WHERE d.setting = '' OR k.data_set_id IS NOT NULL
),
appeared AS (
    -- a connection first seen after the org's first sync, or seen again after it went away
    SELECT
        org_id,
        connection_id,
        name AS connection_name,
        CAST(NULL AS TEXT) AS data_set_id,
        'connection' AS field,
        'added' AS change,
        CAST(NULL AS TEXT) AS old_value,
        v_name AS new_value,
        valid_from AS changed_at,
        source_modified_at,
        source_modified_by,
        source_modified_by_name
    FROM pairs
    WHERE (prev_valid_from IS NULL AND valid_from > org_first_load) OR prev_valid_to < valid_from
),
went_away AS (
    -- a closed version with no version starting when it closed: the listing stopped returning it
    SELECT
        v.org_id,
        v.connection_id,
        v.name AS connection_name,
        CAST(NULL AS TEXT) AS data_set_id,
        'connection' AS field,
        'removed' AS change,
        v.v_name AS old_value,
        CAST(NULL AS TEXT) AS new_value,
        v.valid_to AS changed_at,
        CAST(NULL AS TIMESTAMPTZ) AS source_modified_at,
        CAST(NULL AS TEXT) AS source_modified_by,
        CAST(NULL AS TEXT) AS source_modified_by_name
    FROM versions AS v
    LEFT JOIN versions AS nxt
        ON nxt.org_id = v.org_id AND nxt.connection_id = v.connection_id AND nxt.version_no = v.version_no + 1
    WHERE v.valid_to IS NOT NULL AND (nxt.valid_from IS NULL OR nxt.valid_from > v.valid_to)
)
SELECT
    org_id,
    connection_id,
    connection_name,
    data_set_id,
    field,
    change,
    NULLIF(old_value, '') AS old_value,
    NULLIF(new_value, '') AS new_value,
    changed_at,
    source_modified_at,
    source_modified_by,
    source_modified_by_name
FROM (
    SELECT * FROM field_changes
    UNION ALL
    SELECT * FROM dataset_changes
    UNION ALL
    SELECT * FROM appeared
    UNION ALL
    SELECT * FROM went_away
) AS changes
