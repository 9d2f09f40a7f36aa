"""`[cja_sync]`: the runner's own settings, read through dlt's config providers like `[sources.cja]`
(`.dlt/config.toml`, or the environment: `CJA_SYNC__DUCKDB_STORAGE_VERSION`, ...). The one place the
runner reads a setting of its own: no other `CJA_*` environment variable exists."""

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

    def problems(self) -> list[str]:
        waits = ("duckdb_writer_wait_seconds", "duckdb_reader_wait_seconds", "writer_wait_seconds")
        return [
            f"cja_sync.{name} must be a number >= 0" for name in waits if not float(getattr(self, name)) >= 0
        ]


def runner_settings() -> RunnerConfiguration:
    try:
        settings = resolve_configuration(RunnerConfiguration(), sections=("cja_sync",))
    except Exception as exc:  # noqa: BLE001 - dlt raises several types for a bad value
        raise ConfigurationError(f"invalid setting in [cja_sync]: {one_line(exc)}") from None
    problems = settings.problems()
    if problems:
        raise ConfigurationError(problems[0])
    return settings
