"""The data view endpoints behind the gateway (Adobe's OpenAPI file, `/data/dataviews*`): the paged
listing with its filters, expansions, includeType=deleted and sorting, one data view by id, and
its dimensions and metrics, answered as a page or, as the spec's response schema reads, a bare list."""

from __future__ import annotations

from typing import Any

from .api import BadRequest, _bool, _csv, _direction, _expansion, _int, error_status
from .config import SimConfig
from .dataviews import COMPONENT_EXPANSIONS, LIST_EXPANSIONS, DataView, render_component, render_view
from .model import parse_iso_ms
from .org import Org
from .render import page

Response = tuple[int, Any]
SORT_PROPERTIES = ("id", "modifiedDate", "name")


class DataViewApi:
    def __init__(self, cfg: SimConfig, org: Org) -> None:
        self.cfg = cfg
        self.org = org

    def handle(self, route: str, parts: list[str], params: dict[str, str], admin: bool) -> Response:
        try:
            if route == "dataviews":
                return self.list(params, admin)
            if route == "dataview":
                return self.get(parts[0], params, admin)
            if route in ("dimensions", "metrics"):
                return self.components(parts[0], route[:-1], params, admin)
        except BadRequest as e:
            return error_status("invalid_parameters", str(e), 400)
        return error_status("resource_not_found", "no such resource", 404)

    def list(self, params: dict[str, str], admin: bool) -> Response:
        exp = _expansion(params, LIST_EXPANSIONS)
        include = set(_csv(params, "includeType"))
        if include - {"deleted"}:
            raise BadRequest(f"invalid includeType: {params.get('includeType')}")
        _bool(params, "cached", True)
        limit = _int(params, "limit", 10, 1, 1000)
        number = _int(params, "page", 0, 0, 2**31 - 1)
        desc = _direction(params)
        prop = params.get("sortProperty") or "id"
        if prop not in SORT_PROPERTIES:
            raise BadRequest(f"sortProperty must be one of {', '.join(SORT_PROPERTIES)}")
        parent = params.get("parentDataGroupId")
        ids = set(_csv(params, "dataViewIds"))
        external = set(_csv(params, "externalIds"))
        external_parents = set(_csv(params, "externalParentIds"))
        rows: list[DataView] = []
        if admin:
            with self.org.lock:
                views = list(self.org.dataviews.views.values())
            for dv in views:
                f = dv.f
                if dv.is_deleted and "deleted" not in include:
                    continue
                if parent and f["parentDataGroupId"] != parent:
                    continue
                if ids and dv.id not in ids:
                    continue
                if external and f["externalData"]["externalId"] not in external:
                    continue
                if external_parents and f["externalData"]["externalParentId"] not in external_parents:
                    continue
                rows.append(dv)
        if prop == "id":
            rows.sort(key=lambda v: v.id, reverse=desc)
        elif prop == "name":
            rows.sort(key=lambda v: (str(v.f["name"]), v.id), reverse=desc)
        else:
            rows.sort(key=lambda v: (_ms(v.f["modifiedDate"]), v.id), reverse=desc)
        content = [render_view(dv, exp) for dv in rows[number * limit : (number + 1) * limit]]
        sort = (prop, "DESC" if desc else "ASC")
        return 200, page(content, len(rows), number, limit, self.cfg.page_shape, sort)

    def get(self, dvid: str, params: dict[str, str], admin: bool) -> Response:
        exp = _expansion(params, LIST_EXPANSIONS)
        with self.org.lock:
            dv = self.org.dataviews.views.get(dvid) if admin else None
        if dv is None:
            return error_status("resource_not_found", "Unable to find Data View ID", 404)
        return 200, render_view(dv, exp)

    def components(self, dvid: str, kind: str, params: dict[str, str], admin: bool) -> Response:
        exp = _expansion(params, COMPONENT_EXPANSIONS)
        include = set(_csv(params, "includeType"))
        if include - {"hidden"}:
            raise BadRequest(f"invalid includeType: {params.get('includeType')}")
        limit = _int(params, "limit", 10, 1, 1000)
        number = _int(params, "page", 0, 0, 2**31 - 1)
        with self.org.lock:
            dv = self.org.dataviews.views.get(dvid) if admin else None
        if dv is None:
            return error_status("resource_not_found", f"Could not find {kind}s for dataview", 404)
        comps = sorted(
            (c for c in dv.components if c.kind == kind and (not c.hidden or "hidden" in include)),
            key=lambda c: c.id,
        )
        if self.cfg.component_shape == "list":  # the spec's schema: every component, no envelope
            return 200, [render_component(c, exp) for c in comps]
        content = [render_component(c, exp) for c in comps[number * limit : (number + 1) * limit]]
        return 200, page(content, len(comps), number, limit, self.cfg.page_shape, ("id", "ASC"))


def _ms(v: Any) -> int:
    return v if isinstance(v, int) else parse_iso_ms(v)
