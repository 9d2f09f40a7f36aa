"""Checks where API items enter. Every row is keyed on an id the API documents as a string: an item
without it cannot be stored, merged or asked about, so it ends the run with one line that names
the endpoint, the connection and dataset, and what is wrong. Pure functions: no I/O."""

from __future__ import annotations

import re
from typing import Any

from .errors import InvalidItemError


def connection_item(item: Any, where: str) -> dict[str, Any]:
    """A listed connection, with its datasets and any inline backfills. An integer id is refused,
    not coerced: the id is the merge key of every table, and a key that changes type says the
    service sends something other than what we store."""
    if not isinstance(item, dict):
        raise _invalid(where, f"a connection is {describe(item)}, not an object")
    cid = item.get("id")
    if not is_id(cid):
        raise _invalid(where, _bad_id("a connection's id", cid))
    here = f"{where}, connection {cid!r}"
    datasets = item.get("dataSets")
    if datasets is None:  # not expanded, or a connection without datasets
        return item
    if not isinstance(datasets, list):
        raise _invalid(here, f"dataSets is {describe(datasets)}, not a list")
    for d in datasets:
        dataset_item(d, here)
    return item


def dataset_item(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise _invalid(where, f"a dataset is {describe(item)}, not an object")
    dsid = item.get("dataSetId")
    if not is_id(dsid):
        raise _invalid(where, _bad_id("a dataset's dataSetId", dsid))
    backfills = item.get("backfills")
    if backfills is not None:
        if not isinstance(backfills, list):
            raise _invalid(f"{where}, dataset {dsid!r}", f"backfills is {describe(backfills)}, not a list")
        for b in backfills:
            backfill_item(b, f"{where}, dataset {dsid!r}")
    return item


def backfill_item(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise _invalid(where, f"a backfill is {describe(item)}, not an object")
    if not is_id(item.get("id")):
        raise _invalid(where, _bad_id("a backfill's id", item.get("id")))
    return item


def is_id(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def describe(value: Any) -> str:
    """What a value is, in a few words (never the whole value: it may be a large object)."""
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return "empty" if value == "" else f"the string {value[:40]!r}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _bad_id(name: str, value: Any) -> str:
    return f"{name} is missing" if value is None else f"{name} is {describe(value)}, not a string"


def _invalid(where: str, what: str) -> InvalidItemError:
    return InvalidItemError(f"CJA API sent a malformed item at {where}: {what}")


# U+0000 cannot be stored in a Postgres text or jsonb value, while DuckDB keeps it; a lone
# surrogate cannot even be written as UTF-8. Both warehouses get U+FFFD instead, so they hold the
# same text. JSON can only carry either escaped.
NUL_ESCAPE = b"\\u0000"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


# An integer outside int64 fits no BIGINT column, and dlt fails a whole run on one (orjson reads
# integers up to 2**64 - 1 as int, beyond as float). It is stored as a double, as the larger ones
# already are. The cue is a number of 19 or more digits after `:`, `,` or `[` (int64 has 19 at
# most), found on the bytes with every digit made 0: ~1 ms per MB, where a regex takes ~6.
_NUMBER_CUE = bytes(48 if 48 <= b <= 57 else 58 if b in b":,[" else b for b in range(256))
_LONG_NUMBER = b":" + b"0" * 19
INT64 = range(-(2**63), 2**63)


def storable(value: Any) -> Any:
    """`value` (parsed JSON) with U+0000 and lone surrogates replaced by U+FFFD in every string,
    keys included, and integers outside int64 made floats."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    if type(value) is int and value not in INT64:
        return float(value)
    return value


def needs_storable(content: bytes) -> bool:
    """Whether a body's text may hold something `storable` changes (checked on the bytes: walking
    every parsed body would cost more than parsing it)."""
    return NUL_ESCAPE in content or _LONG_NUMBER in content.translate(_NUMBER_CUE, b" \t\r\n-")
