"""`alert_deliveries`: what each sink was last told about each org, so that a sink that failed
gets what it missed next time and the others are not told twice.

One row per (org, sink): `through_run_id`/`through_at` name the latest recorded sync whose spells
the sink was told (health_alerts' `_recorded` marker at that time; spells opened after it are new
to the sink, spells closed after it are resolved); `sync_stale_since` whether it was told that
syncs stopped. A failure leaves those as they were and says when and why (never the URL)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..warehouse.freshness import utc
from ..warehouse.health_alerts import DELIVERIES, DELIVERIES_CREATE

TABLE, CREATE = DELIVERIES, DELIVERIES_CREATE

COLUMNS = (
    "org_id",
    "sink",
    "through_run_id",
    "through_at",
    "delivered_at",
    "reminded_at",
    "sync_stale_since",
    "failing_since",
    "failures",
    "last_failure",
)
TIMES = ("through_at", "delivered_at", "reminded_at", "sync_stale_since", "failing_since")


def ensure_table(sql: Any) -> None:
    sql.execute_sql(CREATE.format(t=sql.make_qualified_table_name(TABLE)))


def read_states(sql: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """{(org_id, sink): its row}; timestamps as aware UTC datetimes."""
    rows = sql.execute_sql(f"SELECT {', '.join(COLUMNS)} FROM {sql.make_qualified_table_name(TABLE)}")
    out = {}
    for row in rows or ():
        state = dict(zip(COLUMNS, row, strict=True))
        for name in TIMES:
            state[name] = utc(state[name])
        out[(str(state["org_id"]), str(state["sink"]))] = state
    return out


def write_state(sql: Any, state: dict[str, Any]) -> None:
    """Replace the row of (org_id, sink) with `state` (call inside a transaction)."""
    t = sql.make_qualified_table_name(TABLE)
    sql.execute_sql(f"DELETE FROM {t} WHERE org_id = %s AND sink = %s", state["org_id"], state["sink"])
    sql.execute_sql(
        f"INSERT INTO {t} ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})",
        *(state.get(c) if c != "failures" else int(state.get(c) or 0) for c in COLUMNS),
    )


def delivered(
    old: dict[str, Any] | None,
    org_id: str,
    sink: str,
    through: tuple[str, Any] | None,
    now: datetime,
    stale_since: datetime | None,
    told_everything: bool,
) -> dict[str, Any]:
    """The row after a delivery: told through `through` (run_id, started_at), sync_stale as now."""
    return {
        "org_id": org_id,
        "sink": sink,
        "through_run_id": through[0] if through else None,
        "through_at": utc(through[1]) if through else None,
        "delivered_at": now,
        "reminded_at": now if told_everything else (old or {}).get("reminded_at"),
        "sync_stale_since": stale_since,
        "failing_since": None,
        "failures": 0,
        "last_failure": None,
    }


def failed(old: dict[str, Any] | None, org_id: str, sink: str, now: datetime, reason: str) -> dict[str, Any]:
    """The row after a failed delivery: what was told stays, the failure is counted."""
    state = dict(old or {"org_id": org_id, "sink": sink, "failures": 0})
    state["failing_since"] = state.get("failing_since") or now
    state["failures"] = int(state.get("failures") or 0) + 1
    state["last_failure"] = reason[:300]
    return state
