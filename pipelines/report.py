"""`cja-sync report --out health.html`: one self-contained HTML health dashboard.

Every figure comes from the health views (and, for the per-backfill charts, from `backfills`
restricted to the (connection, dataset) pairs `backfill_health` reports, so totals equal the views').
The charts are plotly figures; plotly.js is inlined once, so the file opens offline and asks no
network for anything (see docs/history-and-report.md for the choice).
"""

from __future__ import annotations

import argparse
import html
import json
import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dlt
import sqlglot

from .cli import EXIT_FAILED, EXIT_OK, options_from_args

STATUSES = ("COMPLETED", "FAILED", "IN_PROGRESS", "IN_QUEUE")
STATUS_COLORS = {
    "COMPLETED": "#2e7d32",
    "FAILED": "#c62828",
    "IN_PROGRESS": "#1565c0",
    "IN_QUEUE": "#90a4ae",
    "STUCK": "#6a1b9a",
    "HEALTHY": "#2e7d32",
    "NO_BACKFILLS": "#cfd8dc",
    "STALE": "#ef6c00",
    "FRESH": "#43a047",
    "NEVER": "#8d6e63",
}
# age bins (hours); the threshold is added as an edge so every bin lies on one side of it
AGE_EDGES_HOURS = (1, 6, 12, 24, 48, 72, 168, 336, 720, 2160, 4320, 8760)
WORST_CONNECTIONS = 25
CHANGES_LIMIT = 200
STALE_BADGE = ' <span class="badge s-STALE">STALE</span>'
CHART_IDS = ("chart-backfills-over-time", "chart-open-backfill-ages", "chart-ingestion-ages", "chart-worst")


def run_report(args: argparse.Namespace) -> int:
    from .health_cli import has_successful_sync, health_settings, print_no_sync
    from .sync import make_pipeline
    from .views import create_views, stored_thresholds, views_exist

    opts = options_from_args(args)
    where = (
        str(Path(opts.duckdb_path).resolve())
        if opts.destination == "duckdb"
        else f"{opts.destination} dataset {opts.dataset_name}"
    )
    # connecting to a DuckDB path that does not exist would create an empty file there
    if opts.destination == "duckdb" and not Path(opts.duckdb_path).exists():
        print_no_sync(where)
        return EXIT_FAILED
    # read-only: a sync can wait for readers; it cannot share the file with another writer
    pipeline = make_pipeline(opts, read_only=True)
    if not has_successful_sync(pipeline):
        print_no_sync(where)
        return EXIT_FAILED
    health = health_settings()
    wanted = (float(health.stuck_after_hours), float(health.stale_after_hours))
    if not views_exist(pipeline) or stored_thresholds(pipeline) != wanted:
        create_views(make_pipeline(opts), health)
    data = read_report_data(pipeline)
    out = Path(args.out or "health.html").resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(data), encoding="utf-8")
    print(out)
    return EXIT_OK


# ----- reading -----


def read_report_data(pipeline: dlt.Pipeline) -> dict[str, Any]:
    """Everything the dashboard shows, as plain Python values."""
    from .warehouse import existing_tables

    with pipeline.sql_client() as sql:
        dialect = getattr(sql.capabilities, "sqlglot_dialect", None) or "postgres"
        q = sql.make_qualified_table_name
        present = existing_tables(sql)

        def rows(text: str) -> list[dict[str, Any]]:
            statement = sqlglot.transpile(text, read="postgres", write=dialect)[0]
            with sql.execute_query(statement) as cur:
                names = [d[0] for d in cur.description]
                return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

        live = (
            f"JOIN (SELECT DISTINCT connection_id, data_set_id FROM {q('backfill_health')}) AS h "
            "ON h.connection_id = b.connection_id AND h.data_set_id = b.data_set_id"
        )
        has_backfills = "backfills" in present  # an org without a single backfill has no table
        data: dict[str, Any] = {
            "orgs": rows(f"SELECT * FROM {q('org_health_summary')} ORDER BY org_id"),
            "reference": rows(f"SELECT * FROM {q('health_reference')} ORDER BY org_id"),
            "backfills_by_day": rows(
                "SELECT CAST(b.created_date AT TIME ZONE 'UTC' AS DATE) AS day, b.status, COUNT(*) AS n "
                f"FROM {q('backfills')} AS b {live} GROUP BY 1, 2"
            )
            if has_backfills
            else [],
            "open_backfills": rows(
                "SELECT b.status, "
                "(EXTRACT(EPOCH FROM ref.as_of) - EXTRACT(EPOCH FROM b.created_date)) / 3600.0 AS age_hours, "
                "CASE WHEN EXTRACT(EPOCH FROM ref.as_of) - EXTRACT(EPOCH FROM b.created_date) "
                "> ref.stuck_after_hours * 3600 THEN TRUE ELSE FALSE END AS stuck "
                f"FROM {q('backfills')} AS b {live} "
                f"JOIN {q('health_reference')} AS ref ON ref.org_id = b.org_id "
                "WHERE b.status IN ('IN_PROGRESS', 'IN_QUEUE')"
            )
            if has_backfills
            else [],
            "datasets": rows(
                "SELECT connection_id, data_set_id, data_set_name, data_set_type, streaming, is_stale, "
                "last_ingested_time, health_status, severity, failed_count, stuck_count, "
                "in_progress_count, in_queue_count, oldest_open_age_hours, "
                "(EXTRACT(EPOCH FROM as_of) - EXTRACT(EPOCH FROM last_ingested_time)) / 3600.0 "
                f"AS hours_since_ingestion FROM {q('backfill_health')}"
            ),
            "connections": rows(
                f"SELECT * FROM {q('connection_health')} ORDER BY severity DESC, "
                "datasets_stuck + datasets_failed + datasets_stale DESC, validation_errors DESC, "
                "connection_name, connection_id"
            ),
            "changes": _changes(rows, q) if "connection_changes" in present else [],
        }
    return data


def _changes(rows: Any, q: Any) -> list[dict[str, Any]]:
    return rows(
        "SELECT connection_id, connection_name, data_set_id, field, change, old_value, new_value, "
        f"changed_at FROM {q('connection_changes')} "
        f"ORDER BY changed_at DESC, connection_name, field, data_set_id LIMIT {CHANGES_LIMIT}"
    )


# ----- figures -----


def thresholds(data: dict[str, Any]) -> tuple[float, float]:
    ref = data["reference"]
    if ref:
        return float(ref[0]["stuck_after_hours"]), float(ref[0]["stale_after_hours"])
    return 168.0, 48.0


def timeline(data: dict[str, Any]) -> dict[str, Any]:
    """Backfills by status per created day, week or month (whichever keeps the bars readable)."""
    by_day: dict[date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATUSES, 0))
    undated = dict.fromkeys(STATUSES, 0)
    for r in data["backfills_by_day"]:
        status = r["status"] if r["status"] in STATUSES else None
        if status is None:
            continue
        day = _as_date(r["day"])
        if day is None:
            undated[status] += int(r["n"])
        else:
            by_day[day][status] += int(r["n"])
    days = sorted(by_day)
    span = (days[-1] - days[0]).days if days else 0
    unit = "day" if span <= 62 else "week" if span <= 400 else "month"
    buckets: dict[date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATUSES, 0))
    for day in days:
        key = _bucket(day, unit)
        for status in STATUSES:
            buckets[key][status] += by_day[day][status]
    keys = sorted(buckets)
    return {
        "unit": unit,
        "x": [k.isoformat() for k in keys],
        "series": {s: [buckets[k][s] for k in keys] for s in STATUSES},
        "undated": undated,
    }


def age_bins(threshold: float) -> list[tuple[float, float]]:
    edges = sorted({0.0, float(threshold), *(float(e) for e in AGE_EDGES_HOURS)})
    return [(a, b) for a, b in zip(edges, [*edges[1:], math.inf], strict=True)]


def bin_label(low: float, high: float) -> str:
    return f"> {_hours(low)}" if math.isinf(high) else f"{_hours(low)}–{_hours(high)}"


def _bin_index(bins: list[tuple[float, float]], hours: float) -> int:
    """Bins are (low, high]: an age equal to the threshold stays on its younger side, as in the views."""
    for i, (low, high) in enumerate(bins):
        if hours <= high and (hours > low or i == 0):
            return i
    return len(bins) - 1


def open_ages(data: dict[str, Any]) -> dict[str, Any]:
    """Open backfills (IN_PROGRESS, IN_QUEUE) by age; the stuck ones are those the views call stuck."""
    stuck_after, _ = thresholds(data)
    bins = age_bins(stuck_after)
    within = [0] * len(bins)
    stuck = [0] * len(bins)
    for r in data["open_backfills"]:
        i = _bin_index(bins, float(r["age_hours"] or 0.0))
        (stuck if r["stuck"] else within)[i] += 1
    return {
        "x": [bin_label(a, b) for a, b in bins],
        "within": within,
        "stuck": stuck,
        "threshold": stuck_after,
        "threshold_label": bin_label(*bins[_threshold_bin(bins, stuck_after)]),
    }


def ingestion_ages(data: dict[str, Any]) -> dict[str, Any]:
    """Streaming datasets by hours since their last ingestion; stale ones as the views say."""
    _, stale_after = thresholds(data)
    bins = age_bins(stale_after)
    labels = [bin_label(a, b) for a, b in bins] + ["never ingested"]
    fresh = [0] * len(labels)
    stale = [0] * len(labels)
    for r in data["datasets"]:
        if not r["streaming"]:
            continue
        hours = r["hours_since_ingestion"]
        i = len(labels) - 1 if hours is None else _bin_index(bins, max(float(hours), 0.0))
        (stale if r["is_stale"] else fresh)[i] += 1
    return {
        "x": labels,
        "fresh": fresh,
        "stale": stale,
        "threshold": stale_after,
        "threshold_label": bin_label(*bins[_threshold_bin(bins, stale_after)]),
    }


def worst_connections(data: dict[str, Any]) -> dict[str, Any]:
    conns = data["connections"][:WORST_CONNECTIONS]
    # plotly draws the first category at the bottom: reverse, so the worst is on top
    ordered = list(reversed(conns))
    labels = [_connection_label(c) for c in ordered]
    keys = {
        "STUCK": "datasets_stuck",
        "FAILED": "datasets_failed",
        "IN_PROGRESS": "datasets_in_progress",
        "HEALTHY": "datasets_healthy",
        "NO_BACKFILLS": "datasets_no_backfills",
    }
    return {
        "y": labels,
        "connection_ids": [c["connection_id"] for c in ordered],
        "series": {status: [int(c[col] or 0) for c in ordered] for status, col in keys.items()},
        "stale": [int(c["datasets_stale"] or 0) for c in ordered],
        "shown": len(conns),
        "total": len(data["connections"]),
    }


def figures(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Plotly figure dicts by chart id."""
    t = timeline(data)
    o = open_ages(data)
    g = ingestion_ages(data)
    w = worst_connections(data)
    base_layout = {
        "barmode": "stack",
        "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
        "legend": {"orientation": "h", "y": -0.2},
        "font": {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12},
        "paper_bgcolor": "white",
        "plot_bgcolor": "#fafafa",
    }
    figs: dict[str, dict[str, Any]] = {}
    figs["chart-backfills-over-time"] = {
        "data": [
            {
                "type": "bar",
                "name": s,
                "x": t["x"],
                "y": t["series"][s],
                "marker": {"color": STATUS_COLORS[s]},
                "meta": s,
            }
            for s in STATUSES
        ],
        "layout": {
            **base_layout,
            "title": {"text": f"Backfills by status, by created {t['unit']} (UTC)"},
            "xaxis": {"type": "date", "title": {"text": f"created {t['unit']}"}},
            "yaxis": {"title": {"text": "backfills"}},
        },
    }
    figs["chart-open-backfill-ages"] = {
        "data": [
            _bar("within threshold", o["x"], o["within"], STATUS_COLORS["IN_PROGRESS"], "within"),
            _bar("stuck", o["x"], o["stuck"], STATUS_COLORS["STUCK"], "stuck"),
        ],
        "layout": {
            **base_layout,
            "title": {"text": f"Open backfills by age (stuck after {_hours(o['threshold'])})"},
            "xaxis": {"type": "category", "title": {"text": "age at the last sync"}},
            "yaxis": {"title": {"text": "open backfills"}},
            "shapes": [_threshold_line(o["x"], o["threshold_label"])],
            "annotations": [_threshold_note(o["x"], o["threshold_label"], "stuck threshold")],
        },
    }
    figs["chart-ingestion-ages"] = {
        "data": [
            _bar("fresh", g["x"], g["fresh"], STATUS_COLORS["FRESH"], "fresh"),
            _bar("stale", g["x"], g["stale"], STATUS_COLORS["STALE"], "stale"),
        ],
        "layout": {
            **base_layout,
            "title": {
                "text": "Streaming datasets by time since last ingestion "
                f"(stale after {_hours(g['threshold'])})"
            },
            "xaxis": {"type": "category", "title": {"text": "since last ingestion, at the last sync"}},
            "yaxis": {"title": {"text": "streaming datasets"}},
            "shapes": [_threshold_line(g["x"], g["threshold_label"])],
            "annotations": [_threshold_note(g["x"], g["threshold_label"], "stale threshold")],
        },
    }
    worst_traces: list[dict[str, Any]] = [
        {
            "type": "bar",
            "orientation": "h",
            "name": status,
            "y": w["y"],
            "x": values,
            "marker": {"color": STATUS_COLORS[status]},
            "meta": status,
            "customdata": w["connection_ids"],
            "hovertemplate": "%{y}<br>%{x} datasets " + status + "<extra></extra>",
        }
        for status, values in w["series"].items()
    ]
    worst_traces.append(
        {
            "type": "scatter",
            "mode": "markers",
            "name": "stale streaming datasets",
            "y": w["y"],
            "x": w["stale"],
            "marker": {"symbol": "diamond", "size": 10, "color": STATUS_COLORS["STALE"]},
            "meta": "STALE",
            "customdata": w["connection_ids"],
        }
    )
    figs["chart-worst"] = {
        "data": worst_traces,
        "layout": {
            **base_layout,
            "title": {
                "text": f"Worst connections first ({w['shown']} of {w['total']}): their datasets by health"
            },
            "height": max(360, 28 * w["shown"] + 140),
            "margin": {"l": 260, "r": 20, "t": 50, "b": 60},
            "xaxis": {"title": {"text": "datasets"}},
            "yaxis": {"type": "category", "automargin": True},
        },
    }
    return figs


def _bar(name: str, x: list[str], y: list[int], color: str, meta: str) -> dict[str, Any]:
    return {"type": "bar", "name": name, "x": x, "y": y, "marker": {"color": color}, "meta": meta}


def _threshold_bin(bins: list[tuple[float, float]], threshold: float) -> int:
    return next(i for i, (_low, high) in enumerate(bins) if high >= threshold)


def _threshold_line(x: list[str], label: str) -> dict[str, Any]:
    # categories sit at 0, 1, 2, ...: the threshold is the right edge of its bin
    pos = x.index(label) + 0.5
    return {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": pos,
        "x1": pos,
        "y0": 0,
        "y1": 1,
        "line": {"color": "#b71c1c", "width": 2, "dash": "dash"},
    }


def _threshold_note(x: list[str], label: str, text: str) -> dict[str, Any]:
    return {
        "x": x.index(label) + 0.5,
        "xref": "x",
        "y": 1,
        "yref": "paper",
        "text": text,
        "showarrow": False,
        "xanchor": "left",
        "font": {"color": "#b71c1c"},
    }


# ----- HTML -----


def render_html(data: dict[str, Any]) -> str:
    from plotly.offline import get_plotlyjs

    figs = figures(data)
    payload = json.dumps(figs, default=_json_default, separators=(",", ":")).replace("</", "<\\/")
    charts = "\n".join(
        f'<section class="chart"><div id="{cid}" class="plot"></div></section>' for cid in figs
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
<p class="meta">Stuck after {_hours(stuck_after)}, stale after {_hours(stale_after)}. Ages are measured at the
finish of the latest successful sync (as of), not at the time of this report ({generated}).</p>
</header>
{_summary_html(data)}
<main>
{charts}
{_worst_table_html(data)}
{_changes_html(data)}
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
            f'<p class="meta">as of {_e(_ts(org["as_of"]))}</p><div class="tiles">{body}</div></section>'
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
            f"<td>{_e(_ts(d['last_ingested_time']))}</td>"
            f"<td>{_e(d['failed_count'])}/{_e(d['stuck_count'])}/"
            f"{_e(d['in_progress_count'])}/{_e(d['in_queue_count'])}</td>"
            f"<td>{'' if d['oldest_open_age_hours'] is None else _e(_hours(d['oldest_open_age_hours']))}</td>"
            "</tr>"
            for d in datasets
        )
        rows.append(
            f'<tr class="conn" data-connection-id="{_e(c["connection_id"])}">'
            f"<td><details><summary>{_e(c['connection_name'] or c['connection_id'])}</summary>"
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
                f"<td>{_e(_ts(r['changed_at']))}</td>"
                f"<td>{_e(r['connection_name'] or r['connection_id'])}</td>"
                f"<td>{_e(r['data_set_id'] or '')}</td><td>{_e(r['field'])}</td><td>{_e(r['change'])}</td>"
                f"<td>{_e(_cut(r['old_value']))}</td><td>{_e(_cut(r['new_value']))}</td>"
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
summary{cursor:pointer}
.badge{display:inline-block;padding:1px 6px;border-radius:4px;font-size:.8em;color:#fff;background:#757575}
.s-STUCK{background:#6a1b9a}.s-FAILED{background:#c62828}.s-STALE{background:#ef6c00}
.s-VALIDATION_ERRORS{background:#ad1457}.s-IN_PROGRESS{background:#1565c0}.s-HEALTHY{background:#2e7d32}
.s-NO_BACKFILLS{background:#9e9e9e}
"""


# ----- helpers -----


def _connection_label(c: dict[str, Any]) -> str:
    name = c["connection_name"] or c["connection_id"]
    return f"{name} · {c['worst_status']}"


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _bucket(day: date, unit: str) -> date:
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def _hours(hours: float) -> str:
    hours = float(hours)
    if hours >= 48 and hours % 24 == 0:
        return f"{hours / 24:g} d"
    return f"{hours:g} h" if hours == int(hours) else f"{hours:.1f} h"


def _ts(value: Any) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if isinstance(value, datetime) else ""


def _cut(value: Any, width: int = 120) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
