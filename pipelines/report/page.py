"""The dashboard page: tiles, the four charts and two tables in one HTML file, plotly.js inlined.
Every value from the API is text: HTML-escaped with its control characters made visible, and the
figure JSON escaped so that nothing in it can end or comment out the script element around it."""

from __future__ import annotations

import html
import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from ..text import cut, hours, json_default, ts
from .figures import CHART_IDS, WORST_CONNECTIONS, figures, thresholds
from .history import HISTORY_CHART_IDS, history_tables_html
from .impact import impact_html
from .queries import CHANGES_LIMIT

STALE_BADGE = ' <span class="badge s-STALE">STALE</span>'
CELL_COLUMNS = 120
# inside a <script> element only these can end it early or open a comment (`</script>`, `<!--`);
# U+2028/U+2029 end a line in older JavaScript parsers
_SCRIPT_SAFE = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def figures_json(data: dict[str, Any]) -> str:
    """The figures as JSON that is safe inside a script element (the escapes only occur inside
    JSON strings, where JSON.parse turns them back into the same characters)."""
    text = json.dumps(figures(data), default=json_default, separators=(",", ":"), ensure_ascii=False)
    return text.translate(_SCRIPT_SAFE)


def render_html(data: dict[str, Any]) -> str:
    from plotly.offline import get_plotlyjs

    payload = figures_json(data)
    charts = "\n".join(
        f'<section class="chart"><div id="{cid}" class="plot"></div></section>'
        for cid in CHART_IDS + HISTORY_CHART_IDS
    )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    stuck_after, stale_after = thresholds(data)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CJA connection health</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>CJA connection health</h1>
<p class="meta">Stuck after {hours(stuck_after)}, stale after {hours(stale_after)}. Ages are measured at the
finish of the latest successful sync (as of), not at the time of this report ({generated}).</p>
{_sync_stale_html(data)}
</header>
{_fleet_html(data)}
{_summary_html(data)}
<main>
{charts}
{_worst_table_html(data)}
{impact_html(data)}
{_changes_html(data)}
{history_tables_html(data)}
</main>
<script>{get_plotlyjs()}</script>
<script id="report-figures" type="application/json">{payload}</script>
<script>
(function () {{
  var figs = JSON.parse(document.getElementById("report-figures").textContent);
  var config = {{displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud"]}};
  var pending = Object.keys(figs).map(function (id) {{
    return Plotly.newPlot(id, figs[id].data, figs[id].layout, config);
  }});
  Promise.all(pending).then(function () {{ document.body.setAttribute("data-charts-ready", "true"); }});
}})();
</script>
</body>
</html>
"""


FLEET_COLUMNS = (
    ("connections", "connections"),
    ("connections_unhealthy", "need attention"),
    ("datasets_failed", "failed datasets"),
    ("datasets_stuck", "stuck datasets"),
    ("datasets_stale", "stale datasets"),
    ("backfills_stuck", "stuck backfills"),
    ("validation_errors", "validation errors"),
)


def _sync_stale_html(data: dict[str, Any]) -> str:
    """sync_stale in the header: the page is as old as the last sync, whatever its tiles say."""
    return "".join(
        f'<p class="sync-stale">sync_stale: no successful sync of {_e(s["subject"])} for '
        f"{_e(hours(s['hours_since']))} (more than {_e(hours(s['after_hours']))}); everything below is "
        f"as of {_e(s['last_success_at'][:16].replace('T', ' '))} UTC. Is the scheduled cja-sync run "
        "still running?</p>"
        for s in data.get("sync_stale") or []
    )


def _fleet_html(data: dict[str, Any]) -> str:
    """With several orgs in the dataset, one table of them all, worst first, above each org's tiles."""
    orgs = data["orgs"]
    if len(orgs) < 2:
        return ""
    worst = sorted(orgs, key=lambda o: tuple(-int(o[c] or 0) for c, _ in FLEET_COLUMNS[1:]) + (o["org_id"],))
    head = "".join(f"<th>{_e(label)}</th>" for _, label in FLEET_COLUMNS)
    body = "".join(
        f'<tr data-org="{_e(o["org_id"])}"><td>{_e(o["org_id"])}</td><td>{_e(ts(o["as_of"]))}</td>'
        + "".join(f"<td>{_e(o[c])}</td>" for c, _ in FLEET_COLUMNS)
        + "</tr>"
        for o in worst
    )
    return (
        f'<section class="fleet" id="fleet"><h2>Fleet: {len(orgs)} orgs</h2>'
        f"<table><thead><tr><th>org</th><th>as of</th>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table></section>"
    )


def _summary_html(data: dict[str, Any]) -> str:
    parts = []
    for org in data["orgs"]:
        tiles = [
            ("connections", org["connections"], ""),
            ("need attention", org["connections_unhealthy"], "bad" if org["connections_unhealthy"] else ""),
            ("datasets", org["datasets"], ""),
            ("stuck datasets", org["datasets_stuck"], "bad" if org["datasets_stuck"] else ""),
            ("failed datasets", org["datasets_failed"], "bad" if org["datasets_failed"] else ""),
            ("stale datasets", org["datasets_stale"], "warn" if org["datasets_stale"] else ""),
            ("backfills", org["backfills_total"], ""),
            ("stuck backfills", org["backfills_stuck"], "bad" if org["backfills_stuck"] else ""),
            ("validation errors", org["validation_errors"], "warn" if org["validation_errors"] else ""),
        ]
        body = "".join(
            f'<div class="tile {cls}" data-field="{_e(label)}"><div class="n">{_e(value)}</div>'
            f'<div class="l">{_e(label)}</div></div>'
            for label, value, cls in tiles
        )
        parts.append(
            f'<section class="org"><h2>{_e(org["org_id"])}</h2>'
            f'<p class="meta">as of {_e(ts(org["as_of"]))}</p><div class="tiles">{body}</div></section>'
        )
    return "\n".join(parts)


def _worst_table_html(data: dict[str, Any]) -> str:
    by_conn: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for d in data["datasets"]:
        by_conn[d["connection_id"]].append(d)
    rows = []
    for c in data["connections"][:WORST_CONNECTIONS]:
        datasets = sorted(
            by_conn.get(c["connection_id"], []),
            key=lambda d: (-(d["severity"] or 0), not d["is_stale"], d["data_set_name"] or ""),
        )
        inner = "".join(
            "<tr>"
            f"<td>{_e(d['data_set_name'] or d['data_set_id'])}</td>"
            f'<td><span class="badge s-{_e(d["health_status"])}">{_e(d["health_status"])}</span>'
            f"{STALE_BADGE if d['is_stale'] else ''}</td>"
            f"<td>{_e(d['data_set_type'] or '')}</td>"
            f"<td>{'streaming' if d['streaming'] else 'batch'}</td>"
            f"<td>{_e(ts(d['last_ingested_time']))}</td>"
            f"<td>{_e(d['failed_count'])}/{_e(d['stuck_count'])}/"
            f"{_e(d['in_progress_count'])}/{_e(d['in_queue_count'])}</td>"
            f"<td>{'' if d['oldest_open_age_hours'] is None else _e(hours(d['oldest_open_age_hours']))}</td>"
            "</tr>"
            for d in datasets
        )
        rows.append(
            f'<tr class="conn" data-connection-id="{_e(c["connection_id"])}">'
            f"<td><details><summary>{_e(c['connection_name'] or '(no name)')} "
            f'<span class="id">{_e(c["connection_id"])}</span></summary>'
            '<table class="inner"><thead><tr><th>dataset</th><th>health</th><th>type</th><th>kind</th>'
            "<th>last ingested</th><th>failed/stuck/running/queued</th><th>oldest open</th></tr></thead>"
            f"<tbody>{inner}</tbody></table></details></td>"
            f'<td><span class="badge s-{_e(c["worst_status"])}">{_e(c["worst_status"])}</span></td>'
            f"<td>{_e(c['datasets'])}</td><td>{_e(c['datasets_stuck'])}</td><td>{_e(c['datasets_failed'])}</td>"
            f"<td>{_e(c['datasets_stale'])}</td><td>{_e(c['validation_errors'])}</td></tr>"
        )
    return (
        '<section class="table" id="worst-connections"><h2>Worst connections first</h2>'
        "<table><thead><tr><th>connection (open for its datasets)</th><th>worst status</th><th>datasets</th>"
        "<th>stuck</th><th>failed</th><th>stale</th><th>validation errors</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _changes_html(data: dict[str, Any]) -> str:
    changes = data["changes"]
    if not changes:
        body = '<p class="meta">No configuration change seen since the first sync.</p>'
    else:
        body = (
            "<table><thead><tr><th>seen at</th><th>connection</th><th>dataset</th><th>field</th>"
            "<th>change</th><th>old value</th><th>new value</th></tr></thead><tbody>"
            + "".join(
                "<tr>"
                f"<td>{_e(ts(r['changed_at']))}</td>"
                f"<td>{_e(r['connection_name'] or '(no name)')} "
                f'<span class="id">{_e(r["connection_id"])}</span></td>'
                f"<td>{_e(r['data_set_id'] or '')}</td><td>{_e(r['field'])}</td><td>{_e(r['change'])}</td>"
                f"<td>{_e(r['old_value'])}</td><td>{_e(r['new_value'])}</td>"
                "</tr>"
                for r in changes
            )
            + "</tbody></table>"
        )
    return (
        '<section class="table" id="changes"><h2>Latest configuration changes</h2>'
        f'<p class="meta">From connection_changes, newest first (at most {CHANGES_LIMIT}).</p>'
        f"{body}</section>"
    )


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;
padding:16px 24px;color:#212121;background:#fff}
h1{margin:8px 0 4px}h2{margin:24px 0 8px;font-size:1.2em}
.meta{color:#616161;font-size:.9em;margin:4px 0}
.sync-stale{color:#c62828;font-weight:600;margin:4px 0}
.tiles{display:flex;flex-wrap:wrap;gap:8px}
.tile{border:1px solid #e0e0e0;border-radius:6px;padding:8px 12px;min-width:110px}
.tile .n{font-size:1.6em;font-weight:600}.tile .l{color:#616161;font-size:.85em}
.tile.bad{border-color:#c62828}.tile.bad .n{color:#c62828}
.tile.warn{border-color:#ef6c00}.tile.warn .n{color:#ef6c00}
.chart{border:1px solid #eee;border-radius:6px;margin:16px 0;padding:4px}
.plot{width:100%;min-height:360px}
table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eee;vertical-align:top}
table.inner{margin:6px 0 6px 12px;width:auto}
summary{cursor:pointer}.id{color:#757575;font-size:.8em}
.badge{display:inline-block;padding:1px 6px;border-radius:4px;font-size:.8em;color:#fff;background:#757575}
.s-STUCK{background:#6a1b9a}.s-FAILED{background:#c62828}.s-STALE{background:#ef6c00}
.s-VALIDATION_ERRORS{background:#ad1457}.s-IN_PROGRESS{background:#1565c0}.s-HEALTHY{background:#2e7d32}
.s-NO_BACKFILLS{background:#9e9e9e}
"""


def _e(value: Any, limit: int = CELL_COLUMNS) -> str:
    return html.escape(cut(value, limit))
