"""What every benchmark row shares: the result list, simulators in their own process, and in-process
syncs that log every HTTP request."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable


from cja_source.simulator.process import SimulatorProcess  # noqa: E402
from cja_source.simulator.settings import settings_for  # noqa: E402

if TYPE_CHECKING:
    from cja_sync.run.record import RunSummary

RESULTS: list[dict[str, Any]] = []


def row(rid: str, scenario: str, figure: str, target: str, ok: bool | None, detail: str = "") -> None:
    r = {
        "row": rid,
        "scenario": scenario,
        "figure": figure,
        "target": target,
        "result": "PASS" if ok else ("FAIL" if ok is not None else "n/a"),
        "detail": detail,
    }
    RESULTS.append(r)
    print(f"  [{r['result']}] {rid} {scenario}: {figure} (target {target}) {detail}", flush=True)


# ----------------------------------------------------------------------------- simulator process


class Sim(SimulatorProcess):
    """`cja-sync simulate` in its own process, so its generation and memory do not touch the sync's."""

    def __init__(self, workdir: Path, **opts: Any) -> None:
        super().__init__(workdir / f"sim-{os.getpid()}-{time.monotonic_ns()}.log", cwd=ROOT, **opts)

    def rss_mb(self) -> float:
        return rss_mb(self.proc.pid, "VmHWM")


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# ----------------------------------------------------------------------------- in-process syncs


def settings(sim: Sim, **kw: Any) -> Any:
    """Throttle off, big pages, auto backfills, unless a row overrides them."""
    return settings_for(
        sim.address,
        **{
            "page_size": 1000,
            "requests_per_window": 1_000_000,
            "window_seconds": 1,
            "max_concurrency": 8,
            "backfills": "auto",
            **kw,
        },
    )


def endpoint_of(url: str) -> str:
    path = urlsplit(url).path.rstrip("/")
    if path.endswith("/ims/token/v3"):
        return "token"
    if path.endswith("/backfills"):
        return "backfills"
    if path.endswith("/configurationSettings"):
        return "configurationSettings"
    if path.endswith("/data/connections"):
        return "list"
    return "get"


def sync(
    sim: Sim, workdir: Path, name: str, **kw: Any
) -> tuple[RunSummary, list[tuple[float, float, str, Any]]]:
    """One run_sync in this process; returns the summary and every HTTP request the client sent
    as (start, end, endpoint, status), from a wrapper around its requests.Session.send."""
    from cja_source import make_client
    from cja_sync.run.sync import RunOptions, run_sync

    cfg = settings(sim, **kw)
    client = make_client(cfg)
    log: list[tuple[float, float, str, Any]] = []
    log_requests(client, log)
    opts = RunOptions(
        duckdb_path=str(workdir / f"{name}.duckdb"),
        pipelines_dir=str(workdir / "pipelines"),
        pipeline_name=name,
    )
    summary = run_sync(cfg, opts, client)
    return summary, log


def data_requests(summary: RunSummary) -> dict[str, int]:
    return dict(summary.requests)


def log_requests(client: Any, log: list[tuple[float, float, str, Any]]) -> Any:
    """Record every request `client` sends as (start, end, endpoint, status) in `log`."""
    orig = client.session.send

    def send(req: Any, **k: Any) -> Any:
        t0 = time.monotonic()
        status: Any = "error"
        try:
            resp = orig(req, **k)
            status = resp.status_code
            return resp
        finally:
            log.append((t0, time.monotonic(), endpoint_of(req.url), status))

    client.session.send = send
    return client
