"""Backfill status changes made in a simulator between two syncs, and the check that the warehouse
recorded each of them once: what two overlapping runs of one org break (both read the same
snapshot, so both record every change they see)."""

from __future__ import annotations

from typing import Any

from .helpers import query


def change_backfill_statuses(sim: Any, count: int = 3) -> dict[str, tuple[str, str]]:
    """Move `count` backfills to another status: {backfill_id: (before, after)}."""
    backfills = sim.truth().backfills
    changed: dict[str, tuple[str, str]] = {}
    for bid in sorted(backfills)[:count]:
        before = backfills[bid]["status"]
        after = "COMPLETED" if before == "FAILED" else "FAILED"
        sim.set_backfill_status(bid, after)
        changed[bid] = (before, after)
    assert len(changed) == count, "the simulated org has too few backfills"
    return changed


def assert_each_status_change_once(opts: Any, changed: dict[str, tuple[str, str]]) -> None:
    twice = query(
        opts,
        "SELECT backfill_id, from_status, to_status, count(*) FROM {t}backfill_status_changes "
        "GROUP BY 1, 2, 3 HAVING count(*) > 1",
    )
    assert twice == [], f"status changes recorded more than once: {twice}"
    seen = query(
        opts,
        "SELECT backfill_id, from_status, to_status FROM {t}backfill_status_changes "
        "WHERE from_status IS NOT NULL",
    )
    assert sorted(seen) == sorted((bid, old, new) for bid, (old, new) in changed.items())
