-- Thresholds from [sources.cja.health] (or an org's own [sources.cja.orgs.<name>.health]), one row per
-- org: each sync rewrites its own org's row, the views join on org_id. Kept in place across syncs
-- (never dropped), so grants on it and objects over it survive. org_id is the last column because a
-- warehouse of 0.2.0 had a single row without it and gains the column by ALTER TABLE.
CREATE TABLE IF NOT EXISTS health_settings (
    stuck_after_hours DOUBLE PRECISION NOT NULL,
    stale_after_hours DOUBLE PRECISION NOT NULL,
    volume_drop_pct DOUBLE PRECISION NOT NULL,
    volume_baseline_days DOUBLE PRECISION NOT NULL,
    volume_min_points BIGINT NOT NULL,
    updated_at TIMESTAMPTZ,
    org_id VARCHAR
)
