"""One writer per warehouse, one run per org, readers welcome.

- The writer lock belongs to the warehouse, not to a pipelines directory: a lock file beside the
  DuckDB file, or a Postgres advisory lock keyed by database + dataset, which every machine
  writing that schema sees.
- So does each org's run lock (a file per org beside the DuckDB file, an advisory lock keyed by
  database + dataset + org), held for a whole run by whoever starts it: orchestrator workers take
  the writer lock only per warehouse step, and their pipelines directories are their own.
- DuckDB lets one process open a file read-write, or any number open it read-only; a process that
  meets the other kind gets "Could not set lock on file". dlt opens and closes the file many times
  in one run, so a `health` or `report` reading between two of those opens would fail the sync.
  Every open therefore waits (bounded) for the other side to let go.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt

from cja_source.errors import CJAError, ConcurrentRunError
from cja_source.snapshot import rows_of

from ..settings import runner_settings
from ..text import cut
from .identity import Target

logger = logging.getLogger("cja_sync")


def writer_wait() -> float:
    """How long a second writer waits for the first before giving up (`[cja_sync]`
    writer_wait_seconds; 0: exit at once)."""
    return float(runner_settings().writer_wait_seconds)


@dataclass(frozen=True)
class Wait:
    """How long a run waits for the locks it needs, all of them within one budget."""

    seconds: float
    until: float  # time.monotonic() deadline

    @classmethod
    def of(cls, seconds: float | None) -> Wait:
        """`seconds` (`--wait`), or [cja_sync] writer_wait_seconds when not given."""
        wait = writer_wait() if seconds is None else max(0.0, seconds)
        return cls(wait, time.monotonic() + wait)


def busy_message(target: Target, org_id: str | None = None) -> str:
    whose = f" for org {org_id}" if org_id else ""
    return f"another cja-sync run is writing {target.label()}{whose}"


@contextmanager
def warehouse_lock(target: Target, pipeline: dlt.Pipeline, wait: float | None = None) -> Iterator[None]:
    """Hold the writer lock of `target`, or raise ConcurrentRunError after `wait` seconds
    (default: [cja_sync] writer_wait_seconds)."""
    with _Locks(target, pipeline) as locks:
        locks.take_warehouse(Wait.of(wait))
        yield


@contextmanager
def run_locks(
    target: Target, pipeline: dlt.Pipeline, org_id: str, wait: float | None = None, whole_run: bool = True
) -> Iterator[None]:
    """What one run of `org_id` holds from its start to its end, whoever starts it (CLI, cron,
    orchestrator worker): the org's run lock, then, unless the run takes the warehouse lock per step
    (`whole_run=False`, see WarehouseTurns), the warehouse's writer lock. Both within one `wait`.

    The org's lock lives in the warehouse, not in the pipelines directory that each worker
    container has its own of: two runs of one org read the same snapshot and would both record
    every change they see. It is always taken before the warehouse's, and no run holds the
    warehouse's while it waits for an org's, so runs that wait for each other never deadlock."""
    budget = Wait.of(wait)
    with _Locks(target, pipeline) as locks:
        locks.take_org(org_id, budget)
        if whole_run:
            locks.take_warehouse(budget)
        yield


@contextmanager
def fleet_locks(
    target: Target, pipeline: dlt.Pipeline, org_ids: dict[str, str], wait: float | None = None
) -> Iterator[dict[str, str]]:
    """A fleet's locks: every org's run lock (in org id order, the one order every fleet uses,
    so two fleets that share orgs never hold one each while waiting for the other's), then the
    warehouse's. Yields {name: one-line reason} for the orgs another run holds: those are skipped,
    the others go on. Raises ConcurrentRunError when the warehouse itself stays locked."""
    budget = Wait.of(wait)
    refused: dict[str, str] = {}
    with _Locks(target, pipeline) as locks:
        for name in sorted(org_ids, key=lambda n: (org_ids[n], n)):
            try:
                locks.take_org(org_ids[name], budget)
            except ConcurrentRunError as exc:
                refused[name] = exc.message
        locks.take_warehouse(budget)
        yield refused


@contextmanager
def pipeline_lock(pipelines_dir: str, pipeline_name: str, wait: float | None = None) -> Iterator[None]:
    """One run per pipeline at a time: a second one exits with a message instead of corrupting
    the first one's load packages. The only lock of a run into another dlt destination."""
    os.makedirs(pipelines_dir, exist_ok=True)
    path = os.path.join(pipelines_dir, f".{pipeline_name}.lock")
    busy = f"another cja-sync run is using pipeline {pipeline_name!r} ({path})"
    with open(path, "a+") as handle:
        _retry(lambda: _try_flock(handle), busy, Wait.of(wait))
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _Locks:
    """Locks of one warehouse, taken one by one and let go together on exit: flocks on files
    beside a DuckDB file (flock, unlike fcntl's record locks, also keeps apart two threads of one
    process: a fleet's, Dagster's in-process runs), or session advisory locks on one Postgres
    connection. A session lock lives as long as its connection: a killed run's locks go with it,
    so a crash never leaves the warehouse or an org locked."""

    def __init__(self, target: Target, pipeline: dlt.Pipeline) -> None:
        self.target, self.pipeline = target, pipeline
        self._stack = ExitStack()
        self._sql: Any = None
        self._database = ""
        self._taken: set[str] = set()

    def __enter__(self) -> _Locks:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stack.close()

    def take_warehouse(self, wait: Wait) -> None:
        self._take("", busy_message(self.target), wait)

    def take_org(self, org_id: str, wait: Wait) -> None:
        self._take(org_id, busy_message(self.target, org_id), wait)

    def _take(self, org_id: str, busy: str, wait: Wait) -> None:
        if org_id in self._taken:  # one org twice in a fleet: a session's advisory lock is reentrant
            raise ConcurrentRunError(f"{busy}; wait for it to finish")
        if self.target.destination == "duckdb":
            self._flock(org_id, busy, wait)
        elif self.target.destination == "postgres":
            self._advisory(org_id, busy, wait)
        # other dlt destinations: no portable lock; the pipelines-dir lock still applies
        self._taken.add(org_id)

    def _flock(self, org_id: str, busy: str, wait: Wait) -> None:
        path = Path(self.target.location + ".cja-sync.lock")
        if not path.parent.is_dir():  # a typo in --duckdb-path must not create folders
            raise CJAError(
                f"cannot open the DuckDB warehouse: the folder {cut(str(path.parent), 300)} does not exist; "
                "check --duckdb-path (the folder must exist and be writable)"
            )
        if org_id:  # a file per org and dataset: org ids are not file names
            digest = hashlib.sha256(f"{self.target.dataset}\x1f{org_id}".encode()).hexdigest()[:16]
            path = path.with_name(f"{path.stem}.{digest}.lock")
        handle = self._stack.enter_context(open(path, "a+"))  # noqa: SIM115 - closed with the stack
        _retry(lambda: _try_flock(handle), busy, wait)
        self._stack.callback(fcntl.flock, handle, fcntl.LOCK_UN)

    def _advisory(self, org_id: str, busy: str, wait: Wait) -> None:
        if self._sql is None:
            client: Any = self.pipeline.sql_client()  # a context manager dlt does not type as one
            self._sql = self._stack.enter_context(client)
            (self._database,) = rows_of(self._sql, "SELECT current_database()")[0]
        sql, database = self._sql, self._database
        scope = "\x1f".join(("cja-sync", database, self.target.dataset, *([org_id] if org_id else [])))
        key = int.from_bytes(hashlib.sha256(scope.encode()).digest()[:8], "big", signed=True)
        _retry(lambda: bool(rows_of(sql, "SELECT pg_try_advisory_lock(%s)", key)[0][0]), busy, wait)
        # closing the connection releases the lock anyway; an error there must not mask the run's
        self._stack.callback(_quietly, sql.execute_sql, "SELECT pg_advisory_unlock(%s)", key)


def _quietly(call: Any, *args: Any) -> None:
    with suppress(Exception):
        call(*args)


def _try_flock(handle: Any) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _retry(attempt: Any, busy: str, wait: Wait) -> None:
    """Call `attempt` until it takes the lock, or raise ConcurrentRunError once `wait` is over."""
    told = False
    while not attempt():
        left = wait.until - time.monotonic()
        if left <= 0:
            # after a wait, "wait for it" would be advice the user has just followed
            advice = (
                f"it did not finish within {wait.seconds:g} s"
                if wait.seconds > 0
                else "wait for it to finish"
            )
            raise ConcurrentRunError(f"{busy}; {advice}")
        if not told:  # a run that sits silent looks hung: say once what it waits for
            logger.warning("%s; waiting up to %.0f s for it to finish", busy, left)
            told = True
        time.sleep(min(0.5, left))


class WarehouseTurns:
    """The writer lock of `target` taken anew for each warehouse step of a run (`with turns:`),
    waiting up to `wait` seconds each time: runs in separate processes or machines (orchestrator
    workers) then extract side by side and only take turns at the warehouse."""

    def __init__(self, target: Target, pipeline: dlt.Pipeline, wait: float) -> None:
        self.target, self.pipeline, self.wait = target, pipeline, wait
        self._held: list[Any] = []

    def __enter__(self) -> None:
        held = warehouse_lock(self.target, self.pipeline, self.wait)
        held.__enter__()
        self._held.append(held)

    def __exit__(self, *exc: Any) -> None:
        self._held.pop().__exit__(*exc)
