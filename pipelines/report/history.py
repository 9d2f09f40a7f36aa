"""The dashboard's part about change over time (issue 14): the daily-events trend of the connections
that matter (drops first, then the largest), the drops table, and how long backfills take to
complete with the open ones that already exceed their connection's p90. Read from ingestion_drops,
backfill_durations and connection_volume_history only."""

from __future__ import annotations

import html
from typing import Any

from ..text import cut, ts
from .sparse import MIN_SYNCS_FOR_TREND, note_figure

HISTORY_CHART_IDS = ("chart-volume-trend", "chart-completion-times")
TREND_TITLE = "Daily events per sync: connections with a drop, then the largest"
COMPLETION_TITLE = "Backfill completion times seen by the syncs, and open ones over p90"
TREND_CONNECTIONS = 8
EXCEEDING_LIMIT = 50
# completion time bins, hours: a backfill takes minutes to weeks
BINS = (0.0, 1.0, 3.0, 6.0, 12.0, 24.0, 48.0, 96.0, 168.0, 336.0, 720.0)
DROP_COLOR = "#c62828"


def read_history_data(rows: Any, q: Any) -> dict[str, Any]:
    """Rows for the figures and tables below; `rows(sql)` returns dicts, `q` qualifies a name."""
    drops = rows(f"SELECT * FROM {q('ingestion_drops')} ORDER BY drop_pct DESC, connection_id")
    volume = q("connection_volume_history")
    largest = rows(
        f"SELECT v.connection_id FROM {volume} AS v "
        f"JOIN (SELECT org_id, MAX(observed_at) AS m FROM {volume} GROUP BY org_id) AS l "
        "ON l.org_id = v.org_id AND l.m = v.observed_at WHERE v.num_daily_events IS NOT NULL "
        f"ORDER BY v.num_daily_events DESC, v.connection_id LIMIT {TREND_CONNECTIONS}"
    )
    picked = list(dict.fromkeys([d["connection_id"] for d in drops] + [r["connection_id"] for r in largest]))
    picked = picked[:TREND_CONNECTIONS]
    points: list[dict[str, Any]] = []
    if picked:
        ids = ", ".join("'" + str(c).replace("'", "''") + "'" for c in picked)
        points = rows(
            "SELECT v.connection_id, c.name AS connection_name, v.observed_at, v.num_daily_events "
            f"FROM {volume} AS v JOIN {q('connections')} AS c ON c.id = v.connection_id "
            f"WHERE v.connection_id IN ({ids}) ORDER BY v.observed_at"
        )
    durations = q("backfill_durations")
    # counted per bin by the warehouse: a large org has hundreds of thousands of backfills
    completed = rows(
        f"SELECT {_bin_case('completed_hours_max')} AS bin, COUNT(*) AS n FROM {durations} "
        "WHERE completed_hours_max IS NOT NULL GROUP BY 1"
    )
    exceeding = rows(
        f"SELECT {_bin_case('age_hours')} AS bin, COUNT(*) AS n FROM {durations} WHERE exceeds_p90 GROUP BY 1"
    )
    over = rows(
        "SELECT connection_id, connection_name, backfill_id, data_set_name, status, age_hours, "
        f"connection_p90_hours FROM {durations} WHERE exceeds_p90 "
        f"ORDER BY age_hours DESC, backfill_id LIMIT {EXCEEDING_LIMIT}"
    )
    return {
        "drops": drops,
        "trend_ids": picked,
        "trend_points": points,
        "completion_counts": {
            "completed": _counts(completed),
            "exceeding": _counts(exceeding),
        },
        "exceeding_p90": over,
    }


def _bin_case(column: str) -> str:
    """SQL giving a completion time's bin: how many of the edges above zero `column` reaches."""
    edges = list(enumerate(BINS))[1:]
    whens = " ".join(f"WHEN {column} >= {edge!r} THEN {i}" for i, edge in reversed(edges))
    return f"CASE {whens} ELSE 0 END"


def _counts(rows: list[dict[str, Any]]) -> list[int]:
    out = [0] * len(BINS)
    for r in rows:
        out[int(r["bin"])] += int(r["n"])
    return out


def history_figures(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {"chart-volume-trend": _trend(data), "chart-completion-times": _completion(data)}


def _trend(data: dict[str, Any]) -> dict[str, Any]:
    syncs = len({p["observed_at"] for p in data["trend_points"]})
    if syncs < MIN_SYNCS_FOR_TREND:
        return note_figure(
            TREND_TITLE,
            f"Not enough syncs yet: a trend needs {MIN_SYNCS_FOR_TREND} syncs, the warehouse has {syncs}.",
        )
    dropped = {d["connection_id"] for d in data["drops"]}
    traces = []
    for cid in data["trend_ids"]:
        mine = [p for p in data["trend_points"] if p["connection_id"] == cid]
        # escaped as the other charts' labels: plotly would read a tag in a name
        name = html.escape(cut((mine[0]["connection_name"] if mine else None) or cid, 40), quote=False)
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": f"{name} (drop)" if cid in dropped else name,
                "meta": cid,
                "x": [p["observed_at"] for p in mine],
                "y": [p["num_daily_events"] for p in mine],
                **({"line": {"color": DROP_COLOR, "width": 3}} if cid in dropped else {}),
            }
        )
    return {
        "data": traces,
        "layout": {
            "title": {"text": TREND_TITLE},
            "xaxis": {"type": "date", "title": {"text": "sync"}},
            "yaxis": {"title": {"text": "numDailyEvents"}, "rangemode": "tozero"},
            "legend": {"orientation": "h", "y": -0.2},
            "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
        },
    }


def bin_labels() -> list[str]:
    edges = [f"{b:g}" for b in BINS]
    return [f"{a}-{b} h" for a, b in zip(edges, edges[1:], strict=False)] + [f">{edges[-1]} h"]


def _completion(data: dict[str, Any]) -> dict[str, Any]:
    counts = data["completion_counts"]
    completed, exceeding = counts["completed"], counts["exceeding"]
    if not any(completed) and not any(exceeding):
        # a completion is only measured between the sync that saw a backfill open and the next one
        return note_figure(
            COMPLETION_TITLE, "Not enough syncs yet: no backfill has been seen completing between two syncs."
        )
    labels = bin_labels()
    return {
        "data": [
            {
                "type": "bar",
                "name": "completed (upper bound)",
                "meta": "completed",
                "x": labels,
                "y": completed,
            },
            {
                "type": "bar",
                "name": "open, older than its connection's p90",
                "meta": "exceeding",
                "x": labels,
                "y": exceeding,
                "marker": {"color": DROP_COLOR},
            },
        ],
        "layout": {
            "barmode": "group",
            "title": {"text": COMPLETION_TITLE},
            "xaxis": {"type": "category", "title": {"text": "hours from creation"}},
            "yaxis": {"title": {"text": "backfills"}},
            "legend": {"orientation": "h", "y": -0.2},
            "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
        },
    }


def history_tables_html(data: dict[str, Any]) -> str:
    drops = data["drops"]
    if drops:
        body = (
            "<table><thead><tr><th>connection</th><th>latest</th><th>baseline median</th><th>drop</th>"
            "<th>points</th><th>as of</th></tr></thead><tbody>"
            + "".join(
                f'<tr><td>{_e(d["connection_name"] or "(no name)")} <span class="id">{_e(d["connection_id"])}'
                f"</span></td><td>{_e(d['latest_num_daily_events'])}</td><td>{_e(_g(d['baseline_median']))}</td>"
                f"<td>-{_e(_g(d['drop_pct']))} %</td><td>{_e(d['baseline_points'])}</td>"
                f"<td>{_e(ts(d['as_of']))}</td></tr>"
                for d in drops
            )
            + "</tbody></table>"
        )
    else:
        body = '<p class="meta">No connection\'s daily events dropped below its baseline.</p>'
    over = data["exceeding_p90"]
    rows = "".join(
        f"<tr><td>{_e(r['connection_name'] or r['connection_id'])}</td><td>{_e(r['data_set_name'])}</td>"
        f"<td>{_e(r['backfill_id'])}</td><td>{_e(r['status'])}</td><td>{_e(r['age_hours'])} h</td>"
        f"<td>{_e(r['connection_p90_hours'])} h</td></tr>"
        for r in over
    )
    exceeding = (
        "<table><thead><tr><th>connection</th><th>dataset</th><th>backfill</th><th>status</th><th>age</th>"
        f"<th>connection p90</th></tr></thead><tbody>{rows}</tbody></table>"
        if over
        else '<p class="meta">No open backfill is older than its connection\'s p90.</p>'
    )
    return (
        '<section class="table" id="drops"><h2>Ingestion drops</h2><p class="meta">From ingestion_drops: '
        f"latest numDailyEvents far below the median of the days before.</p>{body}</section>"
        '<section class="table" id="slow-backfills"><h2>Open backfills over their p90</h2>'
        f'<p class="meta">From backfill_durations.</p>{exceeding}</section>'
    )


def _g(value: Any) -> str:
    return "" if value is None else f"{float(value):g}"


def _e(value: Any) -> str:
    return html.escape(cut(value, 120))
