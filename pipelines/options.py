"""What the commands share and nothing else imports back: exit codes and the run options parsed
from the command line (a leaf module, so the commands never import one another)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_HEALTH, EXIT_ALERT = 0, 1, 2, 3, 4
# not ./cja.duckdb: DuckDB names the catalog after the file, and a catalog named like the
# dataset (cja) makes every `cja.table` reference ambiguous, for dlt and for BI tools alike
DEFAULT_DUCKDB_PATH = "cja_sync.duckdb"
# what `cja-sync demo` writes, so that a reader run beside it can point at it
DEMO_DUCKDB_PATH = "cja_demo.duckdb"


@dataclass
class RunOptions:
    destination: str = "duckdb"
    duckdb_path: str = DEFAULT_DUCKDB_PATH
    dataset_name: str = "cja"
    # None: derived from the warehouse target and the org (see identity.py); readers pass their own
    pipeline_name: str | None = None
    pipelines_dir: str | None = None
    full: bool = False
    allow_empty: bool = False
    progress: bool = False
    # DuckDB: publish the working file after the run (a fleet publishes once, after its last org)
    publish_file: bool = True
    # DuckDB: rewrite a file that DuckDB 1.x readers cannot open in [cja_sync] duckdb_storage_version
    convert_storage: bool = False
    # seconds to wait for another run of the org (or another writer) before exiting; None: the
    # [cja_sync] writer_wait_seconds, else 0 (exit at once)
    wait: float | None = None


def wait_seconds(text: str) -> float:
    """`--wait SECONDS`: a finite number >= 0 (a wait without end is what the lock prevents)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds >= 0, not {text!r}")
    return value


def options_from_args(args: argparse.Namespace, pipeline_name: str | None = None) -> RunOptions:
    progress = getattr(args, "progress", None)
    return RunOptions(
        destination=args.destination,
        duckdb_path=args.duckdb_path,
        dataset_name=args.dataset_name,
        pipeline_name=pipeline_name,
        pipelines_dir=args.pipelines_dir,
        full=bool(getattr(args, "full", False)),
        allow_empty=bool(getattr(args, "allow_empty", False)),
        progress=bool(progress if progress is not None else sys.stderr.isatty()),
        convert_storage=bool(getattr(args, "convert_storage", False)),
        wait=getattr(args, "wait", None),
    )
