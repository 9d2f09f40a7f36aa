"""DuckDB lets one process open a file read-write, or any number open it read-only; a process that
meets the other kind gets "Could not set lock on file". dlt opens and closes a file many times in one
run, so every open waits (bounded) for the other side to let go. A sync writes its own working file
(duckdb_file.py) that readers never open, so this wait only matters between writers, or for users of
the plain dlt source who read the file they write."""

from __future__ import annotations

import time
from typing import Any

from cja_source.errors import ConcurrentRunError

from ..settings import runner_settings


def open_wait(read_only: bool) -> float:
    """How long a DuckDB open waits for another process's lock (`[cja_sync]`
    duckdb_reader_wait_seconds / duckdb_writer_wait_seconds): a writer waits long for a reader
    (readers are brief), a reader waits briefly for a writer (syncs are not)."""
    settings = runner_settings()
    if read_only:
        return float(settings.duckdb_reader_wait_seconds)
    return float(settings.duckdb_writer_wait_seconds)


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
