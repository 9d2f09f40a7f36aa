"""One writer per warehouse, readers welcome.

- The writer lock belongs to the warehouse, not to a pipelines directory: a lock file beside the
  DuckDB file, or a Postgres advisory lock keyed by database + dataset, which every machine
  writing that schema sees.
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
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import dlt

from cja_source.errors import CJAError, ConcurrentRunError
from cja_source.snapshot import rows_of

from .identity import Target
from .text import cut

logger = logging.getLogger("cja_sync")


def open_wait(read_only: bool) -> float:
    """How long a DuckDB open waits for another process's lock: a sync waits long for a reader
    (readers are brief), a reader waits briefly for a sync (syncs are not)."""
    if read_only:
        return float(os.environ.get("CJA_DUCKDB_READER_WAIT_SECONDS", "5"))
    return float(os.environ.get("CJA_DUCKDB_WRITER_WAIT_SECONDS", "120"))


def writer_wait() -> float:
    """How long a second writer waits for the first before giving up (0: exit at once)."""
    return float(os.environ.get("CJA_WRITER_WAIT_SECONDS", "0"))


def busy_message(target: Target) -> str:
    return f"another cja-sync run is writing {target.label()}; wait for it to finish"


@contextmanager
def warehouse_lock(target: Target, pipeline: dlt.Pipeline, wait: float | None = None) -> Iterator[None]:
    """Hold the writer lock of `target` for the whole run, or raise ConcurrentRunError after
    `wait` seconds (default: CJA_WRITER_WAIT_SECONDS)."""
    if target.destination == "duckdb":
        with _file_lock(Path(target.location + ".cja-sync.lock"), target, wait):
            yield
    elif target.destination == "postgres":
        with _advisory_lock(pipeline, target, wait):
            yield
    else:  # other dlt destinations: no portable lock; the pipelines-dir lock still applies
        yield


@contextmanager
def _file_lock(path: Path, target: Target, wait: float | None) -> Iterator[None]:
    if not path.parent.is_dir():  # a typo in --duckdb-path must not create folders
        raise CJAError(
            f"cannot open the DuckDB warehouse: the folder {cut(str(path.parent), 300)} does not exist; "
            "check --duckdb-path (the folder must exist and be writable)"
        )
    with open(path, "a+") as handle:
        _retry(lambda: _try_flock(handle), target, wait)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _try_flock(handle: Any) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


@contextmanager
def _advisory_lock(pipeline: dlt.Pipeline, target: Target, wait: float | None) -> Iterator[None]:
    # a session-level advisory lock lives as long as this connection: a killed writer's lock goes
    # with its connection, so a crash never leaves the warehouse locked
    with pipeline.sql_client() as sql:
        (database,) = rows_of(sql, "SELECT current_database()")[0]
        digest = hashlib.sha256(f"cja-sync\x1f{database}\x1f{target.dataset}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        _retry(lambda: bool(rows_of(sql, "SELECT pg_try_advisory_lock(%s)", key)[0][0]), target, wait)
        try:
            yield
        finally:
            # closing the connection releases the lock anyway
            with suppress(Exception):
                sql.execute_sql("SELECT pg_advisory_unlock(%s)", key)


def _retry(attempt: Any, target: Target, wait: float | None = None) -> None:
    deadline = time.monotonic() + (writer_wait() if wait is None else wait)
    while not attempt():
        if time.monotonic() >= deadline:
            raise ConcurrentRunError(busy_message(target))
        time.sleep(0.5)


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


def lock_conflict_error(read_only: bool) -> ConcurrentRunError:
    """One line for a DuckDB open that waited in vain."""
    if read_only:
        return ConcurrentRunError(
            f"a cja-sync run is writing this DuckDB file (waited {open_wait(True):.0f} s); "
            "try again when it finishes"
        )
    return ConcurrentRunError(
        f"another process kept the DuckDB file locked for more than {open_wait(False):.0f} s; "
        "see the PID in `cja-sync run --debug`"
    )


def waited_in_vain(exc: BaseException) -> bool:
    """True when `exc`, or what dlt wrapped in it, is a DuckDB open that waited in vain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConcurrentRunError) or is_lock_conflict(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def is_lock_conflict(exc: BaseException) -> bool:
    return "Could not set lock on file" in str(exc) or "Conflicting lock" in str(exc)


def install_duckdb_open_wait() -> None:
    """Make dlt's DuckDB connection pool retry an open that meets another process's lock."""
    from dlt.destinations.impl.duckdb.configuration import DuckDbConnectionPool

    if getattr(DuckDbConnectionPool.borrow_conn, "_cja_waits", False):
        return
    original = DuckDbConnectionPool.borrow_conn

    def borrow_conn(self: Any, *args: Any, **kwargs: Any) -> Any:
        seconds = open_wait(self.credentials.read_only)
        deadline = time.monotonic() + seconds
        delay = 0.05
        while True:
            try:
                return original(self, *args, **kwargs)
            except Exception as exc:
                if not is_lock_conflict(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise lock_conflict_error(self.credentials.read_only) from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    borrow_conn._cja_waits = True  # type: ignore[attr-defined]
    DuckDbConnectionPool.borrow_conn = borrow_conn  # type: ignore[method-assign]
