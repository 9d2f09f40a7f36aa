"""The dlt pipeline of a set of run options: destination, DuckDB file and limits, loader format."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import dlt
import pyarrow as pa
from dlt.common.destination import TLoaderFileFormat
from dlt.common.destination.reference import Destination
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from cja_source.errors import ConfigurationError

from ..options import RunOptions
from .duckdb_file import working_path
from .duckdb_open import install_duckdb_open_wait

# DuckDB settings of a sync's own connection (readers keep DuckDB's defaults): with one DuckDB
# thread the load of the maximal org took 4.0 s and ~500 MB instead of 4.9 s and ~570 MB on two
# cores (bench P4). Nothing the sync writes or asks depends on the order rows were inserted in,
# and keeping that order costs DuckDB memory.
SYNC_DUCKDB = {"threads": 1, "preserve_insertion_order": False}
DLT_LOAD_WORKERS = 20  # dlt's default
# a DuckDB load of at least this many rows runs one job at a time (see load_workers)
ONE_JOB_FROM_ROWS = 100_000
# rows dlt buffers per table before it writes them (its default is 5,000)
WRITER_BUFFER_ROWS = 100


def make_pipeline(
    opts: RunOptions, duckdb_memory_limit: str | None = None, read_only: bool = False, in_place: bool = False
) -> dlt.Pipeline:
    """The pipeline of `opts`; `duckdb_memory_limit` caps DuckDB (a sync's merges), None = DuckDB's own.
    A DuckDB pipeline writes the working file beside `opts.duckdb_path` (see duckdb_file.py);
    `read_only` reads the published file itself, which other readers share; `in_place` writes it
    (a file no `cja-sync run` ever published: the plain dlt source's)."""
    install_duckdb_open_wait()
    # dlt gzips its intermediate files by default: a sixth of a large sync's time, for files that
    # live seconds (bench P4 profile). Users can still turn it back on through dlt's config.
    os.environ.setdefault("DATA_WRITER__DISABLE_COMPRESSION", "true")
    # Backfills go to dlt as Arrow tables, except a batch with a value that does not fit its type,
    # which goes as plain rows; dlt gives plain rows _dlt_id and _dlt_load_id (NOT NULL), so Arrow
    # tables must carry them too, or the two kinds cannot share a table.
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_ID", "true")
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
    keep_memory_low()
    if opts.destination == "duckdb":
        path = Path(opts.duckdb_path)
        if path.stem.lower() == opts.dataset_name.lower():
            raise ConfigurationError(
                f"the DuckDB file {path.name!r} is named like the dataset {opts.dataset_name!r}; DuckDB "
                "cannot tell a catalog from a schema of the same name: choose another --duckdb-path or "
                "--dataset-name"
            )
        limit = {**SYNC_DUCKDB, "memory_limit": duckdb_memory_limit} if duckdb_memory_limit else None
        file = path.resolve() if read_only or in_place else working_path(path.resolve())
        credentials = DuckDbCredentials(str(file), global_config=limit, read_only=read_only)
        destination: Any = dlt.destinations.duckdb(credentials)
    else:
        try:
            destination = Destination.from_reference(opts.destination)
        except Exception:  # noqa: BLE001 - dlt raises several types for an unknown name
            raise ConfigurationError(
                f"unknown destination {opts.destination!r}: "
                "use duckdb, postgres or another dlt destination name"
            ) from None
    return dlt.pipeline(
        pipeline_name=opts.pipeline_name or "cja",
        destination=destination,
        dataset_name=opts.dataset_name,
        # None: dlt's own default (~/.dlt/pipelines, /var/dlt/pipelines for root)
        pipelines_dir=cast(str, opts.pipelines_dir),
    )


@contextlib.contextmanager
def one_connection(pipeline: dlt.Pipeline) -> Iterator[None]:
    """One DuckDB connection held open across light steps after a load (publish's). Each step opens
    its own sql client; with one held, dlt's pool hands each a cursor of it instead of opening the
    file again (~25 ms an open). Not for heavy reads: what DuckDB holds for them stays until the
    connection closes. Other destinations open their own connections as before."""
    if pipeline.destination.destination_name != "duckdb":
        yield
        return
    with pipeline.sql_client():
        yield


def keep_memory_low() -> None:
    """Settings that keep a large first sync's memory down (bench P4, 1,000 connections x 100
    datasets: with the listing's smaller pages and DuckDB's settings, from 952 MB to ~520 MB).
    Each is a default that dlt's own config (toml, environment) still overrides."""
    # dlt's default round-robin advances the listing while the previous pages' transformers are
    # still pending (seven 45 MB pages alive at once); fifo drains each page before the next
    os.environ.setdefault("EXTRACT__NEXT_ITEM_MODE", "fifo")
    # dlt buffers 5,000 rows per table before writing, as one line in extract and one Arrow
    # conversion in normalize: connections_history rows are ~60 kB each for 100 datasets, and
    # normalizing them grew RSS by 220 MB at 500 rows, 80 MB at 100 (extract's writer settings
    # are read under `sources`)
    os.environ.setdefault("SOURCES__DATA_WRITER__BUFFER_MAX_ITEMS", str(WRITER_BUFFER_ROWS))
    os.environ.setdefault("NORMALIZE__DATA_WRITER__BUFFER_MAX_ITEMS", str(WRITER_BUFFER_ROWS))
    # Arrow's default pool (jemalloc) keeps what extract and normalize freed, and the load phase
    # starts that much higher (measured: load peak 934 MB with it, 582 MB with malloc's pool)
    pa.set_memory_pool(pa.system_memory_pool())


def give_back_freed_memory() -> None:
    """Return to the system what extract and normalize freed but glibc's malloc keeps for reuse:
    DuckDB allocates with its own allocator and cannot reuse it, so the load's peak would stack on
    top (bench P4: the load started ~40 MB lower). Nothing to do where there is no glibc."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)


def load_workers(pipeline: dlt.Pipeline, rows: int | None = None) -> int:
    """Load jobs at once for a package of `rows` rows (None: not known, taken as large).
    DuckDB is one engine on one file, and two big statements at once (the backfills merge beside
    the connections_history copy) stack their memory: with one job the maximal org's sync peaked
    at 507-527 MB in three runs, with two at 526-594 MB, in the same time at DuckDB's 128 MB
    (bench P4). Small loads are many small jobs, which dlt's parallel default gets through faster
    (~8 % of the test suite's syncs). Other destinations keep dlt's default."""
    large = rows is None or rows >= ONE_JOB_FROM_ROWS
    if pipeline.destination.destination_name == "duckdb" and large:
        return 1
    return DLT_LOAD_WORKERS


def loader_format(pipeline: dlt.Pipeline) -> TLoaderFileFormat | None:
    # parquet is ~5x faster and far leaner than insert_values on DuckDB (measured, see README)
    return "parquet" if pipeline.destination.destination_name == "duckdb" else None
