-- Thresholds from [sources.cja.health]; create_views rewrites its single row, views read it.
CREATE TABLE IF NOT EXISTS health_settings (
    stuck_after_hours DOUBLE PRECISION NOT NULL,
    stale_after_hours DOUBLE PRECISION NOT NULL,
    volume_drop_pct DOUBLE PRECISION NOT NULL,
    volume_baseline_days DOUBLE PRECISION NOT NULL,
    volume_min_points BIGINT NOT NULL,
    updated_at TIMESTAMPTZ
)
