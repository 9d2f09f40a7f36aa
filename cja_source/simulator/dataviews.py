"""Simulated data views and their components: generation from the org's connections, storage,
mutations and the ground truth. A data view reads exactly one connection (`parentDataGroupId`);
its dimensions and metrics read some of that connection's datasets (`dataSetIds`).

Generated from a random stream of its own, so adding data views changes nothing else an org of a
given seed holds. Records are replaced, never changed in place (as connections are, see model.py)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from random import Random
from typing import Any

from .hostile import hostile_name
from .model import Connection, fmt_ms, rand_hex, rand_uuid

DAY = 24 * 3_600_000
DIMENSION_TYPES = ("STRING", "INT", "ENUM", "TIME", "BOOLEAN")
METRIC_TYPES = ("INT", "DECIMAL", "CURRENCY", "PERCENT")
_TIMEZONES = (("US/Pacific", -8.0), ("Europe/Berlin", 1.0), ("UTC", 0.0), ("Asia/Tokyo", 9.0))
_DV_WORDS = ("EMEA", "Web", "Exec", "KPIs", "Mobile", "Retail", "Loyalty", "Global", "Checkout", "Media")
_FIELDS = ("page_name", "channel", "campaign", "product", "region", "device", "order_id", "revenue")


@dataclass(frozen=True)
class Component:
    id: str
    kind: str  # dimension | metric
    name: str
    type: str
    source_field_id: str
    hidden: bool
    has_data: bool
    data_set_ids: tuple[str, ...]
    description: str | None = None


@dataclass(frozen=True)
class DataView:
    id: str
    f: dict[str, Any]  # API fields: name, description, owner, parentDataGroupId, dates (epoch ms), ...
    is_deleted: bool = False
    components: tuple[Component, ...] = field(default_factory=tuple)


class DataViewStore:
    """Every data view of the org, deleted ones included (listed only with includeType=deleted)."""

    def __init__(self, seed: int, org_id: str, users: list[tuple[str, str]], hostile: bool = False) -> None:
        self.rng = Random(seed ^ 0xDA7A)
        self.org_id = org_id
        self.users = users
        self.views: dict[str, DataView] = {}
        # names from simulator/hostile.py in turn (SimConfig.hostile_names), drawn from no stream
        self.hostile = hostile
        self.names_given = 0

    # ----- generation -----

    def generate(self, conns: list[Connection], now_ms: int) -> None:
        """Most connections feed 1-3 data views, about a fifth none (orphans); a few data views read
        a connection that does not exist, and a few are deleted."""
        r = self.rng
        for c in sorted(conns, key=lambda x: x.uuid):
            x = r.random()
            n = 0 if x < 0.2 else 1 if x < 0.6 else 2 if x < 0.85 else 3
            for _ in range(n):
                dv = self.new_view(r, c.id, [d.id for d in c.ds], now_ms)
                if r.random() < 0.04:
                    dv = replace(dv, is_deleted=True)
                self.views[dv.id] = dv
        for _ in range(max(1, len(conns) // 20)):
            missing = "dg_" + rand_uuid(r)
            dv = self.new_view(r, missing, [rand_hex(r, 24)], now_ms)
            self.views[dv.id] = dv

    def new_view(self, r: Random, cid: str, dsids: list[str], now_ms: int, **over: Any) -> DataView:
        created = now_ms - r.randint(DAY, 600 * DAY)
        modified = r.randint(created, now_ms - 60_000)
        by, by_name = r.choice(self.users)
        tz, offset = r.choice(_TIMEZONES)
        uid = rand_hex(r, 24)
        f: dict[str, Any] = {
            "name": f"{r.choice(_DV_WORDS)} {r.choice(_DV_WORDS)} {r.randint(1, 99)}",
            "description": "" if r.random() < 0.4 else "Reporting view",
            "owner": {"imsUserId": by, "name": by_name},
            "parentDataGroupId": cid,
            "segmentList": [f"s{rand_hex(r, 8)}" for _ in range(r.randint(0, 2))],
            "currentTimezoneOffset": offset,
            "timezoneDesignator": tz,
            "createdDate": created,
            "modifiedDate": modified,
            "modifiedBy": by,
            "organization": self.org_id,
            "curationEnabled": r.random() < 0.3,
            "recentRecordedAccess": fmt_ms(now_ms - r.randint(0, 90 * DAY))[:10],
            "sessionDefinition": [
                {"numPeriods": r.choice((15, 30)), "granularity": "MINUTE", "func": "INACTIVITY"}
            ],
            "externalData": {"externalId": uid, "externalParentId": cid.removeprefix("dg_")},
            "containerNames": {"event": "Event", "session": "Session", "people": "Person"},
        }
        if self.hostile:
            f["name"] = hostile_name(self.names_given)
            self.names_given += 1
        f.update(over)
        comps = tuple(self.new_component(r, kind, dsids) for kind in _kinds(r))
        return DataView("dv_" + uid, f, False, _unique(comps))

    def new_component(self, r: Random, kind: str, dsids: list[str], **over: Any) -> Component:
        word = r.choice(_FIELDS)
        prefix = "variables" if kind == "dimension" else "metrics"
        reads = tuple(sorted(r.sample(dsids, min(len(dsids), r.randint(1, 2))))) if dsids else ()
        comp = Component(
            id=f"{prefix}/{word}_{rand_hex(r, 6)}",
            kind=kind,
            name=f"{word.replace('_', ' ').title()} {r.randint(1, 99)}",
            type=r.choice(DIMENSION_TYPES if kind == "dimension" else METRIC_TYPES),
            source_field_id=f"_exampleorg.{word}",
            hidden=r.random() < 0.1,
            has_data=r.random() < 0.85,
            data_set_ids=reads,
            description=None if r.random() < 0.5 else f"The {word}",
        )
        return replace(comp, **over) if over else comp

    # ----- mutations (callers hold the org's lock) -----

    def touch(self, dv: DataView, now_ms: int, **f: Any) -> DataView:
        by, _name = self.rng.choice(self.users)
        return replace(dv, f={**dv.f, **f, "modifiedDate": now_ms, "modifiedBy": by})

    def need(self, dvid: str) -> DataView:
        dv = self.views.get(dvid)
        if dv is None:
            raise KeyError(f"unknown data view {dvid}")
        return dv

    def move(self, dvid: str, cid: str, dsids: list[str], now_ms: int) -> None:
        """To another connection: its components read that connection's datasets from now on."""
        dv = self.need(dvid)
        comps = tuple(
            replace(c, data_set_ids=tuple(sorted(self.rng.sample(dsids, 1))) if dsids else ())
            for c in dv.components
        )
        moved = self.touch(dv, now_ms, parentDataGroupId=cid)
        self.views[dvid] = replace(moved, components=comps)

    def delete(self, dvid: str, hard: bool) -> None:
        """hard: gone from every listing; otherwise listed isDeleted with includeType=deleted."""
        dv = self.need(dvid)
        if hard:
            del self.views[dvid]
        else:
            self.views[dvid] = replace(dv, is_deleted=True)

    def add(self, cid: str, dsids: list[str], now_ms: int, **over: Any) -> str:
        dv = self.new_view(self.rng, cid, dsids, now_ms, **over)
        dv = replace(dv, f={**dv.f, "createdDate": now_ms, "modifiedDate": now_ms})
        self.views[dv.id] = dv
        return dv.id

    def add_component(self, dvid: str, kind: str, dsids: list[str], now_ms: int, **over: Any) -> str:
        if kind not in ("dimension", "metric"):
            raise ValueError("kind must be dimension or metric")
        dv = self.need(dvid)
        comp = self.new_component(self.rng, kind, dsids, **over)
        if any(c.id == comp.id for c in dv.components):
            raise ValueError(f"data view {dvid} already has component {comp.id}")
        self.views[dvid] = replace(self.touch(dv, now_ms), components=(*dv.components, comp))
        return comp.id

    def remove_component(self, dvid: str, component_id: str, now_ms: int) -> None:
        dv = self.need(dvid)
        if not any(c.id == component_id for c in dv.components):
            raise KeyError(f"unknown component {component_id} of {dvid}")
        comps = tuple(c for c in dv.components if c.id != component_id)
        self.views[dvid] = replace(self.touch(dv, now_ms), components=comps)


def _kinds(r: Random) -> list[str]:
    return ["dimension"] * r.randint(3, 8) + ["metric"] * r.randint(2, 5)


def _unique(comps: tuple[Component, ...]) -> tuple[Component, ...]:
    seen: set[str] = set()
    out = []
    for c in comps:
        if c.id not in seen:
            seen.add(c.id)
            out.append(c)
    return tuple(out)


# ----- rendering -----

LIST_EXPANSIONS = frozenset(
    {
        "name",
        "description",
        "owner",
        "isDeleted",
        "parentDataGroupId",
        "segmentList",
        "currentTimezoneOffset",
        "timezoneDesignator",
        "modified",
        "createdDate",
        "organization",
        "curationEnabled",
        "recentRecordedAccess",
        "sessionDefinition",
        "externalData",
        "containerNames",
    }
)
COMPONENT_EXPANSIONS = frozenset(
    {
        "approved",
        "favorite",
        "tags",
        "usageSummary",
        "usageSummaryWithRelevancyScore",
        "description",
        "sourceFieldId",
        "segmentable",
        "required",
        "hideFromReporting",
        "hidden",
        "includeExcludeSetting",
        "fieldDefinition",
        "bucketingSetting",
        "noValueOptionsSetting",
        "defaultDimensionSort",
        "persistenceSetting",
        "storageId",
        "tableName",
        "dataSetIds",
        "dataSetType",
        "type",
        "schemaPath",
        "hasData",
        "sourceFieldName",
        "schemaType",
        "sourceFieldType",
        "fromGlobalLookup",
        "multiValued",
        "precision",
        "countType",
        "formatSetting",
        "attributionSetting",
    }
)
_SIMPLE = (
    "name",
    "description",
    "parentDataGroupId",
    "segmentList",
    "currentTimezoneOffset",
    "timezoneDesignator",
    "organization",
    "curationEnabled",
    "recentRecordedAccess",
    "sessionDefinition",
    "externalData",
    "containerNames",
)


def render_view(dv: DataView, exp: frozenset[str]) -> dict[str, Any]:
    f = dv.f
    out: dict[str, Any] = {}
    for name in _SIMPLE:
        if name in exp and name in f:
            v = f[name]
            out[name] = [dict(x) if isinstance(x, dict) else x for x in v] if isinstance(v, list) else v
            if isinstance(v, dict):
                out[name] = dict(v)
    if "owner" in exp:
        out["owner"] = dict(f["owner"])
    if "isDeleted" in exp:
        out["isDeleted"] = dv.is_deleted
    if "createdDate" in exp:
        out["createdDate"] = fmt_ms(f["createdDate"])
    if "modified" in exp:
        out["modifiedDate"] = fmt_ms(f["modifiedDate"])
        out["modifiedBy"] = f["modifiedBy"]
    out["id"] = dv.id
    return out


def render_component(c: Component, exp: frozenset[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": c.id, "name": c.name}
    values = {
        "description": c.description,
        "sourceFieldId": c.source_field_id,
        "sourceFieldName": c.source_field_id.rsplit(".", 1)[-1],
        "sourceFieldType": "string" if c.kind == "dimension" else "int",
        "hidden": c.hidden,
        "hasData": c.has_data,
        "type": c.type,
        "dataSetIds": list(c.data_set_ids),
        "dataSetType": "EVENT",
        "schemaPath": c.source_field_id,
    }
    for name, v in values.items():
        if name in exp and v is not None:  # the spec types each as a string, never null
            out[name] = v
    return out


def truth_of(store: DataViewStore) -> dict[str, Any]:
    """What a complete sync holds: every data view (all expansions, deleted ones included), every
    component of every live data view, and its dataset links."""
    views: dict[str, dict[str, Any]] = {}
    comps: dict[tuple[str, str], dict[str, Any]] = {}
    links: set[tuple[str, str, str]] = set()
    for dv in sorted(store.views.values(), key=lambda v: v.id):
        views[dv.id] = render_view(dv, LIST_EXPANSIONS)
        if dv.is_deleted:
            continue
        for c in dv.components:
            comps[(dv.id, c.id)] = {"kind": c.kind, **render_component(c, COMPONENT_EXPANSIONS)}
            links.update((dv.id, c.id, d) for d in c.data_set_ids)
    return {"data_views": views, "components": comps, "component_datasets": links}
