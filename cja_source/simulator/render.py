"""Turn internal records into API dicts, honouring expansions. Only the requested page is rendered."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .config import DATA_SOURCE_TYPES, SIMPLE_CONNECTION_FIELDS
from .model import Backfill, Connection, Dataset, fmt_ms, fmt_s

_VISITOR_IDS = (
    "_id",
    "_exampleorg.team.id",
    "identityMap.ECID",
    "endUserIDs._experience.mcid.id",
    "_exampleorg.crmId",
)
_NAMESPACES = ("ECID", "Email", "teamid", "CRMID", "Phone")
_DATASET_EXPANSIONS = frozenset(
    {"dataSets", "backfillsSummaryDataSets", "dataSetLastIngested", "granularBackfills", "schemaInfo"}
)
ALL_LIST_FIELDS_EXPANSION = frozenset(
    SIMPLE_CONNECTION_FIELDS
    + (
        "modified",
        "validationErrors",
        "backfillsSummaryConnection",
        "backfillsSummaryDataSets",
        "dataSetLastIngested",
        "externalData",
        "dataSets",
    )
)


class RenderOpts:
    __slots__ = ("exp", "by_id", "hidden", "inline_backfills", "extra", "type_changes", "org_id")

    def __init__(
        self,
        exp: frozenset[str],
        by_id: bool,
        hidden: bool,
        inline_backfills: bool,
        extra: dict[str, Any] | None = None,
        type_changes: dict[str, Any] | None = None,
    ) -> None:
        self.exp = exp
        self.by_id = by_id  # by-id-only expansions (ownerFullName, schemaInfo, tags) are honoured
        self.hidden = hidden  # includeHiddenDataSets
        self.inline_backfills = inline_backfills
        self.extra = extra or None
        self.type_changes = type_changes or None


def summary_dict(s: tuple[int, int, int, int]) -> dict[str, Any]:
    return {"total": s[0], "failed": s[1], "inProgress": s[2], "completed": s[3], "invalid": False}


def backfill_dict(b: Backfill, dsid: str, o: RenderOpts | None = None) -> dict[str, Any]:
    out = {
        "id": b[0],
        "dataSetId": dsid,
        "status": b[1],
        "startDate": None if b[4] is None else fmt_ms(b[4]),
        "endDate": None if b[5] is None else fmt_ms(b[5]),
        "createdDate": fmt_ms(b[2]),
        "allData": b[3],
    }
    if o is not None:  # new fields and changed types reach backfills too, inline or not
        _apply_faults(out, o)
    return out


def data_source_type(i: int) -> dict[str, str]:
    t = DATA_SOURCE_TYPES[i]
    return {"id": t[0], "type": t[1], "description": t[2]}


def dataset_base(d: Dataset, cid_uuid: str) -> dict[str, Any]:
    v = d.var
    out: dict[str, Any] = {
        "dataSetId": d.id,
        "domain": "catalog",
        "type": d.type,
        "timestampId": "timestamp",
        "visitorId": _VISITOR_IDS[v % len(_VISITOR_IDS)],
        "identityNamespace": _NAMESPACES[(v >> 3) % len(_NAMESPACES)],
        "usePrimaryIdNamespace": bool(v & 1),
        "identityMap": bool(v & 2),
        "name": d.name,
        "streaming": d.streaming,
    }
    if d.streaming and d.sea_ms is not None:
        out["streamingEnabledAt"] = fmt_s(d.sea_ms)
    out["identityNamespaceCol"] = "identityMap" if v & 2 else out["visitorId"]
    out["dataSourceType"] = data_source_type(d.dst)
    if d.type == "lookup":
        out["lookupKeyField"] = "_exampleorg.sku"
        out["lookupParentFields"] = ["productListItems.SKU"] if d.parent else []
        if d.parent:
            out["lookupParentDataSetId"] = d.parent[0]
            out["lookupParentDataSetType"] = d.parent[1]
    if d.container is not None:
        out["containerFields"] = [
            {"container": d.container, "systemFieldValue": f"_exampleorg.{d.container}Id"}
        ]
    return out


def render_dataset(d: Dataset, c: Connection, o: RenderOpts) -> dict[str, Any]:
    exp = o.exp
    out: dict[str, Any] = dataset_base(d, c.uuid) if "dataSets" in exp else {"dataSetId": d.id}
    if o.by_id and "schemaInfo" in exp:
        sid = f"https://ns.adobe.com/exampleorg/schemas/{d.id}{d.var:04x}"
        out["schemaInfo"] = {
            "schemaId": sid,
            "schemaName": f"{d.name} schema",
            "schemaRef": {"id": sid, "contentType": "application/vnd.adobe.xed-full+json;version=1"},
        }
    if "backfillsSummaryDataSets" in exp:
        out["backfillSummary"] = summary_dict(d.summ)
    if "dataSetLastIngested" in exp and d.li_ms is not None:
        out["lastIngestedTime"] = fmt_ms(d.li_ms)
    if "granularBackfills" in exp and o.inline_backfills:
        out["backfills"] = [backfill_dict(b, d.id, o) for b in d.bfs]
    if d.over:
        out.update(d.over)
    _apply_faults(out, o)
    return out


def render_connection(c: Connection, o: RenderOpts) -> dict[str, Any]:
    exp = o.exp
    f = c.f
    out: dict[str, Any] = {}
    for name in SIMPLE_CONNECTION_FIELDS:
        if name in exp and name in f:
            v = f[name]
            if name == "createdDate":
                v = fmt_ms(v) if isinstance(v, int) else v
            elif name == "owner":
                v = dict(v)
                if o.by_id and "ownerFullName" in exp:
                    v["name"] = c.owner_name
            elif name == "configuredContainers":
                v = [dict(x) for x in v]
            out[name] = v
    if "modified" in exp:
        m = f["modifiedDate"]
        out["modifiedDate"] = fmt_ms(m) if isinstance(m, int) else m
        out["modifiedBy"] = f["modifiedBy"]
        out["modifiedByFullName"] = f["modifiedByFullName"]
    if "validationErrors" in exp:
        out["connectionValidationErrors"] = [dict(e) for e in f.get("connectionValidationErrors", ())]
    if "backfillsSummaryConnection" in exp:
        out["backfillSummary"] = summary_dict(c.summary())
    if "externalData" in exp:
        out["externalData"] = {"externalId": c.uuid, "externalParentId": f["organization"]}
    if o.by_id and "tags" in exp:
        out["tags"] = [dict(t) for t in c.tags]
    if not exp.isdisjoint(_DATASET_EXPANSIONS - {"schemaInfo"}) or (o.by_id and "schemaInfo" in exp):
        out["dataSets"] = [render_dataset(d, c, o) for d in c.ds if o.hidden or not d.hidden]
    for k in f.keys() - _KNOWN_CONN_KEYS:  # fields set via overrides that the generator never produces
        out[k] = f[k]
    _apply_faults(out, o)
    out["idWithoutPrefix"] = c.uuid
    out["id"] = c.id
    return out


_KNOWN_CONN_KEYS = frozenset(SIMPLE_CONNECTION_FIELDS) | {
    "modifiedDate",
    "modifiedBy",
    "modifiedByFullName",
    "connectionValidationErrors",
}


def _apply_faults(out: dict[str, Any], o: RenderOpts) -> None:
    if o.extra:
        for k, v in o.extra.items():
            out.setdefault(k, v)
    if o.type_changes:
        for k, v in o.type_changes.items():
            if k in out:
                out[k] = v


def page(
    items: Sequence[Any], total: int, number: int, size: int, shape: str, sort: tuple[str, str] | None = None
) -> dict[str, Any]:
    """items: the already-rendered content of this page."""
    pages = math.ceil(total / size) if size else 0
    first = number == 0
    last = number >= pages - 1
    if shape == "guide":
        return {
            "content": list(items),
            "number": number,
            "totalElements": total,
            "totalPages": pages,
            "numberOfElements": len(items),
            "firstPage": first,
            "lastPage": last,
            "sort": None,
            "size": size,
        }
    srt = {"unsorted": sort is None, "sorted": sort is not None, "empty": sort is None}
    return {
        "content": list(items),
        "totalPages": pages,
        "totalElements": total,
        "pageable": {
            "paged": True,
            "unpaged": False,
            "pageNumber": number,
            "sort": dict(srt),
            "pageSize": size,
            "offset": number * size,
        },
        "sort": srt,
        "first": first,
        "last": last,
        "number": number,
        "numberOfElements": len(items),
        "size": size,
        "empty": not items,
    }
