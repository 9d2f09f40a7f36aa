"""The Simulator facade: generated org + HTTP server + faults + counters + admin actions."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import orjson

from .api import Api
from .config import SimConfig
from .dataview_api import DataViewApi
from .dataviews import truth_of
from .faults import Faults
from .gateway import Counters, Gateway
from .model import BF_STATUS, ms_to_dt, parse_iso_ms
from .org import Org
from .server import Handler, SimServer
from .truth import Truth


class Simulator:
    def __init__(self, cfg: SimConfig | None = None) -> None:
        self.cfg = cfg or SimConfig()
        self.org = Org(self.cfg)
        self.faults = Faults(self.cfg.latency_ms, self.cfg.error_rate)
        self.gateway = Gateway(self.cfg)
        self._counters = Counters()
        self.api = Api(self.cfg, self.org, self.faults)
        self.dataview_api = DataViewApi(self.cfg, self.org)
        self._server: SimServer | None = None
        self._thread: threading.Thread | None = None

    # ----- lifecycle -----

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Simulator:
        if self._server is not None:
            return self
        srv = SimServer((host, port), Handler)
        srv.sim = self
        self._server = srv
        self._thread = threading.Thread(
            target=srv.serve_forever, kwargs={"poll_interval": 0.1}, name="cja-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        srv, self._server = self._server, None
        if srv is not None:
            srv.shutdown()
            srv.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("simulator is not started")
        address = self._server.server_address
        host = address[0].decode() if isinstance(address[0], bytes) else str(address[0])
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{address[1]}"

    @property
    def token_url(self) -> str:
        return self.base_url + "/ims/token/v3"

    def counters(self) -> dict[str, dict[str, int]]:
        """{endpoint: {status: n}}, e.g. {"list": {"200": 3, "429": 1}}."""
        return self._counters.snapshot()

    # ----- clock -----

    @property
    def now(self) -> datetime:
        return self.org.now

    def set_now(self, dt: datetime) -> None:
        self.org.set_now(dt)

    def advance(self, **kw: float) -> None:
        """timedelta keywords: days, hours, minutes, seconds."""
        self.org.advance(**kw)

    def advance_streaming(self, **kw: float) -> None:
        """advance(), and every streaming dataset ingests on: it stays as fresh or stale as it was."""
        self.org.advance_streaming(**kw)

    # ----- counters -----

    def count(self, endpoint: str | None = None, status: int | str | None = None) -> int:
        return self._counters.count(endpoint, status)

    def reset_counters(self) -> None:
        self._counters.reset()

    # ----- truth & lookup helpers -----

    def truth(self) -> Truth:
        with self.org.lock:
            conns = list(self.org.conns.values())
            now_ms = self.org.now_ms
        return Truth(conns, now_ms)

    def connection_ids(self) -> list[str]:
        return self.org.connection_ids()

    def dataset_ids(self, cid: str) -> list[str]:
        return self.org.dataset_ids(cid)

    def backfill_ids(self, cid: str, dsid: str) -> list[str]:
        return self.org.backfill_ids(cid, dsid)

    def pick(
        self,
        *,
        min_backfills: int = 0,
        statuses: tuple[str, ...] = (),
        disabled: bool | None = None,
        system_owned: bool | None = None,
        hidden_dataset: bool | None = None,
        b2b: bool | None = None,
        validation_errors: bool | None = None,
    ) -> tuple[str, str | None]:
        """First (connection id, dataset id) in id order matching all criteria; dataset criteria
        (min_backfills, statuses, hidden_dataset) pick the dataset. Raises LookupError."""
        with self.org.lock:
            conns = sorted(self.org.conns.values(), key=lambda c: c.uuid)
        for c in conns:
            f = c.f
            if disabled is not None and bool(f.get("isDisabled")) != disabled:
                continue
            if system_owned is not None and (f["owner"].get("type") == "systemUser") != system_owned:
                continue
            if b2b is not None and (f.get("primaryIdType") == "account") != b2b:
                continue
            if (
                validation_errors is not None
                and bool(f.get("connectionValidationErrors")) != validation_errors
            ):
                continue
            for d in c.ds:
                if len(d.bfs) < min_backfills:
                    continue
                if statuses and not set(statuses) <= {b[BF_STATUS] for b in d.bfs}:
                    continue
                if hidden_dataset is not None and d.hidden != hidden_dataset:
                    continue
                return c.id, d.id
            if not (min_backfills or statuses or hidden_dataset is not None) and not c.ds:
                return c.id, None
        raise LookupError("no connection/dataset matches")

    # ----- mutations -----

    def add_connection(self, **overrides: Any) -> str:
        return self.org.add_connection(**overrides)

    def modify_connection(self, cid: str, **fields: Any) -> None:
        self.org.modify_connection(cid, **fields)

    def set_daily_events(self, cid: str, count: int | None) -> None:
        self.org.set_daily_events(cid, count)

    def delete_connection(self, cid: str) -> None:
        self.org.delete_connection(cid)

    def add_dataset(self, cid: str, **overrides: Any) -> str:
        return self.org.add_dataset(cid, **overrides)

    def remove_dataset(self, cid: str, dsid: str) -> None:
        self.org.remove_dataset(cid, dsid)

    def add_backfill(
        self,
        cid: str,
        dsid: str,
        status: str = "IN_QUEUE",
        created: datetime | str | None = None,
    ) -> str:
        return self.org.add_backfill(cid, dsid, status, created)

    def set_backfill_status(self, bid: str, status: str) -> None:
        self.org.set_backfill_status(bid, status)

    def set_backfill_statuses(self, statuses: dict[str, str]) -> None:
        """{backfill id: status}, in one scan of the org."""
        self.org.set_backfill_statuses(statuses)

    # ----- data views -----

    def data_view_truth(self) -> dict[str, Any]:
        """{"data_views": {id: item}, "components": {(dv, id): item}, "component_datasets": {(dv, c, ds)}}"""
        with self.org.lock:
            return truth_of(self.org.dataviews)

    def data_view_ids(self, deleted: bool = False) -> list[str]:
        with self.org.lock:
            return sorted(v.id for v in self.org.dataviews.views.values() if v.is_deleted == deleted)

    def _dataset_ids(self, cid: str) -> list[str]:
        c = self.org.get(cid)
        return [d.id for d in c.ds] if c is not None else []

    def move_data_view(self, dvid: str, cid: str) -> None:
        with self.org.lock:
            self.org.dataviews.move(dvid, cid, self._dataset_ids(cid), self.org.now_ms)

    def delete_data_view(self, dvid: str, hard: bool = False) -> None:
        with self.org.lock:
            self.org.dataviews.delete(dvid, hard)

    def add_data_view(self, cid: str, **fields: Any) -> str:
        with self.org.lock:
            return self.org.dataviews.add(cid, self._dataset_ids(cid), self.org.now_ms, **fields)

    def add_component(self, dvid: str, kind: str = "dimension", **fields: Any) -> str:
        with self.org.lock:
            store = self.org.dataviews
            dsids = self._dataset_ids(store.need(dvid).f["parentDataGroupId"])
            return store.add_component(dvid, kind, dsids, self.org.now_ms, **fields)

    def remove_component(self, dvid: str, component_id: str) -> None:
        with self.org.lock:
            self.org.dataviews.remove_component(dvid, component_id, self.org.now_ms)

    # ----- admin route -----

    def _admin(self, method: str, action: str, body: bytes) -> tuple[int, Any]:
        try:
            args: dict[str, Any] = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError:
            return 400, {"error": "body must be JSON"}
        try:
            return 200, self._admin_action(method, action.strip("/"), args)
        except (KeyError, LookupError) as e:
            return 404, {"error": str(e)}
        except (ValueError, TypeError) as e:
            return 400, {"error": str(e)}

    def _admin_action(self, method: str, action: str, a: dict[str, Any]) -> Any:
        if method == "GET":
            if action == "counters":
                return self._counters.snapshot()
            if action == "truth":
                return truth_json(self.truth())
            if action == "data_views":
                t = self.data_view_truth()
                return {
                    "data_views": t["data_views"],
                    "components": len(t["components"]),
                    "component_datasets": len(t["component_datasets"]),
                }
            if action == "now":
                return {"now": self.now.isoformat()}
            if action == "faults":
                return self.faults.as_dict()
            raise KeyError(f"unknown admin GET {action}")
        if action == "add_connection":
            return {"connectionId": self.add_connection(**a.get("fields", a))}
        if action == "modify_connection":
            self.modify_connection(a["connectionId"], **a.get("fields", {}))
        elif action == "delete_connection":
            self.delete_connection(a["connectionId"])
        elif action == "add_dataset":
            return {"dataSetId": self.add_dataset(a["connectionId"], **a.get("fields", {}))}
        elif action == "remove_dataset":
            self.remove_dataset(a["connectionId"], a["dataSetId"])
        elif action == "add_backfill":
            return {
                "backfillId": self.add_backfill(
                    a["connectionId"], a["dataSetId"], a.get("status", "IN_QUEUE"), a.get("created")
                )
            }
        elif action == "set_backfill_status":
            self.set_backfill_status(a["backfillId"], a["status"])
        elif action in _DATA_VIEW_ACTIONS:
            return self._data_view_action(action, a)
        elif action == "set_now":
            self.set_now(ms_to_dt(parse_iso_ms(a["now"])))
        elif action == "advance":
            self.advance(**a)
        elif action == "faults":
            if a.pop("reset", False):
                self.faults.reset()
            self.faults.set(**a)
            return self.faults.as_dict()
        elif action == "reset_counters":
            self.reset_counters()
        else:
            raise KeyError(f"unknown admin action {action}")
        return {"ok": True, "now": self.now.isoformat()}

    def _data_view_action(self, action: str, a: dict[str, Any]) -> Any:
        if action == "add_data_view":
            return {"dataViewId": self.add_data_view(a["connectionId"], **a.get("fields", {}))}
        if action == "add_component":
            kind = a.get("kind", "dimension")
            return {"componentId": self.add_component(a["dataViewId"], kind, **a.get("fields", {}))}
        if action == "move_data_view":
            self.move_data_view(a["dataViewId"], a["connectionId"])
        elif action == "delete_data_view":
            self.delete_data_view(a["dataViewId"], bool(a.get("hard", False)))
        else:
            self.remove_component(a["dataViewId"], a["componentId"])
        return {"ok": True, "now": self.now.isoformat()}


_DATA_VIEW_ACTIONS = frozenset(
    {"add_data_view", "add_component", "move_data_view", "delete_data_view", "remove_component"}
)


def truth_json(t: Truth) -> dict[str, Any]:
    return {
        "connections": t.connections,
        "datasets": {f"{k[0]}/{k[1]}": v for k, v in t.datasets.items()},
        "backfills": t.backfills,
        "data_source_types": t.data_source_types,
        "validation_errors": t.validation_errors,
        "configured_containers": t.configured_containers,
        "container_fields": t.container_fields,
        "stuck_backfills": t.stuck_backfills(),
        "failed_backfills": t.failed_backfills(),
        "stale_datasets": [f"{c}/{d}" for c, d in t.stale_datasets()],
    }
