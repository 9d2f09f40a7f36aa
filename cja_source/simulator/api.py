"""The CJA Connections endpoints behind the gateway: parameter validation, filtering, sorting, paging."""

from __future__ import annotations

import uuid
from typing import Any

from .config import GET_EXPANSIONS, INCLUDE_STATUS, LIST_EXPANSIONS, SimConfig
from .faults import Faults
from .model import BF_CREATED, BF_STATUS, Connection, parse_iso_ms
from .org import Org, strip_prefix
from .render import RenderOpts, backfill_dict, data_source_type, page, render_connection

Response = tuple[int, Any]


class BadRequest(Exception):
    pass


def error_status(code: str, description: str, status: int) -> Response:
    return status, {"errorCode": code, "errorDescription": description, "errorId": str(uuid.uuid4())}


def _bool(params: dict[str, str], name: str, default: bool) -> bool:
    v = params.get(name)
    if v is None or v == "":
        return default
    if v.lower() in ("true", "false"):
        return v.lower() == "true"
    raise BadRequest(f"invalid value for {name}: {v!r}")


def _int(params: dict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    v = params.get(name)
    if v is None or v == "":
        return default
    try:
        n = int(v)
    except ValueError:
        raise BadRequest(f"invalid value for {name}: {v!r}") from None
    if not lo <= n <= hi:
        raise BadRequest(f"{name} must be between {lo} and {hi}")
    return n


def _csv(params: dict[str, str], name: str) -> list[str]:
    v = params.get(name)
    return [x.strip() for x in v.split(",") if x.strip()] if v else []


def _direction(params: dict[str, str]) -> bool:
    """True when descending."""
    v = (params.get("sortDirection") or "ASC").upper()
    if v not in ("ASC", "DESC"):
        raise BadRequest(f"invalid sortDirection {v!r}")
    return v == "DESC"


def _expansion(params: dict[str, str], allowed: frozenset[str]) -> frozenset[str]:
    exp = frozenset(_csv(params, "expansion"))
    bad = exp - allowed
    if bad:
        raise BadRequest(f"invalid expansion value(s): {', '.join(sorted(bad))}")
    return exp


class Api:
    def __init__(self, cfg: SimConfig, org: Org, faults: Faults) -> None:
        self.cfg = cfg
        self.org = org
        self.faults = faults

    def opts(self, exp: frozenset[str], by_id: bool, hidden: bool) -> RenderOpts:
        f = self.faults
        return RenderOpts(
            exp, by_id, hidden, self.cfg.inline_backfills, dict(f.extra_fields), dict(f.type_changes)
        )

    def handle(self, route: str, parts: list[str], params: dict[str, str], admin: bool) -> Response:
        try:
            if route == "list":
                return self.list(params, admin)
            if route == "search":
                return self.search(params, admin)
            if route == "configurationSettings":
                return 200, {"dataSourceTypes": [data_source_type(i) for i in range(11)]}
            if route == "get":
                return self.get(parts[0], params, admin)
            if route == "backfills":
                return self.backfills(parts[0], parts[1], params, admin)
        except BadRequest as e:
            return error_status("invalid_parameters", str(e), 400)
        return error_status("resource_not_found", "no such resource", 404)

    # ----- list -----

    def list(self, params: dict[str, str], admin: bool) -> Response:
        exp = _expansion(params, LIST_EXPANSIONS | {"ownerFullName", "schemaInfo", "tags", "internalLabels"})
        include = set(_csv(params, "includeType"))
        if include - {"systemUserOwned", "disabled"}:
            raise BadRequest(f"invalid includeType: {params.get('includeType')}")
        hidden = _bool(params, "includeHiddenDataSets", False)
        cached = _bool(params, "cached", True)
        limit = _int(params, "limit", 10, 1, 1000)
        number = _int(params, "page", 0, 0, 2**31 - 1)
        desc = _direction(params)
        prop = params.get("sortProperty") or "id"
        if prop not in ("id", "modifiedDate"):
            raise BadRequest("sortProperty: only modifiedDate and id are currently allowed")
        after = None
        if params.get("filterByModifiedAfter"):
            try:
                after = parse_iso_ms(params["filterByModifiedAfter"])
            except ValueError:
                raise BadRequest("filterByModifiedAfter must be ISO8601") from None
        cids = {strip_prefix(x) for x in _csv(params, "connectionIds")}
        dsids = set(_csv(params, "dataSetIds"))
        sb_id, sb_name = params.get("sandboxId"), params.get("sandboxName")

        if number > 0 and self.faults.take_drift():
            self._drift(prop, desc, include, sb_id, sb_name)

        rows: list[Connection] = []
        if admin:  # a non-admin credential gets 200 with an empty listing
            for c in self.org.snapshot(cached).values():
                f = c.f
                if f.get("isDisabled") and "disabled" not in include:
                    continue
                if f["owner"].get("type") == "systemUser" and "systemUserOwned" not in include:
                    continue
                if cids and c.uuid not in cids:
                    continue
                if sb_id and f.get("sandboxId") != sb_id:
                    continue
                if sb_name and f.get("sandboxName") != sb_name:
                    continue
                if after is not None and _ms(f["modifiedDate"]) < after:
                    continue
                if dsids and not any(d.id in dsids for d in c.ds):
                    continue
                rows.append(c)
        if prop == "id":
            rows.sort(key=lambda c: c.uuid, reverse=desc)
        else:
            rows.sort(key=lambda c: (_ms(c.f["modifiedDate"]), c.uuid), reverse=desc)
        o = self.opts(exp, False, hidden)
        if self.faults.ignore_page:
            number = 0
        chunk = rows[number * limit : (number + 1) * limit]
        content = [render_connection(c, o) for c in chunk]
        body = page(content, len(rows), number, limit, self.cfg.page_shape, (prop, "DESC" if desc else "ASC"))
        return 200, self._page_faults(body, limit, ignore_page=self.faults.ignore_page)

    def _page_faults(self, body: dict[str, Any], limit: int, ignore_page: bool = False) -> dict[str, Any]:
        """A page envelope that never says last, or announces more pages than there are."""
        claim = self.faults.claim_total_pages
        if claim is not None:
            body.update(totalPages=claim, totalElements=claim * limit)
        if ignore_page or claim is not None:
            for key in ("lastPage", "last"):
                if key in body:
                    body[key] = False
        return body

    def _drift(
        self, prop: str, desc: bool, include: set[str], sb_id: str | None, sb_name: str | None
    ) -> None:
        """Insert a visible connection that sorts before everything, so every later item shifts by one."""
        org = self.org
        with org.lock:
            c = org.gen.connection(org.mut_rng, org.now_ms)
            f = dict(c.f)
            f["isDisabled"] = False
            f["owner"] = {**f["owner"], "type": "imsUser"}
            if sb_id or sb_name:
                f["sandboxId"], f["sandboxName"] = next(
                    (s for s in org.gen.sandboxes if s[0] == sb_id or s[1] == sb_name), (sb_id, sb_name)
                )
            uid = c.uuid
            if prop == "id":
                uid = ("ffffffff" if desc else "00000000") + uid[8:]
            else:
                ms = [_ms(x.f["modifiedDate"]) for x in org.conns.values()] or [org.now_ms]
                f["modifiedDate"] = max(ms) + 1000 if desc else min(ms) - 1000
            org.insert_raw(Connection(uid, f, c.ds, c.owner_name, c.tags))

    # ----- search / get -----

    def search(self, params: dict[str, str], admin: bool) -> Response:
        exp = _expansion(params, GET_EXPANSIONS)
        hidden = _bool(params, "includeHiddenDataSets", False)
        limit = _int(params, "limit", 10, 1, 1000)
        number = _int(params, "page", 0, 0, 2**31 - 1)
        q = (params.get("query") or "").strip().lower()
        rows = []
        if admin:
            for c in self.org.snapshot().values():
                f = c.f
                if f.get("isDisabled") or f["owner"].get("type") == "systemUser":
                    continue
                if q and q not in str(f.get("name", "")).lower() and strip_prefix(q) not in c.uuid:
                    continue
                rows.append(c)
        rows.sort(key=lambda c: c.uuid)
        o = self.opts(exp, True, hidden)
        content = [render_connection(c, o) for c in rows[number * limit : (number + 1) * limit]]
        return 200, page(content, len(rows), number, limit, self.cfg.page_shape, ("id", "ASC"))

    def get(self, cid: str, params: dict[str, str], admin: bool) -> Response:
        exp = _expansion(params, GET_EXPANSIONS)
        hidden = _bool(params, "includeHiddenDataSets", False)
        c = self.org.get(cid) if admin else None
        if c is None:
            return error_status("resource_not_found", "could not find connection with given parameters", 404)
        return 200, render_connection(c, self.opts(exp, True, hidden))

    # ----- backfills -----

    def backfills(self, cid: str, dsid: str, params: dict[str, str], admin: bool) -> Response:
        statuses = set()
        for s in _csv(params, "includeStatus"):
            if s not in INCLUDE_STATUS:
                raise BadRequest(f"invalid includeStatus {s!r}; allowed: inProgress, completed, failed")
            statuses.add(INCLUDE_STATUS[s])
        limit = _int(params, "limit", 10, 1, 1000)
        number = _int(params, "page", 0, 0, 2**31 - 1)
        desc = _direction(params)
        prop = params.get("sortProperty") or "createdDate"
        if prop != "createdDate":
            raise BadRequest("sortProperty: only createdDate is allowed")
        d = self.org.find_dataset(cid, dsid) if admin else None
        if d is None:
            return error_status("resource_not_found", "could not find backfills for given parameters", 404)
        bfs = [b for b in d.bfs if b[BF_STATUS] in statuses] if statuses else list(d.bfs)
        bfs.sort(key=lambda b: (b[BF_CREATED], b[0]), reverse=desc)
        opts = self.opts(frozenset(), False, True)
        if self.faults.endless_backfills:
            return 200, _endless_backfills(d.id, number, limit)
        content = [backfill_dict(b, d.id, opts) for b in bfs[number * limit : (number + 1) * limit]]
        # the guide documents only this envelope for backfills
        return 200, self._page_faults(page(content, len(bfs), number, limit, "guide"), limit)


def _ms(v: Any) -> int:
    return v if isinstance(v, int) else parse_iso_ms(v)


def _endless_backfills(dsid: str, number: int, limit: int) -> dict[str, Any]:
    """A full page of backfills never seen before, and always one more page to come."""
    content = [
        {
            "id": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{dsid}/{number}/{i}")),
            "dataSetId": dsid,
            "status": "IN_QUEUE",
            "startDate": None,
            "endDate": None,
            "createdDate": "2026-01-01T00:00:00Z",
            "allData": True,
        }
        for i in range(limit)
    ]
    return page(content, (number + 2) * limit, number, limit, "guide")
