"""Which (connection, dataset) pairs need their backfills asked for: the contract's normative rule."""

from __future__ import annotations

from enum import Enum
from typing import Any

from .stored_pairs import PairState, SummaryKey


class Plan(Enum):
    SKIP = "skip"  # unchanged since the last successful sync, or no backfills at all
    INLINE = "inline"  # take the list that came with the listing
    FETCH = "fetch"  # call the backfills endpoint
    MISSING = "missing"  # `inline` mode, but the listing carried no list


def plan_pair(
    mode: str, full: bool, state: PairState | None, summary: SummaryKey | None, inline: list[Any] | None
) -> Plan:
    """A pair is asked when new, when its backfillSummary moved, or with --full; never when its
    total is 0. Every status change moves the summary, so unchanged pairs need no call even while
    they hold open backfills."""
    if summary is not None and summary[0] == 0:
        return Plan.SKIP
    changed = full or state is None or state.summary is None or summary is None or state.summary != summary
    if not changed:
        return Plan.SKIP
    if mode == "endpoint":
        return Plan.FETCH
    if inline is not None and (summary is None or len(inline) == summary[0] or mode == "inline"):
        return Plan.INLINE
    return Plan.MISSING if mode == "inline" else Plan.FETCH
