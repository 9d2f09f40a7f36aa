-- Live connections whose numDailyEvents at the org's latest sync is more than volume_drop_pct below
-- the median of their points in the volume_baseline_days before it, when that baseline has at least
-- volume_min_points points (the org's own thresholds, from health_reference). A fall to 0 counts; a
-- missing count (NULL) is no point at all.
WITH latest_sync AS (
    SELECT org_id, MAX(observed_at) AS as_of
    FROM connection_volume_history
    GROUP BY org_id
),
latest AS (
    SELECT v.org_id, v.connection_id, v.num_daily_events, l.as_of
    FROM connection_volume_history AS v
    JOIN latest_sync AS l ON l.org_id = v.org_id AND v.observed_at = l.as_of
    WHERE v.num_daily_events IS NOT NULL
),
baseline AS (
    SELECT
        l.org_id,
        l.connection_id,
        PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY v.num_daily_events) AS baseline_median,
        COUNT(*) AS baseline_points,
        MIN(v.observed_at) AS baseline_from
    FROM latest AS l
    JOIN health_reference AS s ON s.org_id = l.org_id
    JOIN connection_volume_history AS v
        ON v.org_id = l.org_id
        AND v.connection_id = l.connection_id
        AND v.observed_at < l.as_of
        AND EXTRACT(EPOCH FROM v.observed_at) >= EXTRACT(EPOCH FROM l.as_of) - s.volume_baseline_days * 86400
    WHERE v.num_daily_events IS NOT NULL
    GROUP BY l.org_id, l.connection_id
)
SELECT
    l.org_id,
    l.connection_id,
    c.name AS connection_name,
    CAST(b.baseline_median AS DOUBLE PRECISION) AS baseline_median,
    b.baseline_points,
    b.baseline_from,
    l.num_daily_events AS latest_num_daily_events,
    CAST(
        ROUND(CAST(100.0 * (1 - l.num_daily_events / b.baseline_median) AS NUMERIC(18, 3)), 1)
        AS DOUBLE PRECISION
    ) AS drop_pct,
    s.volume_drop_pct,
    s.volume_baseline_days,
    l.as_of
FROM latest AS l
JOIN baseline AS b ON b.org_id = l.org_id AND b.connection_id = l.connection_id
JOIN connections AS c ON c.id = l.connection_id
JOIN health_reference AS s ON s.org_id = l.org_id
WHERE c.deleted_in_source_at IS NULL
    AND b.baseline_points >= s.volume_min_points
    AND b.baseline_median > 0
    AND l.num_daily_events < b.baseline_median * (1 - s.volume_drop_pct / 100.0)
