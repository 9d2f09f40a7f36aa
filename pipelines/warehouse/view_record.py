"""Whether the views in the warehouse are the ones this run would create: then they are left alone.

Replacing the 11 views at every sync cost an idle run their CREATE OR REPLACE and, on DuckDB (which
drops a view's comments when it replaces it), ~185 COMMENT ON statements after them. A view is
left in place when the pipeline's working directory records that the same statements were applied
to this dataset and the catalog still holds exactly the definitions it held right after them (as
the database itself prints them: any other writer, an older release, a hand edit or a new file
changes them, and the views are created again)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

RECORD = "cja_views_applied.json"


def catalog_digest(sql: Any, views: Sequence[str], destination: str) -> str:
    """Digest of the named views' definitions as the catalog holds them ('' for a missing one)."""
    if destination == "postgres":
        query = "SELECT viewname, definition FROM pg_views WHERE schemaname = %s"
    else:
        query = (
            "SELECT view_name, sql FROM duckdb_views() WHERE database_name = current_database() "
            "AND schema_name = %s AND NOT internal"
        )
    found = {str(n): str(d) for n, d in sql.execute_sql(query, sql.dataset_name) or ()}
    text = json.dumps([[v, found.get(v, "")] for v in views])
    return hashlib.sha256(text.encode()).hexdigest()


def statements_digest(dataset: str, statements: Sequence[str]) -> str:
    return hashlib.sha256(json.dumps([dataset, *statements]).encode()).hexdigest()


def is_current(working_dir: str | None, statements: str, catalog: str) -> bool:
    if not working_dir:
        return False
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
        stored = json.loads((Path(working_dir) / RECORD).read_text(encoding="utf-8"))
        return bool(stored["statements"] == statements and stored["catalog"] == catalog)
    return False


def remember(working_dir: str | None, statements: str, catalog: str) -> None:
    if not working_dir:
        return
    path = Path(working_dir) / RECORD
    with contextlib.suppress(OSError):
        tmp = path.with_name(f"{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps({"statements": statements, "catalog": catalog}), encoding="utf-8")
        os.replace(tmp, path)


def forget(working_dir: str | None) -> None:
    if working_dir:
        with contextlib.suppress(OSError):
            (Path(working_dir) / RECORD).unlink()
