"""`cja-sync dbt`: the dbt package in `dbt_cja_sync/` (package data `cja_sync.dbt_cja_sync`) run
against the warehouse of the other commands, with the same flags, config and secrets.

dlt's dbt runner does the dbt side: it hands dbt the pipeline's credentials (DLT__CREDENTIALS__*
environment variables) and dataset (var `source_dataset_name`), runs dbt in a process of this
Python, and reads its results. The models go to `<dataset>_dbt` (its `destination_dataset_name`).
The profiles are the package's own (profiles/profiles.yml) for DuckDB and Postgres: dlt's duckdb
profile installs DuckDB extensions, a download that fails with no network. It runs `dbt run` (the
models), then `dbt test`, not `run_all`: that adds `dbt deps` and `dbt seed`, two more dbt
start-ups (~3 s each) for a package with neither. Models are built whatever the data says, so a
duplicate key shows up as a failing test, not as a view that stopped updating (`dbt build` would
skip the models downstream of a failing source test).

DuckDB: a BI tool may hold the published file open, and DuckDB lets no writer in beside a reader.
So, like a sync, dbt runs under the warehouse's writer lock on the working file (`<file>.work`),
and the file is then published by copy and rename (duckdb_file.py). A dbt run that fails to build
its models publishes nothing; the next sync or dbt run does. Postgres: the models are views over
our tables and views, which every sync replaces in place, so they stay standing; the writer lock
keeps dbt from testing a half-loaded warehouse."""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import os
import sys
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import dlt
from dlt.common.utils import custom_environ

from cja_source.errors import CJAError, ConfigurationError
from cja_source.snapshot import existing_tables

from ..errors import NoSuccessfulSync, one_line
from ..options import RunOptions
from ..text import cut
from ..warehouse.duckdb_file import prepare_for_sync, publish_synced
from ..warehouse.pipeline import make_pipeline
from ..warehouse.reading import no_warehouse
from .identity import pipeline_name_for, target_of
from .locks import warehouse_lock

logger = logging.getLogger("cja_sync")

PACKAGE = "cja_sync.dbt_cja_sync"
MODELS_SUFFIX = "_dbt"
INSTALL = "pip install 'cja-sync[dbt]'"
# dlt's destination name -> the dbt adapter module that serves it
ADAPTERS = {"motherduck": "duckdb", "mssql": "sqlserver"}
# destinations with a profile in dbt_cja_sync/profiles/profiles.yml; others get dlt's profiles
OUR_PROFILES = ("duckdb", "postgres")


@dataclass
class DbtOutcome:
    """What `cja-sync dbt` reports: `passed` when every test passed; `failures` one line per
    failing test, naming the test and the table."""

    passed: bool
    failures: list[str] = field(default_factory=list)
    models: int = 0
    tests: int = 0
    models_schema: str = ""
    seconds: float = 0.0
    published: dict[str, Any] = field(default_factory=dict)


def run_dbt(opts: RunOptions, fresh_sync_hours: float | None = None) -> DbtOutcome:
    """Build the package's models and run its tests on the warehouse of `opts`, waiting up to
    `opts.wait` for a sync that holds it. `fresh_sync_hours` overrides the package's freshness
    threshold (var cja_fresh_sync_hours, 26 h). Raises ConfigurationError without dbt or its
    adapter, NoSuccessfulSync before the first sync, CJAError when a model cannot be built."""
    started = time.monotonic()
    require_dbt(opts.destination)
    if opts.destination == "duckdb" and not Path(opts.duckdb_path).is_file():
        # preparing the working file would create an empty warehouse to test
        raise no_warehouse(Path(opts.duckdb_path))
    target = target_of(opts)
    # a pipeline of its own: one per warehouse (not per org), its working dir keeps dbt's files
    pipeline = make_pipeline(replace(opts, pipeline_name=pipeline_name_for(target, "", "cja_dbt")))
    schema = opts.dataset_name + MODELS_SUFFIX
    extra = {} if fresh_sync_hours is None else {"cja_fresh_sync_hours": float(fresh_sync_hours)}
    with warehouse_lock(target, pipeline, opts.wait):
        prepare_for_sync(opts)
        _require_synced(pipeline, opts)
        outcome = _run_package(pipeline, schema, extra)
        outcome.published = publish_synced(pipeline, opts)[0] or {}
    outcome.seconds = round(time.monotonic() - started, 3)
    return outcome


def require_dbt(destination: str) -> None:
    """ConfigurationError naming the extra to install when dbt-core or the destination's adapter
    is missing (dbt runs in this environment: nothing is downloaded at run time)."""
    adapter = ADAPTERS.get(destination, destination)
    for module, dist in (("dbt.cli.main", "dbt-core"), (f"dbt.adapters.{adapter}", f"dbt-{adapter}")):
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:  # a parent package missing
            found = False
        if not found:
            raise ConfigurationError(f"cja-sync dbt needs {dist}, which is not installed: {INSTALL}")


def package_path() -> Path:
    """The dbt project: `dbt_cja_sync/` in the repository, package data once installed."""
    return Path(str(resources.files(PACKAGE)))


def _require_synced(pipeline: dlt.Pipeline, opts: RunOptions) -> None:
    with pipeline.sql_client() as sql:
        synced = "sync_runs" in existing_tables(sql)
    if not synced:
        where = opts.duckdb_path if opts.destination == "duckdb" else f"dataset {opts.dataset_name}"
        raise NoSuccessfulSync(f"no successful sync in {cut(where, 300)}; run cja-sync run first")


def _run_package(pipeline: dlt.Pipeline, schema: str, extra: dict[str, Any]) -> DbtOutcome:
    from dlt.helpers.dbt.exceptions import DBTProcessingError

    workdir = Path(pipeline.working_dir) / "dbt"
    artifacts = workdir / "target"
    # dbt writes its artifacts and logs beside the project unless told: the package may sit in a
    # read-only site-packages, and two warehouses must not share partial-parse state
    params = ["--target-path", str(artifacts), "--log-path", str(workdir / "logs")]
    runner = _runner(pipeline)
    with custom_environ(DBT_ENVIRONMENT), _output_to_log():
        try:
            built = runner.run(params, extra, destination_dataset_name=schema)
        except DBTProcessingError as exc:
            raise CJAError(f"dbt could not build the models: {_errors(exc)}") from None
        except Exception as exc:  # noqa: BLE001 - dbt's process, as dlt reports it
            raise _dbt_failed(exc) from None
        try:
            ran = list(runner.test(params, extra, destination_dataset_name=schema) or ())
        except DBTProcessingError as exc:
            ran = list(exc.run_results or ())
            if not ran:  # dbt stopped before any test ran (a compile error)
                raise CJAError(f"dbt test failed: {_errors(exc)}") from None
        except Exception as exc:  # noqa: BLE001
            raise _dbt_failed(exc) from None
    # dbt's artifacts say which table and column each test checks and how many rows failed;
    # dlt's results (name, status, message) are the fallback
    tests = _artifact_results(artifacts) or [(r.model_name, r.status, None, r.message, None) for r in ran]
    failing = [t for t in tests if t[1] in ("fail", "error")]
    return DbtOutcome(
        passed=not failing,
        failures=sorted(failure_line(*t) for t in failing),
        models=len(built or ()),
        tests=len(tests),
        models_schema=schema,
    )


def failure_line(
    name: str, status: str, rows: int | None, message: str | None, node: dict[str, Any] | None
) -> str:
    """`unique on connections.id: 1 failing row (source_unique_cja_connections_id)`."""
    what, table = name, "?"
    if node:
        what = str((node.get("test_metadata") or {}).get("name") or name)
        table = _tested_table(node)
        columns = ((node.get("test_metadata") or {}).get("kwargs") or {}).get("columns")
        if node.get("column_name"):
            table = f"{table}.{node['column_name']}"
        elif isinstance(columns, list):  # unique_combination, relationships_combination
            table = f"{table} ({', '.join(map(str, columns))})"
    if status == "fail" and rows is not None:
        said = f": {rows} failing row{'' if rows == 1 else 's'}"
    else:  # an error: the test's own SQL failed (a column gone, say), dbt's message says how
        verb = "failed" if status == "fail" else "could not run"
        said = f" {verb}: {one_line(Exception(message or status))}"
    return cut(f"{what} on {table}{said} ({name})", 400)


def _tested_table(node: dict[str, Any]) -> str:
    sources = node.get("sources") or []
    if sources:
        return str(sources[0][-1])
    refs = node.get("refs") or []
    if refs:
        ref = refs[0]
        return str(ref.get("name") if isinstance(ref, dict) else ref[-1])
    return "?"


# (test name, status, failing rows, message, its manifest node)
_Result = tuple[str, str, int | None, str | None, dict[str, Any] | None]


def _artifact_results(artifacts: Path) -> list[_Result]:
    """(name, status, failing rows, message, manifest node) of each test `dbt test` ran, from its
    run_results.json and manifest.json; [] when dbt wrote none."""
    try:
        results = json.loads((artifacts / "run_results.json").read_text(encoding="utf-8"))["results"]
        nodes = json.loads((artifacts / "manifest.json").read_text(encoding="utf-8"))["nodes"]
    except (OSError, ValueError, KeyError):
        return []
    out: list[_Result] = []
    for result in results:
        node = nodes.get(result.get("unique_id")) or {}
        if node.get("resource_type") == "test":
            rows = result.get("failures")
            out.append((node["name"], result["status"], rows, result.get("message"), node))
    return out


def _errors(exc: Any) -> str:
    """The first model or test that failed and how many more (each message is a paragraph), or
    dbt's own reason when it named none."""
    failed = [r for r in (exc.run_results or ()) if r.status in ("error", "fail")]
    if failed:
        first = f"{failed[0].model_name}: {one_line(Exception(failed[0].message or failed[0].status))}"
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        return cut(first, 400) + more
    return one_line(exc.dbt_results) if exc.dbt_results is not None else one_line(exc)


def _dbt_failed(exc: BaseException) -> CJAError:
    # dbt's process died without a result dlt could read: its last words are on stderr
    stderr = getattr(exc, "stderr", None) or ""
    last = [line for line in str(stderr).splitlines() if line.strip()][-1:]
    return CJAError(f"dbt failed: {one_line(Exception(last[0])) if last else one_line(exc)}")


def _runner(pipeline: dlt.Pipeline) -> Any:
    """dlt's runner for the package, as `dlt.dbt.package` makes it (the pipeline's destination
    configuration, credentials and dataset) but with our profiles for DuckDB and Postgres, which
    `dlt.dbt.package` has no parameter for; other destinations get dlt's own."""
    from dlt.common.destination.client import DestinationClientDwhConfiguration
    from dlt.helpers.dbt.runner import create_runner

    config = pipeline.destination_client().config
    if not isinstance(config, DestinationClientDwhConfiguration):  # what dlt.dbt.package refuses too
        raise ConfigurationError(f"dbt cannot read destination {config.destination_type}: it has no datasets")
    ours = config.destination_type in OUR_PROFILES
    return create_runner(
        _this_python(),
        config,
        pipeline.working_dir,
        str(package_path()),
        package_profiles_dir=str(package_path() / "profiles") if ours else None,
        package_profile_name=config.destination_type if ours else None,
    )


def _this_python() -> Any:
    """dlt's Venv for the interpreter running cja-sync. Venv.restore_current() would start
    `python` from $VIRTUAL_ENV or, without one, from PATH: another Python than ours (a pipx install,
    a venv not activated), without dbt. dlt's runner starts `<bin_path>/python`."""
    from dlt.common.runners import Venv

    bin_path = os.path.dirname(sys.executable)
    if not os.path.isfile(os.path.join(bin_path, "python")):  # e.g. /usr/bin with python3 only
        return Venv.restore_current()
    return Venv(types.SimpleNamespace(bin_path=bin_path, env_exe=sys.executable), current=True)


@contextmanager
def _output_to_log() -> Iterator[None]:
    """What dlt echoes of dbt's output (its failures even in quiet mode) goes to our log, shown with
    --debug: the command's own lines say what failed, one per test."""
    buffer = io.StringIO()
    try:
        with redirect_stdout(buffer):
            yield
    finally:
        for line in buffer.getvalue().splitlines():
            if line.strip():
                logger.info("dbt: %s", line.strip())


# The dbt process's environment: no usage statistics (dbt would post them and write a .user.yml
# into the profiles folder), and no working directory on sys.path: dbt imports every top-level
# `dbt_*` module it can list as a possible plugin, and started from the repository root it would
# list the package's own folder, then fail to import it from the project directory.
DBT_ENVIRONMENT = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1", "PYTHONSAFEPATH": "1"}
