"""The simulated org: storage, queries and thread-safe mutations."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any

from .config import BACKFILL_STATUSES, SimConfig
from .dataviews import DataViewStore
from .generate import Generator
from .model import BF_ID, Connection, Dataset, dt_to_ms, ms_to_dt, parse_iso_ms

_DATE_FIELDS = ("createdDate", "modifiedDate")
# dataset overrides that drive simulator logic rather than only the rendered dict
_DATASET_ATTRS = {"name": "name", "type": "type", "streaming": "streaming", "hidden": "hidden"}


class Org:
    def __init__(self, cfg: SimConfig) -> None:
        self.cfg = cfg
        self.lock = threading.RLock()
        now = cfg.now if cfg.now is not None else datetime.now(UTC)
        self.now_ms = dt_to_ms(now)
        self.gen = Generator(cfg, self.now_ms)
        self.mut_rng = Random(cfg.seed + 1)  # mutations stay deterministic, independent of generation
        conns = [self.gen.connection() for _ in range(cfg.connections)]
        self.conns: dict[str, Connection] = {c.uuid: c for c in conns}
        self.dataviews = DataViewStore(cfg.seed, cfg.org_id, self.gen.users, cfg.hostile_names)
        self.dataviews.generate(conns, self.now_ms)
        self.version = 0
        self._cache: tuple[float, dict[str, Connection]] | None = None

    # ----- clock -----

    @property
    def now(self) -> datetime:
        return ms_to_dt(self.now_ms)

    def set_now(self, dt: datetime) -> None:
        with self.lock:
            self.now_ms = dt_to_ms(dt)

    def advance(self, **kw: float) -> None:
        with self.lock:
            self.now_ms += int(timedelta(**kw).total_seconds() * 1000)

    def advance_streaming(self, **kw: float) -> None:
        """advance(), with every streaming dataset's lastIngestedTime moved by as much: the streams
        keep flowing, so each dataset stays exactly as fresh or as stale as it was (a replay of
        several days would otherwise end with every stream stale)."""
        step = int(timedelta(**kw).total_seconds() * 1000)
        with self.lock:
            self.now_ms += step
            for c in list(self.conns.values()):
                if any(d.streaming and d.li_ms is not None for d in c.ds):
                    ds = tuple(
                        d.ingested_at(d.li_ms + step) if d.streaming and d.li_ms is not None else d
                        for d in c.ds
                    )
                    self.conns[c.uuid] = c.replace(ds=ds)
            self._changed()

    # ----- reads -----

    def snapshot(self, cached: bool = False) -> dict[str, Connection]:
        """Current uuid->record map. With cached=True and cache_max_age > 0 an older snapshot may be served,
        as the real API's default cached=true may."""
        with self.lock:
            if not cached or self.cfg.cache_max_age <= 0:
                return dict(self.conns)
            t = time.monotonic()
            if self._cache is None or t - self._cache[0] > self.cfg.cache_max_age:
                self._cache = (t, dict(self.conns))
            return self._cache[1]

    def get(self, cid: str) -> Connection | None:
        with self.lock:
            return self.conns.get(strip_prefix(cid))

    def find_dataset(self, cid: str, dsid: str) -> Dataset | None:
        c = self.get(cid)
        if c is None:
            return None
        return next((d for d in c.ds if d.id == dsid), None)

    def connection_ids(self) -> list[str]:
        with self.lock:
            return sorted(c.id for c in self.conns.values())

    def dataset_ids(self, cid: str) -> list[str]:
        c = self._need(cid)
        return [d.id for d in c.ds]

    def backfill_ids(self, cid: str, dsid: str) -> list[str]:
        return [str(b[BF_ID]) for b in self._need_ds(cid, dsid).bfs]

    # ----- mutations -----

    def add_connection(self, **overrides: Any) -> str:
        with self.lock:
            c = self.gen.connection(self.mut_rng, self.now_ms)
            f = dict(c.f)
            f["modifiedDate"] = f["createdDate"] = self.now_ms
            c = c.replace(f=f)
            if overrides:
                c = c.replace(f=self._apply_conn_overrides(c.f, overrides))
            self.conns[c.uuid] = c
            self._changed()
            return c.id

    def insert_raw(self, c: Connection) -> None:
        with self.lock:
            self.conns[c.uuid] = c
            self._changed()

    def modify_connection(self, cid: str, **fields: Any) -> None:
        with self.lock:
            c = self._need(cid)
            f = self._apply_conn_overrides(c.f, fields)
            self._touch(f, explicit="modifiedDate" in fields)
            self.conns[c.uuid] = c.replace(f=f)
            self._changed()

    def set_daily_events(self, cid: str, count: int | None) -> None:
        """A connection's numDailyEvents moves with ingestion, not with its configuration: its
        modifiedDate stays."""
        with self.lock:
            c = self._need(cid)
            self.conns[c.uuid] = c.replace(f={**c.f, "numDailyEvents": count})
            self._changed()

    def delete_connection(self, cid: str) -> None:
        with self.lock:
            c = self._need(cid)
            del self.conns[c.uuid]
            self._changed()

    def add_dataset(self, cid: str, **overrides: Any) -> str:
        with self.lock:
            c = self._need(cid)
            b2b = c.f.get("primaryIdType") == "account"
            d = self.gen.dataset(self.mut_rng, self.now_ms, b2b, len(c.ds))
            d = self._apply_ds_overrides(d, overrides)
            f = dict(c.f)
            self._touch(f)
            self.conns[c.uuid] = c.replace(f=f, ds=(*c.ds, d))
            self._changed()
            return d.id

    def remove_dataset(self, cid: str, dsid: str) -> None:
        with self.lock:
            c = self._need(cid)
            self._need_ds(cid, dsid)
            f = dict(c.f)
            self._touch(f)
            self.conns[c.uuid] = c.replace(f=f, ds=tuple(d for d in c.ds if d.id != dsid))
            self._changed()

    def add_backfill(
        self,
        cid: str,
        dsid: str,
        status: str = "IN_QUEUE",
        created: datetime | str | None = None,
    ) -> str:
        if status not in BACKFILL_STATUSES:
            raise ValueError(f"unknown backfill status {status!r}")
        with self.lock:
            c = self._need(cid)
            d = self._need_ds(cid, dsid)
            if created is None:
                created_ms = self.now_ms
            elif isinstance(created, str):
                created_ms = parse_iso_ms(created)
            else:
                created_ms = dt_to_ms(created)
            b = self.gen.backfill(self.mut_rng, status, created_ms)
            bfs = tuple(sorted((*d.bfs, b), key=lambda x: x[2]))
            # backfills do not move the connection's modifiedDate, only the summaries
            self._replace_ds(c, d.with_backfills(bfs))
            return str(b[BF_ID])

    def set_backfill_status(self, bid: str, status: str) -> None:
        self.set_backfill_statuses({bid: status})

    def set_backfill_statuses(self, statuses: Mapping[str, str]) -> None:
        """Several backfills' statuses in one scan of the org (the demo moves dozens a day)."""
        for status in statuses.values():
            if status not in BACKFILL_STATUSES:
                raise ValueError(f"unknown backfill status {status!r}")
        with self.lock:
            left = dict(statuses)
            if not left:
                return
            # a scan is cheaper overall than keeping a 500k-entry index that is rarely used
            for c in list(self.conns.values()):
                for d in c.ds:
                    if not any(b[0] in left for b in d.bfs):
                        continue
                    bfs = tuple((b[0], left.pop(b[0]), *b[2:]) if b[0] in left else b for b in d.bfs)
                    self._replace_ds(self.conns[c.uuid], d.with_backfills(bfs))
                if not left:
                    return
            raise KeyError(f"unknown backfill {next(iter(left))}")

    # ----- helpers -----

    def _changed(self) -> None:
        self.version += 1

    def _replace_ds(self, c: Connection, nd: Dataset) -> None:
        self.conns[c.uuid] = c.replace(ds=tuple(nd if d.id == nd.id else d for d in c.ds))
        self._changed()

    def _touch(self, f: dict[str, Any], explicit: bool = False) -> None:
        if not explicit:
            f["modifiedDate"] = self.now_ms
            f["modifiedBy"], f["modifiedByFullName"] = self.mut_rng.choice(self.gen.users)

    @staticmethod
    def _apply_conn_overrides(f: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
        f = dict(f)
        for k, v in overrides.items():
            if k in _DATE_FIELDS and isinstance(v, str):
                v = parse_iso_ms(v)
            elif k in _DATE_FIELDS and isinstance(v, datetime):
                v = dt_to_ms(v)
            elif k == "owner" and isinstance(v, dict):
                v = {**f["owner"], **v}
            f[k] = v
        return f

    @staticmethod
    def _apply_ds_overrides(d: Dataset, overrides: dict[str, Any]) -> Dataset:
        over: dict[str, Any] = {}
        for k, v in overrides.items():
            if k in _DATASET_ATTRS:
                setattr(d, _DATASET_ATTRS[k], v)
            elif k == "dataSetId":
                d.id = v
            elif k == "lastIngestedTime":
                d.li_ms = None if v is None else parse_iso_ms(v) if isinstance(v, str) else dt_to_ms(v)
            else:
                over[k] = v
        if d.streaming and d.sea_ms is None:
            d.sea_ms = d.li_ms or 0
        d.over = over or None
        return d

    def _need(self, cid: str) -> Connection:
        c = self.conns.get(strip_prefix(cid))
        if c is None:
            raise KeyError(f"unknown connection {cid}")
        return c

    def _need_ds(self, cid: str, dsid: str) -> Dataset:
        c = self._need(cid)
        for d in c.ds:
            if d.id == dsid:
                return d
        raise KeyError(f"unknown dataset {dsid} in {cid}")


def strip_prefix(cid: str) -> str:
    return cid[3:] if cid.startswith("dg_") else cid
