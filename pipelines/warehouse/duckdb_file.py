"""The DuckDB file readers open, and the one a sync writes.

BI servers (Superset, Metabase, Grafana, Evidence) keep a read-only connection on the file for as
long as they run, and DuckDB lets no writer in beside a reader. So a sync never writes the file users
point their tools at: it writes a working file beside it (`<file>.work`) and, once the run
succeeded, publishes a checkpointed copy by rename. A reader keeps the inode it opened (the state of
the previous sync, whole) until it reconnects; nobody ever sees a half-written state, and no reader
can make a sync wait.

New files are created in a storage version that DuckDB 1.4 LTS reads (`[cja_sync]
duckdb_storage_version`): a fresh DuckDB 2.x would otherwise write a format no 1.x reader opens, and
dlt has no way to pass the setting to the connection that creates the file."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import struct
import time
from pathlib import Path
from typing import Any

import dlt

from cja_source.errors import CJAError, ConfigurationError

from ..options import RunOptions
from ..settings import runner_settings

logger = logging.getLogger("cja_sync")

WORK_SUFFIX = ".work"
# the identity (inode, size, mtime) of the file last published, to notice one replaced by hand
RECORD_SUFFIX = ".work.published"
# storage version numbers in a DuckDB file's header that DuckDB 1.4 LTS reads
READABLE_BY_1_4 = range(64, 68)
_HEADER = struct.Struct("<8s4sQ")  # checksum, magic "DUCK", version number


def working_path(published: Path) -> Path:
    return published.with_name(published.name + WORK_SUFFIX)


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def storage_number(path: Path) -> int | None:
    """The storage version number in the header of the DuckDB file `path` (None: not one)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(_HEADER.size)
    except OSError:
        return None
    if len(head) < _HEADER.size:
        return None
    _, magic, number = _HEADER.unpack(head)
    return int(number) if magic == b"DUCK" else None


def readable_by_1_4(path: Path) -> bool:
    return storage_number(path) in READABLE_BY_1_4


def create_empty(path: Path, storage_version: str) -> None:
    """A new DuckDB file in `storage_version`; a file already there (another run made it) is kept."""
    import duckdb

    tmp = path.with_name(f"{path.name}.new-{os.getpid()}")
    try:
        duckdb.connect(str(tmp), config={"storage_compatibility_version": storage_version}).close()
    except duckdb.Error as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigurationError(
            f"invalid [cja_sync] duckdb_storage_version {storage_version!r}: {str(exc).splitlines()[0]}"
        ) from None
    try:
        os.link(tmp, path)  # never replaces a file another process created meanwhile
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def prepare_working(published: Path, storage_version: str) -> Path:
    """The working file of `published`, ready for a sync (call under the warehouse's writer lock).

    Made from the published file when there is none (a warehouse of 0.2.0, whose syncs wrote the
    published file itself) or when the published file is not the one the last sync published (put
    back from a backup, say): the sync continues from what readers see. A published file deleted
    since starts a new warehouse, as deleting it always did. Otherwise a new file."""
    work = working_path(published)
    if not published.exists() and _recorded(published) is not None:
        # the file readers were given is gone: deleting the warehouse has always meant starting over
        logger.warning(
            "%s was deleted since the last sync published it; starting a new warehouse", published.name
        )
        for stale in (work, _wal(work), published.with_name(published.name + RECORD_SUFFIX)):
            stale.unlink(missing_ok=True)
    if published.exists() and _identity(published) != _recorded(published):
        if work.exists():
            logger.warning("%s is not the file the last sync published; syncing from it", published.name)
        _copy_atomically(published, work)
        if _wal(published).exists():  # an interrupted writer of 0.2.0: DuckDB replays it on open
            _copy_atomically(_wal(published), _wal(work))
        else:
            _wal(work).unlink(missing_ok=True)
        _record(published)
    elif not work.exists():
        create_empty(work, storage_version)
    return work


def publish(work: Path, published: Path) -> None:
    """Put a copy of the checkpointed working file in place of `published`, by rename."""
    if _wal(work).exists():
        raise CJAError(
            f"cannot publish {published.name}: {work.name} still has a write-ahead log (a connection "
            "is open); the data is kept and the next run publishes it"
        )
    _copy_atomically(work, published)
    _record(published)


def storage_notice(published: Path) -> str | None:
    """One line for a file that DuckDB 1.x readers cannot open, saying how to change that."""
    number = storage_number(published)
    if number is None or number in READABLE_BY_1_4:
        return None
    return (
        f"{published.name} is in a DuckDB storage format that DuckDB 1.x readers (Evidence, Superset, "
        "DBeaver) cannot open; `cja-sync run --convert-storage` rewrites it in [cja_sync] "
        "duckdb_storage_version (v1.4.0 by default)"
    )


def convert(work: Path, storage_version: str) -> None:
    """Rewrite the working file in `storage_version` (schemas, tables, views and comments)."""
    import duckdb

    tmp = work.with_name(f"{work.name}.convert-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        con.execute("ATTACH ? AS cja_src (READ_ONLY)", [str(work)])
        con.execute(
            f"ATTACH ? AS cja_dst (STORAGE_VERSION '{_version_literal(storage_version)}')", [str(tmp)]
        )
        con.execute("COPY FROM DATABASE cja_src TO cja_dst")
        con.execute("DETACH cja_dst")
        con.execute("DETACH cja_src")
    except duckdb.Error:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    os.replace(tmp, work)
    _fsync_dir(work.parent)


def _version_literal(version: str) -> str:
    if not version.replace(".", "").replace("v", "").isalnum():
        raise ConfigurationError(f"invalid [cja_sync] duckdb_storage_version {version!r}")
    return version


def _copy_atomically(source: Path, target: Path) -> None:
    tmp = target.with_name(f"{target.name}.copy-{os.getpid()}")
    try:
        shutil.copyfile(source, tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _identity(path: Path) -> str:
    st = path.stat()
    return f"{st.st_ino} {st.st_size} {st.st_mtime_ns}"


def _recorded(published: Path) -> str | None:
    try:
        return published.with_name(published.name + RECORD_SUFFIX).read_text().strip()
    except OSError:
        return None


def _record(published: Path) -> None:
    published.with_name(published.name + RECORD_SUFFIX).write_text(_identity(published) + "\n")


def prepare_for_sync(opts: RunOptions) -> None:
    """Before a sync's first connection, under the writer lock: the working file made ready, and
    converted when `opts.convert_storage` asks for it."""
    if opts.destination != "duckdb":
        return
    version = runner_settings().duckdb_storage_version
    work = prepare_working(Path(opts.duckdb_path).resolve(), version)
    if opts.convert_storage and not readable_by_1_4(work):
        logger.warning("rewriting %s in DuckDB storage version %s", work.name, version)
        convert(work, version)


def publish_synced(pipeline: dlt.Pipeline, opts: RunOptions) -> tuple[dict[str, Any] | None, str | None]:
    """After a successful sync: the working file checkpointed and published. Returns what the run's
    record shows of it: ({"seconds", "bytes"}, a notice for a file that DuckDB 1.x readers cannot
    open); (None, None) for other destinations."""
    if opts.destination != "duckdb":
        return None, None
    started = time.monotonic()
    with pipeline.sql_client() as sql:
        sql.execute_sql("CHECKPOINT")
    published = Path(opts.duckdb_path).resolve()
    publish(working_path(published), published)
    cost = {"seconds": round(time.monotonic() - started, 3), "bytes": published.stat().st_size}
    return cost, storage_notice(published)


def publish_quietly(pipeline: dlt.Pipeline, opts: RunOptions) -> None:
    """Publish after a failed run that loaded nothing (its `failed` row is the only change), so that
    readers see why; the run's own one line already said what failed, so a failure here is only
    logged (--debug)."""
    if opts.destination != "duckdb" or not working_path(Path(opts.duckdb_path).resolve()).exists():
        return
    try:
        publish_synced(pipeline, opts)
    except Exception as exc:  # noqa: BLE001 - the warehouse itself may be what failed
        logger.info("could not publish the failed run's record (%s)", type(exc).__name__)
