"""Charts with too little to draw: a short note in place of empty axes. A chart of change over time
needs two syncs; one sync gives a single dot on sub-millisecond ticks, and a chart of zeros an
empty −1…1 axis, both of which read as a broken report rather than as "nothing yet"."""

from __future__ import annotations

from typing import Any

# a trend is a line between syncs
MIN_SYNCS_FOR_TREND = 2
NOTE_COLOR = "#616161"


def note_figure(title: str, note: str) -> dict[str, Any]:
    """A figure with `title` and `note` in the middle, and no traces or axes."""
    return {
        "data": [],
        "layout": {
            "title": {"text": title},
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "height": 200,
            "margin": {"l": 20, "r": 20, "t": 50, "b": 20},
            "annotations": [
                {
                    "text": note,
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                    "showarrow": False,
                    "font": {"size": 14, "color": NOTE_COLOR},
                }
            ],
        },
    }


def has_values(figure: dict[str, Any]) -> bool:
    """Whether any trace holds a count other than 0 (horizontal bars count along x)."""
    for trace in figure["data"]:
        axis = "x" if trace.get("orientation") == "h" else "y"
        if any(isinstance(v, int | float) and v for v in trace.get(axis) or ()):
            return True
    return False


def or_note(figure: dict[str, Any], note: str) -> dict[str, Any]:
    """`figure`, or a note under its title when it has nothing but zeros to draw."""
    if has_values(figure):
        return figure
    return note_figure(str(figure["layout"]["title"]["text"]), note)
