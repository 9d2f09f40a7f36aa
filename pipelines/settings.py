"""`[cja_sync]`: the runner's own settings, read through dlt's config providers like `[sources.cja]`
(`.dlt/config.toml`, or the environment: `CJA_SYNC__DUCKDB_STORAGE_VERSION`, ...). The one place the
runner reads a setting of its own: no other `CJA_*` environment variable exists. `[cja_sync.alerts]`
holds where `cja-sync alert` and `run` send (`CJA_SYNC__ALERTS__SLACK_WEBHOOK_URL`, ...)."""

from __future__ import annotations

from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.specs import BaseConfiguration
from dlt.common.typing import TSecretStrValue

from cja_source.errors import ConfigurationError

from .errors import one_line


@configspec
class AlertsConfiguration(BaseConfiguration):
    """`[cja_sync.alerts]`: the sinks. Their URLs carry the token that lets anyone post: secrets,
    never printed, logged or stored (`.dlt/secrets.toml` or the environment)."""

    webhook_url: TSecretStrValue | None = None
    slack_webhook_url: TSecretStrValue | None = None
    teams_webhook_url: TSecretStrValue | None = None
    # `run` GETs it after a successful sync and `<heartbeat_url>/fail` after a failed one
    heartbeat_url: TSecretStrValue | None = None
    # re-send the conditions that still hold when a sink was last told this long ago; 0: never
    remind_after_hours: float = 0.0
    # each post: this long at most per attempt, this many attempts (heartbeat pings: one attempt)
    timeout_seconds: float = 10.0
    max_attempts: int = 3
    # between attempts: backoff_seconds, then twice that, ... (a sink's Retry-After wins), 30 s at most
    backoff_seconds: float = 1.0

    def sinks(self) -> dict[str, str]:
        """{sink name: URL} of the configured message sinks, in the order they are sent to."""
        urls = {"webhook": self.webhook_url, "slack": self.slack_webhook_url, "teams": self.teams_webhook_url}
        return {name: str(url) for name, url in urls.items() if url}

    def problems(self) -> list[str]:
        out = []
        named = {"webhook_url": self.webhook_url, "slack_webhook_url": self.slack_webhook_url}
        named.update(teams_webhook_url=self.teams_webhook_url, heartbeat_url=self.heartbeat_url)
        for name, url in named.items():
            if url and not str(url).startswith(("https://", "http://")):
                # the value is a secret: never repeated
                out.append(f"cja_sync.alerts.{name} must be an http(s) URL")
        if not float(self.remind_after_hours) >= 0:
            out.append("cja_sync.alerts.remind_after_hours must be a number >= 0 (0: never remind)")
        if not (0 < float(self.timeout_seconds) <= 120 and 1 <= int(self.max_attempts) <= 10):
            out.append("cja_sync.alerts: timeout_seconds must be in (0, 120] and max_attempts in 1..10")
        if not 0 <= float(self.backoff_seconds) <= 30:
            out.append("cja_sync.alerts.backoff_seconds must be between 0 and 30")
        return out


@configspec
class RunnerConfiguration(BaseConfiguration):
    # the oldest storage that has what we use, and what DuckDB 1.4 LTS (Evidence's, Superset's and
    # DBeaver's DuckDB) opens; only new files are created in it (`run --convert-storage` for others)
    duckdb_storage_version: str = "v1.4.0"
    # DuckDB's default memory limit is 80 % of RAM, and merging ~500k backfills into a fresh file
    # takes what it is given. Each big statement of a maximal org's load (the backfills merge, the
    # ~60 MB of connections_history text) grew RSS by ~230 MB at 256 MB and by 120-175 MB at 128 MB,
    # for about a second more in all (bench P4); DuckDB spills to disk beside the file if a merge
    # needs more. Reading commands (health, report) use it too: the views over those backfills
    # took ~450 MB of DuckDB's memory in `report` (bench P9: 656 MB peak RSS, 294 MB capped).
    duckdb_memory_limit: str = "128MB"
    # a writer's DuckDB open waits this long for another process's lock, a reader's this long
    duckdb_writer_wait_seconds: float = 120.0
    duckdb_reader_wait_seconds: float = 5.0
    # a second run of an org (or a second writer) waits this long before exiting (`run --wait`)
    writer_wait_seconds: float = 0.0
    alerts: AlertsConfiguration | None = None

    def problems(self) -> list[str]:
        waits = ("duckdb_writer_wait_seconds", "duckdb_reader_wait_seconds", "writer_wait_seconds")
        out = [
            f"cja_sync.{name} must be a number >= 0" for name in waits if not float(getattr(self, name)) >= 0
        ]
        return out + (self.alerts.problems() if self.alerts is not None else [])


def runner_settings() -> RunnerConfiguration:
    try:
        settings = resolve_configuration(RunnerConfiguration(), sections=("cja_sync",))
    except Exception as exc:  # noqa: BLE001 - dlt raises several types for a bad value
        raise ConfigurationError(f"invalid setting in [cja_sync]: {one_line(exc)}") from None
    if settings.alerts is None:
        settings.alerts = AlertsConfiguration()
    problems = settings.problems()
    if problems:
        raise ConfigurationError(problems[0])
    return settings


def alert_settings() -> AlertsConfiguration:
    """`[cja_sync.alerts]`, validated (ConfigurationError naming the setting, never its value)."""
    alerts = runner_settings().alerts
    assert alerts is not None  # runner_settings fills it
    return alerts
