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
DATA_VIEWS_KEY = "unlisted_data_views"


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


def record_data_views(org_id: str, at: datetime, ids: list[str]) -> None:
    """The org's live stored data views the (complete) data view listing did not return."""
    state = dlt.current.source_state().setdefault(DATA_VIEWS_KEY, {})
    state[org_id] = {"at": at.isoformat(), "ids": ids}


def recorded_data_views(pipeline_state: Any, source_name: str, org_id: str) -> tuple[str, list[str]] | None:
    """(the run's start as ISO text, the data view ids it did not list) as the last extract left it."""
    try:
        entry = pipeline_state["sources"][source_name][DATA_VIEWS_KEY][org_id]
        return str(entry["at"]), [str(i) for i in entry["ids"]]
    except (KeyError, TypeError, ValueError):
        return None
