"""`cja-sync` for the crash tests: with CJA_TEST_PAUSE=<phase>:<marker file>, the process writes
the marker and sleeps at a fixed point inside that phase of the data pipeline (never the
`<name>_runs` logging pipeline), so a test can `kill -9` it there. Without it, plain `cja-sync`.

The pause points are inside dlt, after the phase has done its work and before it commits it:
- normalize: `LoadStorage.commit_new_load_package` (normalized files written to the new-package
  folder, the extracted package not yet deleted);
- load: `Load.complete_package` (every job of the package executed in the warehouse, the package
  not yet marked loaded in `_dlt_loads` nor moved to `loaded/`);
- job=<table>.<ext>: right after the load job of `<table>` with file extension `<ext>` ran in the
  warehouse (committed) and before dlt records it as completed: `parquet`/`insert_values` is the
  copy into the table (or its staging table, for merges), `sql` the merge that follows it, for
  `connections_history` the scd2 merge;
- reconcile: right after `reconcile` committed its deletion marks, before the history repair and
  before the run records its end.
Extract needs no hook: the test adds latency in the simulator and kills once list requests arrive.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any


def _pause(marker: str) -> None:
    Path(marker).write_text(str(os.getpid()))
    time.sleep(120)


def install(phase: str, marker: str) -> None:
    if phase == "normalize":
        from dlt.common.storages.load_storage import LoadStorage

        original_commit = LoadStorage.commit_new_load_package

        def commit(self: Any, load_id: str) -> None:
            schema_names = self.new_packages.load_schema(load_id).name
            if schema_names == "cja":
                _pause(marker)
            original_commit(self, load_id)

        LoadStorage.commit_new_load_package = commit  # type: ignore[method-assign]
    elif phase == "load":
        from dlt.load.load import Load

        original_complete = Load.complete_package

        def complete(self: Any, load_id: str, schema: Any, aborted: bool = False) -> None:
            if schema.name == "cja":
                _pause(marker)
            original_complete(self, load_id, schema, aborted)

        Load.complete_package = complete  # type: ignore[method-assign]
    elif phase == "reconcile":
        import cja_sync.warehouse.finish as finish

        original_reconcile = finish.reconcile

        def reconcile(*args: Any, **kwargs: Any) -> Any:
            out = original_reconcile(*args, **kwargs)
            _pause(marker)
            return out

        finish.reconcile = reconcile
    elif phase.startswith("job="):
        from dlt.common.destination.client import RunnableLoadJob

        table, _, ext = phase.removeprefix("job=").rpartition(".")
        original_managed = RunnableLoadJob.run_managed

        def run_managed(self: Any, job_client: Any, done_event: Any, /) -> None:
            # every job class overrides run(): wrap this job's, so the pause follows its commit
            name = os.path.basename(self._file_path)
            if name.startswith(f"{table}.") and name.endswith(f".{ext}"):
                inner = self.run

                def run() -> None:
                    inner()
                    _pause(marker)

                self.run = run
            original_managed(self, job_client, done_event)

        RunnableLoadJob.run_managed = run_managed  # type: ignore[method-assign]
    else:
        raise SystemExit(f"unknown pause phase {phase!r}")


if __name__ == "__main__":
    pause = os.environ.get("CJA_TEST_PAUSE")
    if pause:
        phase, _, marker_path = pause.partition(":")
        install(phase, marker_path)
    from cja_sync.commands.cli import main

    sys.exit(main(sys.argv[1:]))
