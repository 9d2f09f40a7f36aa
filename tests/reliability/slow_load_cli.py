"""`cja-sync` for the signal tests: with CJA_TEST_SLOW_LOAD=<table>:<marker file>:<seconds>, the
load job of `<table>` of the data pipeline (never the `<name>_runs` logging pipeline) writes the
marker and takes `seconds` longer after it ran, so a test can send a signal while the load is
busy. A real job cannot be interrupted either: dlt waits for the jobs already running. Without
the variable, plain `cja-sync`."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any


def install(table: str, marker: str, seconds: float) -> None:
    from dlt.common.destination.client import RunnableLoadJob

    original_managed = RunnableLoadJob.run_managed

    def run_managed(self: Any, job_client: Any, done_event: Any, /) -> None:
        if os.path.basename(self._file_path).startswith(f"{table}."):
            inner = self.run

            def run() -> None:
                inner()
                Path(marker).write_text(str(os.getpid()))
                time.sleep(seconds)

            self.run = run
        original_managed(self, job_client, done_event)

    RunnableLoadJob.run_managed = run_managed  # type: ignore[method-assign]


if __name__ == "__main__":
    slow = os.environ.get("CJA_TEST_SLOW_LOAD")
    if slow:
        table, marker, seconds = slow.split(":")
        install(table, marker, float(seconds))
    from cja_sync.commands.cli import main

    sys.exit(main(sys.argv[1:]))
