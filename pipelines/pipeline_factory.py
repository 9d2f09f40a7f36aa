"""The dlt pipeline of a set of run options: destination, DuckDB file and limits, loader format."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, cast

import dlt
from dlt.common.destination import TLoaderFileFormat
from dlt.common.destination.reference import Destination
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from cja_source.errors import ConfigurationError

from .locks import install_duckdb_open_wait
from .options import RunOptions


def make_pipeline(
    opts: RunOptions, duckdb_memory_limit: str | None = None, read_only: bool = False
) -> dlt.Pipeline:
    """The pipeline of `opts`; `duckdb_memory_limit` caps DuckDB (a sync's merges), None = DuckDB's own.
    `read_only` opens a DuckDB file so that other readers, and a waiting sync, can share it."""
    install_duckdb_open_wait()
    # dlt gzips its intermediate files by default: a sixth of a large sync's time, for files that
    # live seconds (bench P4 profile). Users can still turn it back on through dlt's config.
    os.environ.setdefault("DATA_WRITER__DISABLE_COMPRESSION", "true")
    # Backfills go to dlt as Arrow tables, except a batch with a value that does not fit its type,
    # which goes as plain rows; dlt gives plain rows _dlt_id and _dlt_load_id (NOT NULL), so Arrow
    # tables must carry them too, or the two kinds cannot share a table.
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_ID", "true")
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
    if opts.destination == "duckdb":
        path = Path(opts.duckdb_path)
        if path.stem.lower() == opts.dataset_name.lower():
            raise ConfigurationError(
                f"the DuckDB file {path.name!r} is named like the dataset {opts.dataset_name!r}; DuckDB "
                "cannot tell a catalog from a schema of the same name: choose another --duckdb-path or "
                "--dataset-name"
            )
        limit = {"memory_limit": duckdb_memory_limit} if duckdb_memory_limit else None
        credentials = DuckDbCredentials(str(path.resolve()), global_config=limit, read_only=read_only)
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


def loader_format(pipeline: dlt.Pipeline) -> TLoaderFileFormat | None:
    # parquet is ~5x faster and far leaner than insert_values on DuckDB (measured, see README)
    return "parquet" if pipeline.destination.destination_name == "duckdb" else None
