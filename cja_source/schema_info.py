"""dataSets[].schemaInfo, which only the by-id endpoint returns (setting `fetch_schema_info`)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import settings
from .listing import ListingPage
from .records import same_instant, with_prefix
from .sync_context import SyncContext


def page_schema_infos(ctx: SyncContext, page: ListingPage) -> dict[tuple[str, str], Any]:
    """{(connection id, dataSetId): schemaInfo}: one call per connection that is new or modified
    since the last sync (or every one with full)."""
    snapshot = ctx.snapshot
    wanted = [
        with_prefix(c["id"])
        for c in page.items
        if ctx.full
        or not same_instant(snapshot.connections_modified.get(with_prefix(c["id"])), c.get("modifiedDate"))
        or any((with_prefix(c["id"]), d["dataSetId"]) not in snapshot.pairs for d in c.get("dataSets") or ())
    ]
    if not wanted:
        return {}
    params = {
        "expansion": ",".join(settings.SCHEMA_INFO_EXPANSIONS),
        "includeHiddenDataSets": "true",
        "locale": ctx.cfg.locale,
    }
    out: dict[tuple[str, str], Any] = {}
    with ThreadPoolExecutor(max_workers=int(ctx.cfg.max_concurrency), thread_name_prefix="cja-get") as pool:
        futures = {
            cid: pool.submit(ctx.client.get, "get", settings.endpoint_path("get", connection_id=cid), params)
            for cid in wanted
        }
        for cid, future in futures.items():
            body = future.result()
            for d in (body or {}).get("dataSets") or ():
                if isinstance(d, dict) and d.get("schemaInfo") is not None:
                    out[(cid, str(d.get("dataSetId")))] = d["schemaInfo"]
    return out
