"""Settings, read through dlt's config providers (`.dlt/*.toml`, environment) and validated."""

from __future__ import annotations

import re
from typing import Any

from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.exceptions import ConfigFieldMissingException, ConfigurationException
from dlt.common.configuration.providers.toml import TomlProviderReadException
from dlt.common.configuration.specs import BaseConfiguration, CredentialsConfiguration
from dlt.common.typing import TSecretStrValue

from . import settings
from .errors import ConfigurationError

CONNECTION_ID = re.compile(r"^(dg_)?[0-9A-Za-z][0-9A-Za-z_-]*$")


@configspec
class CJACredentials(CredentialsConfiguration):
    """OAuth Server-to-Server credential from the Adobe Developer Console."""

    client_id: str = None
    client_secret: TSecretStrValue = None
    org_id: str = None
    scopes: str = settings.DEFAULT_SCOPES


@configspec
class HealthConfiguration(BaseConfiguration):
    stuck_after_hours: float = 168.0
    stale_after_hours: float = 48.0
    # ingestion_drops: latest numDailyEvents this many percent below the baseline median
    volume_drop_pct: float = 50.0
    volume_baseline_days: float = 7.0
    volume_min_points: int = 3
    # connection_volume_history, backfill_status_changes and health_alerts keep this many days
    history_days: float = 400.0
    # condition sync_stale: no successful sync for this long by the wall clock (a dead cron job);
    # read by `health`, `report` and `alert` when they run, never stored with the views' thresholds
    sync_stale_after_hours: float = 26.0

    def problems(self) -> list[str]:
        """The one set of rules for the thresholds, whoever reads them (a sync, `health`)."""
        out = []
        if not (
            float(self.stuck_after_hours) > 0
            and float(self.stale_after_hours) > 0
            and float(self.sync_stale_after_hours) > 0
        ):
            out.append("sources.cja.health thresholds must be positive")
        if not (
            0 < float(self.volume_drop_pct) <= 100
            and float(self.volume_baseline_days) > 0
            and int(self.volume_min_points) >= 1
            and float(self.history_days) > 0
        ):
            out.append(
                "sources.cja.health: volume_drop_pct must be in (0, 100], volume_baseline_days, "
                "volume_min_points and history_days positive"
            )
        return out


@configspec
class CJASourceConfiguration(BaseConfiguration):
    """`[sources.cja]`; see the README for what each setting does."""

    base_url: str = settings.DEFAULT_BASE_URL
    token_url: str = settings.DEFAULT_TOKEN_URL
    page_size: int = settings.DEFAULT_PAGE_SIZE
    requests_per_window: int = settings.DEFAULT_REQUESTS_PER_WINDOW
    window_seconds: float = settings.DEFAULT_WINDOW_SECONDS
    max_concurrency: int = settings.DEFAULT_MAX_CONCURRENCY
    include_disabled: bool = True
    include_system_owned: bool = True
    include_hidden_datasets: bool = True
    sandbox_names: list[str] | None = None
    connection_ids: list[str] | None = None
    locale: str = "en_US"
    backfills: str = "auto"
    fetch_schema_info: bool = False
    # data views are listed on every sync (a page per page_size); their dimensions and metrics cost
    # two calls per new or modified data view
    data_views: bool = True
    data_view_components: bool = False
    request_timeout: float = settings.GATEWAY_TIMEOUT_SECONDS
    max_attempts: int = settings.MAX_ATTEMPTS
    backoff_base: float = 1.0
    credentials: CJACredentials = None
    health: HealthConfiguration = None
    # concurrent orgs of a fleet run (`[sources.cja.orgs.<name>]`); read from `[sources.cja]` only
    max_parallel_orgs: int = 4
    # Where these settings were read (`sources.cja.orgs.<name>` for an org of a fleet), so that a
    # message about its credentials names the block to fix. Dunder: dlt resolves no such field.
    __settings_path__: str = "sources.cja"

    def problems(self) -> list[str]:
        out = []
        if not 1 <= int(self.page_size) <= settings.MAX_PAGE_SIZE:
            out.append(
                f"sources.cja.page_size must be between 1 and {settings.MAX_PAGE_SIZE}, got {self.page_size}"
            )
        if int(self.requests_per_window) < 1:
            out.append("sources.cja.requests_per_window must be at least 1")
        if float(self.window_seconds) <= 0:
            out.append("sources.cja.window_seconds must be positive")
        if not 1 <= int(self.max_concurrency) <= 64:
            out.append("sources.cja.max_concurrency must be between 1 and 64")
        if self.backfills not in settings.BACKFILL_MODES:
            out.append(
                f"sources.cja.backfills must be one of {', '.join(settings.BACKFILL_MODES)}, "
                f"got {self.backfills!r}"
            )
        if float(self.request_timeout) <= 0 or int(self.max_attempts) < 1:
            out.append("sources.cja.request_timeout must be positive and max_attempts at least 1")
        for url_name in ("base_url", "token_url"):
            if not str(getattr(self, url_name)).startswith(("http://", "https://")):
                out.append(f"sources.cja.{url_name} must be an http(s) URL")
        for cid in self.connection_ids or []:
            if not isinstance(cid, str) or not CONNECTION_ID.match(cid):
                out.append(f"sources.cja.connection_ids holds an invalid connection id: {str(cid)[:60]!r}")
                break
        if (
            self.credentials is not None
            and self.credentials.is_resolved()
            and not str(self.credentials.org_id or "").endswith("@AdobeOrg")
        ):
            out.append(
                f"{self.__settings_path__}.credentials.org_id must be an IMS org id ending in @AdobeOrg"
            )
        if self.health is not None:
            out.extend(self.health.problems())
        return out


def load_settings(
    explicit: dict[str, Any] | None = None,
    *,
    need_credentials: bool = True,
    sections: tuple[str, ...] = ("sources", "cja"),
) -> CJASourceConfiguration:
    """Resolve `[sources.cja]` from dlt's providers; `explicit` values win. Raises ConfigurationError.

    `sections` deeper than `sources.cja` (an org of a fleet) fall back to `[sources.cja]` for every
    setting they do not set: dlt looks a key up in each enclosing section in turn."""
    explicit = dict(explicit or {})
    path = ".".join(sections)
    try:
        cfg = resolve_configuration(
            CJASourceConfiguration(),
            sections=sections,
            explicit_value=explicit,
            accept_partial=not need_credentials,
        )
    except ConfigFieldMissingException as exc:
        nested = re.search(r"CJACredentials` with missing field\(s\): (.*)", str(exc))
        if nested:
            names = [n.strip(" `") for n in nested.group(1).split(",")]
            missing = ", ".join(f"{path}.credentials.{n}" for n in names)
        else:
            missing = ", ".join(f"{path}.{f}" for f in exc.fields)
        variable = "__".join(sections).upper() + "__CREDENTIALS__CLIENT_SECRET"
        raise ConfigurationError(
            f"missing setting {missing}: put it in .dlt/secrets.toml or the environment "
            f"({variable}, ...); see README 'Connect a real org'"
        ) from None
    except (ConfigurationException, ValueError, TypeError) as exc:
        if isinstance(exc, TomlProviderReadException):  # dlt names the file, line and column
            raise ConfigurationError(f"{_one_line(exc)}: fix that file") from None
        raise ConfigurationError(f"invalid setting in [sources.cja]: {_one_line(exc)}") from None
    cfg.__settings_path__ = path
    if cfg.health is None:
        cfg.health = HealthConfiguration()
    try:
        problems = cfg.problems()
    except (ValueError, TypeError):
        # dlt converts values from its providers, not explicit ones: `page_size="many"` gets here
        wrong = [
            f
            for f, v in explicit.items()
            if not _fits(getattr(CJASourceConfiguration, "__annotations__", {}).get(f), v)
        ]
        raise ConfigurationError(
            f"invalid setting in [sources.cja]: {', '.join(f'sources.cja.{f}' for f in wrong) or 'a value'} "
            "has the wrong type"
        ) from None
    if problems:
        raise ConfigurationError(problems[0])
    return cfg


def _fits(annotation: Any, value: Any) -> bool:
    """Whether an explicit `value` converts to the setting's type (annotations are strings here)."""
    kind = str(annotation)
    try:
        if kind.startswith("int"):
            int(value)
        elif kind.startswith("float"):
            float(value)
    except (TypeError, ValueError):
        return False
    return True


def _one_line(exc: BaseException) -> str:
    # dlt puts the detail (a TOML line and column) on the lines after the first
    return (" ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__)[
        :600
    ]
