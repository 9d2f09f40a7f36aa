"""The dashboard's plotly figures, as plain dicts. Every value from the API reaches a figure through
`label()`: plotly renders a subset of HTML (links, line breaks, styles) in axis labels, hovers and
titles, so API text must arrive there as escaped text."""

from __future__ import annotations

import html
import math
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from cja_source.settings import BACKFILL_STATUSES

from ..text import cut, hours
from .history import history_figures
from .sparse import or_note

STATUSES = BACKFILL_STATUSES
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
CHART_IDS = ("chart-backfills-over-time", "chart-open-backfill-ages", "chart-ingestion-ages", "chart-worst")
LABEL_COLUMNS = 40
ID_SUFFIX = 6


def label(value: Any, limit: int = LABEL_COLUMNS) -> str:
    """API text as plotly shows it literally: control characters visible, cut to `limit` columns,
    and `&`, `<`, `>` as entities (plotly splits tags before it decodes entities, so none of them
    can open a tag)."""
    return html.escape(cut(value, limit), quote=False)


def short_ids(ids: list[str]) -> list[str]:
    """The shortest id tails (at least ID_SUFFIX characters) that tell every id apart."""
    texts = [cut(i, 10_000) for i in ids]
    n = ID_SUFFIX
    while len({t[-n:] for t in texts}) < len(set(texts)) and n < max(map(len, texts), default=0):
        n += 2
    return [t[-n:] for t in texts]


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
    return f"> {hours(low)}" if math.isinf(high) else f"{hours(low)}–{hours(high)}"


def open_ages(data: dict[str, Any]) -> dict[str, Any]:
    """Open backfills (IN_PROGRESS, IN_QUEUE) by age; the stuck ones are those the views call stuck."""
    stuck_after, _ = thresholds(data)
    bins = age_bins(stuck_after)
    within = [0] * len(bins)
    stuck = [0] * len(bins)
    for r in data["open_age_counts"]:  # counted per bin by the warehouse (queries.bin_case)
        (stuck if r["is_stuck"] else within)[int(r["bin"])] += int(r["n"])
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
    for r in data["ingestion_age_counts"]:  # streaming datasets per bin; the last: never ingested
        (stale if r["is_stale"] else fresh)[int(r["bin"])] += int(r["n"])
    return {
        "x": labels,
        "fresh": fresh,
        "stale": stale,
        "threshold": stale_after,
        "threshold_label": bin_label(*bins[_threshold_bin(bins, stale_after)]),
    }


def worst_connections(data: dict[str, Any]) -> dict[str, Any]:
    """One bar per connection id: two connections of one name never share a bar, and their labels
    end with as much of their ids as tells them apart."""
    conns = data["connections"][:WORST_CONNECTIONS]
    # plotly draws the first category at the bottom: reverse, so the worst is on top
    ordered = list(reversed(conns))
    ids = [str(c["connection_id"]) for c in ordered]
    labels = [
        f"{label(c['connection_name'] or '(no name)')} · {label(c['worst_status'])} · …{label(tail)}"
        for c, tail in zip(ordered, short_ids(ids), strict=True)
    ]
    keys = {
        "STUCK": "datasets_stuck",
        "FAILED": "datasets_failed",
        "IN_PROGRESS": "datasets_in_progress",
        "HEALTHY": "datasets_healthy",
        "NO_BACKFILLS": "datasets_no_backfills",
    }
    return {
        "labels": labels,
        "connection_ids": ids,
        "series": {status: [int(c[col] or 0) for c in ordered] for status, col in keys.items()},
        "stale": [int(c["datasets_stale"] or 0) for c in ordered],
        "shown": len(conns),
        "total": len(data["connections"]),
    }


BASE_LAYOUT = {
    "barmode": "stack",
    "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
    "legend": {"orientation": "h", "y": -0.2},
    "font": {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12},
    "paper_bgcolor": "white",
    "plot_bgcolor": "#fafafa",
}


def figures(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Plotly figure dicts by chart id."""
    return {
        "chart-backfills-over-time": or_note(_timeline_figure(timeline(data)), "No backfills yet."),
        "chart-open-backfill-ages": or_note(
            _ages_figure(
                open_ages(data),
                ("within threshold", "within", "IN_PROGRESS"),
                ("stuck", "stuck", "STUCK"),
                title="Open backfills by age (stuck after {})",
                axes=("age at the last sync", "open backfills"),
                note="stuck threshold",
            ),
            "No open backfills at the last sync.",
        ),
        "chart-ingestion-ages": or_note(
            _ages_figure(
                ingestion_ages(data),
                ("fresh", "fresh", "FRESH"),
                ("stale", "stale", "STALE"),
                title="Streaming datasets by time since last ingestion (stale after {})",
                axes=("since last ingestion, at the last sync", "streaming datasets"),
                note="stale threshold",
            ),
            "No streaming datasets.",
        ),
        "chart-worst": or_note(_worst_figure(worst_connections(data)), "No connections."),
        **history_figures(data),
    }


def _timeline_figure(t: dict[str, Any]) -> dict[str, Any]:
    return {
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
            **BASE_LAYOUT,
            "title": {"text": f"Backfills by status, by created {t['unit']} (UTC)"},
            "xaxis": {"type": "date", "title": {"text": f"created {t['unit']}"}},
            "yaxis": {"title": {"text": "backfills"}},
        },
    }


def _ages_figure(
    a: dict[str, Any],
    *series: tuple[str, str, str],
    title: str,
    axes: tuple[str, str],
    note: str,
) -> dict[str, Any]:
    return {
        "data": [_bar(name, a["x"], a[key], STATUS_COLORS[color], key) for name, key, color in series],
        "layout": {
            **BASE_LAYOUT,
            "title": {"text": title.format(hours(a["threshold"]))},
            "xaxis": {"type": "category", "title": {"text": axes[0]}},
            "yaxis": {"title": {"text": axes[1]}},
            "shapes": [_threshold_line(a["x"], a["threshold_label"])],
            "annotations": [_threshold_note(a["x"], a["threshold_label"], note)],
        },
    }


def _worst_figure(w: dict[str, Any]) -> dict[str, Any]:
    # categories are the connection ids; the labels are only what the axis and the hover show
    ids = w["connection_ids"]
    traces: list[dict[str, Any]] = [
        {
            "type": "bar",
            "orientation": "h",
            "name": status,
            "y": ids,
            "x": values,
            "marker": {"color": STATUS_COLORS[status]},
            "meta": status,
            "customdata": ids,
            "text": w["labels"],
            "textposition": "none",
            "hovertemplate": "%{text}<br>%{x} datasets " + status + "<extra></extra>",
        }
        for status, values in w["series"].items()
    ]
    traces.append(
        {
            "type": "scatter",
            "mode": "markers",
            "name": "stale streaming datasets",
            "y": ids,
            "x": w["stale"],
            "marker": {"symbol": "diamond", "size": 10, "color": STATUS_COLORS["STALE"]},
            "meta": "STALE",
            "customdata": ids,
            "text": w["labels"],
            "hovertemplate": "%{text}<br>%{x} stale streaming datasets<extra></extra>",
        }
    )
    return {
        "data": traces,
        "layout": {
            **BASE_LAYOUT,
            "title": {
                "text": f"Worst connections first ({w['shown']} of {w['total']}): their datasets by health"
            },
            "height": max(360, 28 * w["shown"] + 140),
            "margin": {"l": 260, "r": 20, "t": 50, "b": 60},
            "xaxis": {"title": {"text": "datasets"}},
            "yaxis": {
                "type": "category",
                "automargin": True,
                "categoryorder": "array",
                "categoryarray": ids,
                "tickmode": "array",
                "tickvals": ids,
                "ticktext": w["labels"],
            },
        },
    }


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
