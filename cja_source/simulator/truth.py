"""Ground truth: what a complete sync (all list expansions, all includeTypes, hidden datasets) must hold."""

from __future__ import annotations

from typing import Any

from .model import Connection, parse_iso_ms
from .render import ALL_LIST_FIELDS_EXPANSION, RenderOpts, backfill_dict, data_source_type, render_connection

_VALIDATION_KEYS = ("errorCode", "dataSetId", "dataSetName", "disallowedField", "missingField")


class Truth:
    """A snapshot built from fresh dicts, so later mutations of the simulator never change it."""

    def __init__(self, conns: list[Connection], now_ms: int) -> None:
        self.now_ms = now_ms
        opts = RenderOpts(ALL_LIST_FIELDS_EXPANSION, by_id=False, hidden=True, inline_backfills=False)
        self.connections: dict[str, dict[str, Any]] = {}
        self.datasets: dict[tuple[str, str], dict[str, Any]] = {}
        self.backfills: dict[str, dict[str, Any]] = {}
        self.validation_errors: list[dict[str, Any]] = []
        self.configured_containers: list[dict[str, Any]] = []
        self.container_fields: list[dict[str, Any]] = []
        self.data_source_types: list[dict[str, Any]] = [data_source_type(i) for i in range(11)]
        for c in sorted(conns, key=lambda x: x.uuid):
            cd = render_connection(c, opts)
            cid = c.id
            for dd in cd.pop("dataSets", []):
                self.datasets[(cid, dd["dataSetId"])] = dd
                for cf in dd.get("containerFields", ()):
                    self.container_fields.append({"connectionId": cid, "dataSetId": dd["dataSetId"], **cf})
            self.connections[cid] = cd
            for e in cd.get("connectionValidationErrors", ()):
                self.validation_errors.append(
                    {**{k: e.get(k) for k in _VALIDATION_KEYS}, "connectionId": cid}
                )
            for cc in cd.get("configuredContainers", ()):
                self.configured_containers.append({"connectionId": cid, "container": cc["container"]})
            for d in c.ds:
                for b in d.bfs:
                    bd = backfill_dict(b, d.id)
                    bd["connectionId"] = cid
                    self.backfills[b[0]] = bd

    def stuck_backfills(self, hours: float = 168) -> list[str]:
        cut = self.now_ms - hours * 3_600_000
        return sorted(
            b["id"]
            for b in self.backfills.values()
            if b["status"] in ("IN_PROGRESS", "IN_QUEUE") and parse_iso_ms(b["createdDate"]) < cut
        )

    def failed_backfills(self) -> list[str]:
        return sorted(b["id"] for b in self.backfills.values() if b["status"] == "FAILED")

    def stale_datasets(self, hours: float = 48) -> list[tuple[str, str]]:
        cut = self.now_ms - hours * 3_600_000
        out = []
        for key, d in self.datasets.items():
            if not d.get("streaming"):
                continue
            li = d.get("lastIngestedTime")
            if li is None or parse_iso_ms(li) < cut:
                out.append(key)
        return sorted(out)
