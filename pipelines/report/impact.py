"""The dashboard's impact section: the data views each connection needing attention feeds, the
data views whose components read a problem dataset (with data_view_components), and the orphan
counts per org. Read from the impact views; every name is HTML-escaped."""

from __future__ import annotations

import html
from collections import defaultdict
from typing import Any

from ..text import cut

# connections listed in the section, worst first
IMPACT_CONNECTIONS = 50
NAMES_SHOWN = 8


def orphan_counts_sql(q: Any) -> str:
    """Per org: how many live connections no live data view reads, and how many live data views
    read a missing or deleted connection (`health` and the report show the same counts)."""
    return (
        "SELECT o.org_id, "
        f"(SELECT COUNT(*) FROM {q('orphan_connections')} AS c WHERE c.org_id = o.org_id) "
        "AS orphan_connections, "
        f"(SELECT COUNT(*) FROM {q('orphan_data_views')} AS v WHERE v.org_id = o.org_id) "
        "AS orphan_data_views "
        f"FROM {q('org_health_summary')} AS o ORDER BY o.org_id"
    )


def read_impact_data(rows: Any, q: Any) -> dict[str, Any]:
    return {
        "impact": rows(
            "SELECT org_id, connection_id, connection_name, worst_status, severity, data_view_id, "
            f"data_view_name FROM {q('connection_impact')} WHERE severity >= 3 "
            "ORDER BY severity DESC, connection_name, connection_id, data_view_name, data_view_id"
        ),
        "dataset_impact": rows(
            "SELECT connection_id, data_set_id, data_set_name, health_status, is_stale, data_view_id, "
            f"data_view_name, components FROM {q('dataset_impact')} "
            "WHERE health_status IN ('FAILED', 'STUCK') OR is_stale "
            "ORDER BY data_set_name, data_set_id, data_view_name, data_view_id"
        ),
        "orphans": rows(orphan_counts_sql(q)),
    }


def impact_html(data: dict[str, Any]) -> str:
    orphans = "".join(
        f'<div class="tile{" warn" if o[key] else ""}" data-field="{key}" data-org="{_e(o["org_id"])}">'
        f'<div class="n">{_e(o[key])}</div><div class="l">{label}</div></div>'
        for o in data.get("orphans") or ()
        for key, label in (
            ("orphan_connections", "connections no data view reads"),
            ("orphan_data_views", "data views on a missing or deleted connection"),
        )
    )
    conns: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for r in data.get("impact") or ():
        conns[(r["connection_id"], r["connection_name"] or "", r["worst_status"])].append(
            r["data_view_name"] or r["data_view_id"]
        )
    rows = "".join(
        f'<tr data-connection-id="{_e(cid)}">'
        f'<td>{_e(name or "(no name)")} <span class="id">{_e(cid)}</span></td>'
        f'<td><span class="badge s-{_e(status)}">{_e(status)}</span></td>'
        f"<td>{_e(len(names))}</td><td>{_names(names)}</td></tr>"
        for (cid, name, status), names in list(conns.items())[:IMPACT_CONNECTIONS]
    )
    datasets: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in data.get("dataset_impact") or ():
        datasets[(r["data_set_id"], r["data_set_name"] or "")].append(
            r["data_view_name"] or r["data_view_id"]
        )
    dataset_rows = "".join(
        f'<tr><td>{_e(name or dsid)} <span class="id">{_e(dsid)}</span></td><td>{_names(names)}</td></tr>'
        for (dsid, name), names in datasets.items()
    )
    table = (
        "<table><thead><tr><th>connection</th><th>worst status</th><th>data views</th><th>names</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
        if rows
        else '<p class="meta">No connection needing attention feeds a data view.</p>'
    )
    by_dataset = (
        "<h3>Problem datasets and the data views whose components read them</h3>"
        "<table><thead><tr><th>dataset</th><th>data views</th></tr></thead>"
        f"<tbody>{dataset_rows}</tbody></table>"
        if dataset_rows
        else ""
    )
    return (
        '<section class="table" id="impact"><h2>Impact: the data views a problem hits</h2>'
        f'<div class="tiles">{orphans}</div>{table}{by_dataset}</section>'
    )


def _names(names: list[str]) -> str:
    shown = ", ".join(_e(n, 60) for n in names[:NAMES_SHOWN])
    return shown + (f" (+{len(names) - NAMES_SHOWN} more)" if len(names) > NAMES_SHOWN else "")


def _e(value: Any, limit: int = 120) -> str:
    return html.escape(cut(value, limit))
