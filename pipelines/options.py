"""What the commands share and nothing else imports back: exit codes and the run options parsed
from the command line (a leaf module, so the commands never import one another)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_HEALTH = 0, 1, 2, 3


@dataclass
class RunOptions:
    destination: str = "duckdb"
    # not ./cja.duckdb: DuckDB names the catalog after the file, and a catalog named like the
    # dataset (cja) makes every `cja.table` reference ambiguous, for dlt and for BI tools alike
    duckdb_path: str = "cja_sync.duckdb"
    dataset_name: str = "cja"
    # None: derived from the warehouse target and the org (see identity.py); readers pass their own
    pipeline_name: str | None = None
    pipelines_dir: str | None = None
    full: bool = False
    allow_empty: bool = False
    progress: bool = False


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
    )
