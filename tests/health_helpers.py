"""Plain helpers for the health tests: syncing a simulator, reading views, and the
answers the views must give, computed from the simulator's ground truth."""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import dlt

from cja_source.simulator import Simulator
from cja_source.simulator.model import parse_iso_ms
from cja_source.simulator.settings import settings_for
from cja_source.simulator.truth import Truth
from cja_sync.run.sync import RunOptions, make_pipeline, run_sync
from cja_sync.warehouse.views import create_views

os.environ["RUNTIME__LOG_LEVEL"] = "ERROR"
OPEN = ("IN_PROGRESS", "IN_QUEUE")
HOUR_MS = 3_600_000


def duckdb_options(tmp: Path) -> RunOptions:
    return RunOptions(
        destination="duckdb",
        duckdb_path=str(tmp / "w.duckdb"),
        dataset_name="cja",
        pipelines_dir=str(tmp / "pipes"),
    )


def sync(sim: Simulator, opts: RunOptions) -> dlt.Pipeline:
    """One sync plus the views, as run_sync will do itself once it calls create_views."""
    cfg = settings_for(sim, page_size=100)
    run_sync(cfg, opts)
    pipeline = make_pipeline(opts)
    create_views(pipeline, cfg.health)
    return pipeline


def view_rows(pipeline: dlt.Pipeline, sql_text: str, *args: Any) -> list[dict[str, Any]]:
    """Rows as dicts; `{t}` placeholders name tables/views qualified with the dataset."""
    with pipeline.sql_client() as sql:
        text = sql_text
        for name in _names(sql_text):
            text = text.replace("{" + name + "}", sql.make_qualified_table_name(name))
        with sql.execute_query(text, *args) as cur:
            names = [d[0] for d in cur.description]
            return [dict(zip(names, _norm_row(r), strict=True)) for r in cur.fetchall()]


def _names(text: str) -> list[str]:
    out, rest = [], text
    while "{" in rest:
        start = rest.index("{")
        end = rest.index("}", start)
        out.append(rest[start + 1 : end])
        rest = rest[end + 1 :]
    return out


def _norm_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Same Python values from either database: UTC datetimes, floats for numerics."""
    out = []
    for v in row:
        if isinstance(v, datetime):
            v = v.astimezone(UTC)
        elif isinstance(v, Decimal | float):
            v = round(float(v), 6)
        out.append(v)
    return tuple(out)


def as_of(pipeline: dlt.Pipeline) -> datetime:
    return view_rows(pipeline, "SELECT as_of FROM {health_reference}")[0]["as_of"]


def truth_at_reference(sim: Simulator, pipeline: dlt.Pipeline) -> Truth:
    """The views measure ages against the latest successful sync's finish time, the simulator against
    its own clock. Moving the simulator's clock to exactly that finish time (it only changes what
    "now" means, not the org) makes its ground truth answer the same question: exact, no margins."""
    sim.set_now(as_of(pipeline))
    return sim.truth()


def expected_pairs(truth: Truth, stuck_hours: float, stale_hours: float) -> dict[tuple[str, str], dict]:
    """backfill_health per (connection, dataset), straight from the issue's rules."""
    stuck_cut = truth.now_ms - stuck_hours * HOUR_MS
    stale_cut = truth.now_ms - stale_hours * HOUR_MS
    by_pair: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for b in truth.backfills.values():
        by_pair[(b["connectionId"], b["dataSetId"])].append(b)
    out = {}
    for key, d in truth.datasets.items():
        bfs = by_pair.get(key, [])
        counts = Counter(b["status"] for b in bfs)
        created = {s: [parse_iso_ms(b["createdDate"]) for b in bfs if b["status"] == s] for s in counts}
        stuck = sum(1 for b in bfs if b["status"] in OPEN and parse_iso_ms(b["createdDate"]) < stuck_cut)
        last_c = max(created.get("COMPLETED", []), default=None)
        last_f = max(created.get("FAILED", []), default=None)
        if stuck:
            status = "STUCK"
        elif last_f is not None and (last_c is None or last_f >= last_c):
            status = "FAILED"
        elif counts["IN_PROGRESS"] + counts["IN_QUEUE"]:
            status = "IN_PROGRESS"
        elif last_c is not None:
            status = "HEALTHY"
        else:
            status = "NO_BACKFILLS"
        li = d.get("lastIngestedTime")
        out[key] = {
            "completed_count": counts["COMPLETED"],
            "failed_count": counts["FAILED"],
            "in_progress_count": counts["IN_PROGRESS"],
            "in_queue_count": counts["IN_QUEUE"],
            "stuck_count": stuck,
            "health_status": status,
            "is_stale": bool(d.get("streaming")) and (li is None or parse_iso_ms(li) < stale_cut),
        }
    return out


def expected_connections(truth: Truth, pairs: dict[tuple[str, str], dict]) -> dict[str, dict]:
    errors = Counter(e["connectionId"] for e in truth.validation_errors)
    out = {}
    for cid in truth.connections:
        mine = [p for (c, _), p in pairs.items() if c == cid]
        statuses = Counter(p["health_status"] for p in mine)
        row = {
            "datasets": len(mine),
            "datasets_stuck": statuses["STUCK"],
            "datasets_failed": statuses["FAILED"],
            "datasets_stale": sum(p["is_stale"] for p in mine),
            "backfills_stuck": sum(p["stuck_count"] for p in mine),
            "validation_errors": errors[cid],
        }
        for name, holds in (
            ("STUCK", statuses["STUCK"]),
            ("FAILED", statuses["FAILED"]),
            ("STALE", row["datasets_stale"]),
            ("VALIDATION_ERRORS", row["validation_errors"]),
            ("IN_PROGRESS", statuses["IN_PROGRESS"]),
            ("HEALTHY", statuses["HEALTHY"]),
            ("NO_BACKFILLS", True),
        ):
            if holds:
                row["worst_status"] = name
                break
        out[cid] = row
    return out
