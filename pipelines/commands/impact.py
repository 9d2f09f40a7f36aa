"""What `health` shows of data views: the data views each connection needing attention feeds, the
data views whose components read each problem dataset (with data_view_components), and the orphan
counts. Read from the impact views (sql/connection_impact.sql, dataset_impact, orphan_*)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..report.impact import orphan_counts_sql
from ..text import cut

# data view names shown per connection or dataset; the rest is counted
NAMES_SHOWN = 5


def read_impact(reader: Any) -> dict[str, list[dict[str, Any]]]:
    """{"connections": (connection, data view) of connections with severity >= 3, "datasets":
    (dataset, data view) of datasets failed, stuck or stale, "orphans": counts per org}."""
    q, rows = reader.q, reader.rows
    return {
        "connections": rows(
            "SELECT org_id, connection_id, connection_name, data_view_id, data_view_name, worst_status "
            f"FROM {q('connection_impact')} WHERE severity >= 3 "
            "ORDER BY severity DESC, connection_name, connection_id, data_view_name, data_view_id"
        ),
        "datasets": rows(
            "SELECT org_id, connection_id, data_set_id, data_view_id, data_view_name, components "
            f"FROM {q('dataset_impact')} WHERE health_status IN ('FAILED', 'STUCK') OR is_stale "
            "ORDER BY connection_id, data_set_id, data_view_name, data_view_id"
        ),
        "orphans": rows(orphan_counts_sql(q)),
    }


def only_org(impact: dict[str, list[dict[str, Any]]], org_id: str) -> dict[str, list[dict[str, Any]]]:
    return {key: [r for r in rows if r["org_id"] == org_id] for key, rows in impact.items()}


def names_by(rows: list[dict[str, Any]], *key: str) -> dict[tuple[Any, ...], list[str]]:
    """{key: data view names} in the order read."""
    out: dict[tuple[Any, ...], list[str]] = defaultdict(list)
    for r in rows:
        out[tuple(r[k] for k in key)].append(r["data_view_name"] or r["data_view_id"])
    return out


def listed(names: list[str]) -> str:
    shown = ", ".join(cut(n, 40) for n in names[:NAMES_SHOWN])
    return shown + (f" (+{len(names) - NAMES_SHOWN} more)" if len(names) > NAMES_SHOWN else "")


def print_impact(
    impact: dict[str, list[dict[str, Any]]] | None,
    problems: list[dict[str, Any]],
    limit: int | None,
) -> None:
    """Data views beside the problem datasets and the connections needing attention, then orphans.
    `problems`: the datasets `health` lists (the data views of their connection are the ones hit
    when no component says which read the dataset)."""
    if not impact:
        return
    by_connection = names_by(impact["connections"], "connection_id", "connection_name")
    by_dataset = names_by(impact["datasets"], "connection_id", "data_set_id")
    if by_connection:
        items = list(by_connection.items())
        shown = items if limit is None else items[:limit]
        print(f"data views fed by connections needing attention ({len(shown)} of {len(items)} connections):")
        for (cid, name), names in shown:
            print(f"  {cut(name or cid, 40)} ({cut(cid, 45)}): {listed(names)}")
    read = [(r, by_dataset[(r["connection_id"], r["data_set_id"])]) for r in problems]
    read = [(r, names) for r, names in read if names]
    if read:
        shown_read = read if limit is None else read[:limit]
        print(f"data views whose components read a problem dataset ({len(shown_read)} of {len(read)}):")
        for r, names in shown_read:
            name = cut(r["data_set_name"] or r["data_set_id"], 40)
            print(f"  {name} ({cut(r['data_set_id'], 30)}): {listed(names)}")
    for o in impact["orphans"]:
        if o["orphan_connections"] or o["orphan_data_views"]:
            print(
                f"orphans of {cut(o['org_id'], 60)}: {o['orphan_connections']} connections feed no "
                f"data view, {o['orphan_data_views']} data views read a missing or deleted connection"
            )
