"""P8: data views of the reference org. The listing every sync asks, the component lists of a first
sync with `data_view_components` on, of an idle re-sync and of a re-sync after four changes."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

from harness import Sim, data_requests, row, sync

DATA_VIEW_ENDPOINTS = ("dataviews", "dimensions", "metrics")


def p11(args: argparse.Namespace, workdir: Path) -> None:
    sim = Sim(workdir, connections=args.connections, rate_limit="off", seed=args.seed)
    try:
        views = sim.get("data_views")["data_views"]
        live = [i for i, v in views.items() if not v["isDeleted"]]
        pages = max(1, math.ceil(len(views) / 1000))
        name = "p8"
        t0 = time.monotonic()
        first, _ = sync(sim, workdir, name, data_view_components=True)
        wall = time.monotonic() - t0
        r1 = data_requests(first)
        lists = _component_lists(r1)
        row(
            "P11",
            f"first sync, data_view_components on ({len(views)} data views, {len(live)} live)",
            f"{r1.get('dataviews', 0)} listing pages, {lists} component lists, {wall:.1f} s",
            f"<= {pages} pages, == {2 * len(live)} lists",
            r1.get("dataviews", 0) <= pages and lists == 2 * len(live),
            f"[{first.rows.get('data_view_components')} components; at 12 req / 6 s the lists take "
            f"~{lists / 2 / 60:.0f} min]",
        )
        idle, _ = sync(sim, workdir, name, data_view_components=True)
        r2 = data_requests(idle)
        lists = _component_lists(r2)
        row(
            "P11",
            "re-sync, nothing changed",
            f"{r2.get('dataviews', 0)} listing pages, {lists} component lists",
            f"<= {min(2, pages)} pages, 0 lists",
            r2.get("dataviews", 0) <= 2 and lists == 0,
        )
        conns = sorted({v["parentDataGroupId"] for v in views.values()})
        moved, grown, deleted = live[:3]
        sim.admin("advance", {"minutes": 5})
        sim.admin("move_data_view", {"dataViewId": moved, "connectionId": conns[-1]})
        sim.admin("add_component", {"dataViewId": grown, "kind": "dimension"})
        sim.admin("delete_data_view", {"dataViewId": deleted})
        sim.admin("add_data_view", {"connectionId": conns[0]})
        changed, _ = sync(sim, workdir, name, data_view_components=True)
        r3 = data_requests(changed)
        lists = _component_lists(r3)
        row(
            "P11",
            "re-sync after a move, a new dimension, a deletion and a new data view",
            f"{r3.get('dataviews', 0)} listing pages, {lists} component lists",
            "<= 8 lists",
            lists <= 8,
        )
    finally:
        sim.stop()


def _component_lists(requests: dict[str, int]) -> int:
    """Component list requests of a sync: one per dimensions list, one per metrics list."""
    return requests.get("dimensions", 0) + requests.get("metrics", 0)
