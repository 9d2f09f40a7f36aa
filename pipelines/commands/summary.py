"""The run summary a sync prints: text for people, one JSON object with --json."""

from __future__ import annotations

import json

from cja_source.version import __version__

from ..run.record import RunSummary
from ..text import cut


def print_summary(record: RunSummary, as_json: bool) -> None:
    summary = {"version": __version__, **record.as_dict()}
    if as_json:
        print(json.dumps(summary, default=str, sort_keys=True))
        return
    rows = ", ".join(f"{t} {n}" for t, n in summary.get("rows", {}).items())
    requests = ", ".join(f"{e} {n}" for e, n in sorted(summary.get("requests", {}).items()))
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(summary.get("http_statuses", {}).items()))
    pairs = summary.get("backfill_pairs", {})
    print(
        f"cja-sync {summary['version']}: {summary['status']} in {summary.get('duration_seconds', 0):.1f} s "
        f"(org {cut(summary['org_id'], 80)} -> {summary['destination']} dataset {cut(summary['dataset'], 80)}"
        f"{', full' if summary.get('full') else ''}, pipeline {summary.get('pipeline')})"
    )
    print(f"  rows written:   {rows}")
    print(f"  API requests:   {requests} (HTTP {statuses})")
    print(
        f"  backfill lists: {pairs.get('fetch', 0)} fetched, {pairs.get('inline', 0)} inline, "
        f"{pairs.get('skip', 0)} unchanged or empty"
    )
    deleted = summary.get("reconciled", {})
    if deleted.get("connections_deleted") or deleted.get("datasets_deleted"):
        print(
            f"  deleted in source: {deleted.get('connections_deleted', 0)} connections, "
            f"{deleted.get('datasets_deleted', 0)} datasets"
        )
    if summary.get("notice"):
        print(f"  note: {summary['notice']}")
