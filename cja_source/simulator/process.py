"""A simulator in a child process (`python -m cja_source.simulator`), driven over its loopback admin
routes. For timing and memory: a simulator in the caller's interpreter shares its lock, so any stall
of the caller delays the moment the simulated gateway counts a request, as no network would, and
its generated org and rendering share the caller's heap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from .gateway import count_in
from .settings import SimAddress


class SimulatorProcess:
    """`**options` are `cja-sync simulate`'s flags (`rate_limit="12/6"`, `inline_backfills="off"`...);
    its stderr goes to `log_path`."""

    def __init__(self, log_path: Path, cwd: Path | None = None, **options: Any) -> None:
        args = [sys.executable, "-m", "cja_source.simulator", "--port", "0"]
        for name, value in options.items():
            args += [f"--{name.replace('_', '-')}", str(value)]
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._log, text=True, cwd=cwd)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("base_url="):
            self.stop()
            raise RuntimeError(f"simulator did not start: {line!r} (see {log_path})")
        self.address = SimAddress.from_line(line)

    def admin(self, action: str, body: dict[str, Any] | None = None) -> Any:
        r = requests.post(f"{self.address.base_url}/__admin/{action}", json=body or {}, timeout=120)
        r.raise_for_status()
        return r.json()

    def get(self, what: str) -> Any:
        r = requests.get(f"{self.address.base_url}/__admin/{what}", timeout=600)
        r.raise_for_status()
        return r.json()

    def count(self, endpoint: str | None = None, status: int | str | None = None) -> int:
        """As Simulator.count: requests answered so far, of one endpoint and one status when given."""
        return count_in(self.get("counters"), endpoint, status)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()
