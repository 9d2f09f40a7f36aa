"""Text helpers shared by `health`, `report` and the CLI's messages. Every value that comes from the
API (names above all) is untrusted text: it reaches a terminal or a page only through these."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from typing import Any

# Bidirectional controls reorder what follows them on screen: a name could make a table row read
# as something else. Zero-width joiners stay (emoji sequences need them).
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\e"}


def visible(value: Any) -> str:
    """`value` as text with every control character shown as an escape (`\\n`, `\\e`, `\\x00`,
    `\\u202e`): a terminal then prints it without obeying it, and one value stays on one line."""
    text = "" if value is None else str(value)
    if text.isprintable() and not _BIDI.intersection(text):
        return text
    return "".join(_escape(ch) for ch in text)


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    if ch in _BIDI or (not ch.isprintable() and ch != " " and unicodedata.category(ch) != "Cf"):
        code = ord(ch)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return ch


def width(text: str) -> int:
    """Columns `text` takes on a terminal: wide (CJK, most emoji) count 2, combining marks 0."""
    return sum(_char_width(ch) for ch in text)


def _char_width(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) == "Cf":
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def cut(value: Any, limit: int = 120) -> str:
    """`value` made visible and shortened to `limit` terminal columns, with an ellipsis if cut."""
    text = visible(value)
    if width(text) <= limit:
        return text
    out, used = [], 0
    for ch in text:
        w = _char_width(ch)
        if used + w > limit - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def pad(text: str, columns: int) -> str:
    return text + " " * max(columns - width(text), 0)


def ts(value: Any) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if isinstance(value, datetime) else ""


def hours(value: float) -> str:
    value = float(value)
    if value >= 48 and value % 24 == 0:
        return f"{value / 24:g} d"
    return f"{value:g} h" if value == int(value) else f"{value:.1f} h"


def json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
