"""What the listing did not return, kept in the source's dlt state for the step after the load.

Rows the listing returned unchanged are no longer written, so `last_seen_at` no longer tells a
listed row from a deleted one: the listing itself says which stored connections and datasets it
did not return (changes.Unlisted), and `cja_sync`'s reconcile marks those deleted in source, inside
the listing's filters. The state travels with the pipeline (`pipeline.state`), so a plain
`pipeline.run(cja_source())` followed by `finish_sync(pipeline)` finds it too."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dlt

from .changes import Unlisted

STATE_KEY = "unlisted"


def record(org_id: str, at: datetime, unlisted: Unlisted) -> None:
    """Into the running source's state (called by the listing resource once it is complete)."""
    state = dlt.current.source_state().setdefault(STATE_KEY, {})
    state[org_id] = {
        "at": at.isoformat(),
        "connections": sorted(unlisted.connections),
        "pairs": [list(p) for p in sorted(unlisted.pairs)],
    }


def recorded(pipeline_state: Any, source_name: str, org_id: str) -> tuple[str, Unlisted] | None:
    """(the run's start as ISO text, what it did not list) as the last extract of the org left it."""
    try:
        entry = pipeline_state["sources"][source_name][STATE_KEY][org_id]
        return str(entry["at"]), Unlisted(
            {str(c) for c in entry["connections"]}, {(str(c), str(d)) for c, d in entry["pairs"]}
        )
    except (KeyError, TypeError, ValueError):
        return None
