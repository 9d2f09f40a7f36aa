"""Untrusted text (names from the API) on a terminal: control characters shown, not obeyed; width
in terminal columns; shortening to a width; and the few formats the reports share."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from cja_sync.text import cut, hours, json_default, pad, ts, visible, width


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        pytest.param("Web events", "Web events", id="printable text as it is"),
        pytest.param(None, "", id="nothing is empty"),
        pytest.param(42, "42", id="a number as text"),
        pytest.param("a\nb\rc\td", "a\\nb\\rc\\td", id="line breaks and tabs keep one line"),
        pytest.param("\x1b[2J", "\\e[2J", id="an escape sequence is shown, not obeyed"),
        pytest.param("a\x00\x7f", "a\\x00\\x7f", id="other controls as hex"),
        pytest.param("evil\u202etxt.exe", "evil\\u202etxt.exe", id="a bidi override cannot reorder the row"),
        pytest.param("a\u2028b", "a\\u2028b", id="a Unicode line separator keeps one line"),
        pytest.param("👩\u200d💻", "👩\u200d💻", id="a zero-width joiner stays for emoji"),
        pytest.param("e\u0301", "e\u0301", id="a combining mark stays"),
    ],
)
def test_visible(value: Any, shown: str) -> None:
    assert visible(value) == shown


@pytest.mark.parametrize(
    ("text", "columns"),
    [
        pytest.param("abc", 3, id="one column a letter"),
        pytest.param("日本", 4, id="wide characters take two"),
        pytest.param("👍", 2, id="most emoji take two"),
        pytest.param("e\u0301", 1, id="a combining mark takes none"),
        pytest.param("a\u200bb", 2, id="a zero-width space takes none"),
    ],
)
def test_width(text: str, columns: int) -> None:
    assert width(text) == columns


@pytest.mark.parametrize(
    ("value", "limit", "shown"),
    [
        pytest.param("abcdef", 6, "abcdef", id="text that fits is kept"),
        pytest.param("abcdefg", 6, "abcde…", id="longer text ends in an ellipsis within the limit"),
        pytest.param("日本語です", 5, "日本…", id="a wide character that would cross the limit is dropped"),
        pytest.param("\x1b\x1b\x1b", 5, "\\e\\e…", id="escapes count in the width they are shown"),
    ],
)
def test_cut(value: Any, limit: int, shown: str) -> None:
    assert cut(value, limit) == shown
    assert width(shown) <= limit


@pytest.mark.parametrize(
    ("text", "columns", "padded"),
    [
        pytest.param("ab", 4, "ab  ", id="padded to the columns"),
        pytest.param("日本", 5, "日本 ", id="wide characters count two"),
        pytest.param("abcdef", 4, "abcdef", id="longer text is not cut"),
    ],
)
def test_pad(text: str, columns: int, padded: str) -> None:
    assert pad(text, columns) == padded


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        pytest.param(168, "7 d", id="whole days from 48 hours on"),
        pytest.param(48, "2 d", id="48 hours are 2 days"),
        pytest.param(24, "24 h", id="under 48 hours stay hours"),
        pytest.param(50, "50 h", id="hours that are not whole days"),
        pytest.param(1.5, "1.5 h", id="a fraction with one decimal"),
    ],
)
def test_hours(value: float, shown: str) -> None:
    assert hours(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        pytest.param(datetime(2026, 3, 1, 14, 5, tzinfo=timezone(timedelta(hours=2))), "2026-03-01 12:05 UTC",
                     id="a time is shown in UTC"),
        pytest.param("2026-03-01", "", id="what is not a datetime is blank"),
        pytest.param(None, "", id="nothing is blank"),
    ],
)  # fmt: skip
def test_ts(value: Any, shown: str) -> None:
    assert ts(value) == shown


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        pytest.param(
            datetime(2026, 3, 1, 12, tzinfo=UTC), "2026-03-01T12:00:00+00:00", id="a datetime as ISO"
        ),
        pytest.param(date(2026, 3, 1), "2026-03-01", id="a date as ISO"),
        pytest.param(Decimal("1.50"), "1.50", id="anything else as its text"),
    ],
)
def test_json_default(value: Any, encoded: str) -> None:
    assert json_default(value) == encoded
