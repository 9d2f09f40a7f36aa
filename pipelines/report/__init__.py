"""`cja-sync report --out health.html`: one self-contained HTML health dashboard.

Every figure comes from the health views (the per-backfill charts from `backfill_ages`), so totals,
"stuck" and "stale" equal the views'.
The charts are plotly figures; plotly.js is inlined once, so the file opens offline and asks no
network for anything (see README, `cja-sync report`, for the choice).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from cja_source.errors import CJAError

from ..text import cut
from .page import render_html
from .queries import read_report_data

__all__ = ["counts", "read_report_data", "render_html", "write_page"]


class ReportWriteError(CJAError):
    """The dashboard could not be written where --out says."""


def write_page(out: Path, page: str) -> None:
    """Write through a temporary file beside `out`: a failed write never leaves half a report."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        try:
            # mkstemp makes the file private (0600); a report is meant to be shared like any file
            os.fchmod(fd, 0o666 & ~_umask())
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(page)
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ReportWriteError(
            f"cannot write the report to {cut(str(out), 300)}: {reason}; choose another --out"
        ) from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def counts(data: dict[str, Any]) -> dict[str, int]:
    orgs = data["orgs"]
    return {
        "orgs": len(orgs),
        "connections": sum(int(o["connections"] or 0) for o in orgs),
        "datasets": sum(int(o["datasets"] or 0) for o in orgs),
        "backfills": sum(int(o["backfills_total"] or 0) for o in orgs),
        "changes": len(data["changes"]),
    }
