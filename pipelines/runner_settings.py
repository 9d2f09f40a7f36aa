"""`[cja_sync]`: the runner's own settings, read through dlt's config providers like `[sources.cja]`
(`.dlt/config.toml`, or the environment: `CJA_SYNC__DUCKDB_STORAGE_VERSION`)."""

from __future__ import annotations

from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.specs import BaseConfiguration

from cja_source.errors import ConfigurationError

from .errors import one_line


@configspec
class RunnerConfiguration(BaseConfiguration):
    # the oldest storage that has what we use, and what DuckDB 1.4 LTS (Evidence's, Superset's and
    # DBeaver's DuckDB) opens; only new files are created in it (`run --convert-storage` for others)
    duckdb_storage_version: str = "v1.4.0"


def runner_settings() -> RunnerConfiguration:
    try:
        return resolve_configuration(RunnerConfiguration(), sections=("cja_sync",))
    except Exception as exc:  # noqa: BLE001 - dlt raises several types for a bad value
        raise ConfigurationError(f"invalid setting in [cja_sync]: {one_line(exc)}") from None
