"""Switchable faults. Attributes may be set at any time from any thread; each read is atomic."""

from __future__ import annotations

import random
import threading
from typing import Any

_FIELDS = (
    "latency_ms",
    "error_rate",
    "slow_rate",
    "slow_seconds",
    "malformed_next",
    "drift_next",
    "extra_fields",
    "type_changes",
    "ignore_page",
    "claim_total_pages",
    "endless_backfills",
    "malformed_item",
    "token_seconds",
)
# malformed_item values: what mutate_items does to the first item it can apply it to
ITEM_FAULTS = (
    "missing_dataSetId",
    "integer_id",
    "dataSets_object",
    "backfill_without_id",
    "non_object_item",
)


class Faults:
    def __init__(self, latency_ms: tuple[float, float] = (0, 0), error_rate: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random()
        self._base = (tuple(latency_ms), error_rate)
        self.reset()

    def reset(self) -> None:
        """Back to the configured latency/error rate, everything else off."""
        self.latency_ms: tuple[float, float] = self._base[0]  # type: ignore[assignment]
        self.error_rate: float = self._base[1]
        self.slow_rate = 0.0
        self.slow_seconds = 3.0
        self.malformed_next = 0
        self.drift_next = False
        self.extra_fields: dict[str, Any] = {}
        self.type_changes: dict[str, Any] = {}
        # paging faults: the listing serves page 0 whatever `page` says and never says last; every
        # page announces this many pages; a backfills list hands out new items on every page
        self.ignore_page = False
        self.claim_total_pages: int | None = None
        self.endless_backfills = False
        self.malformed_item: str | None = None
        # IMS answers a token request only after this many seconds (a slow or distant IMS)
        self.token_seconds = 0.0

    def set(self, **kw: Any) -> None:
        for k, v in kw.items():
            if k not in _FIELDS:
                raise ValueError(f"unknown fault {k!r}")
            if k == "latency_ms":
                v = tuple(v)
            if k == "malformed_item" and v is not None and v not in ITEM_FAULTS:
                raise ValueError(f"malformed_item must be one of {', '.join(ITEM_FAULTS)}")
            setattr(self, k, v)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in _FIELDS}

    def latency(self) -> float:
        lo, hi = self.latency_ms
        if hi <= 0:
            return 0.0
        with self._lock:
            return self._rng.uniform(lo, hi) / 1000

    def error_status(self) -> int | None:
        rate = self.error_rate
        if rate <= 0:
            return None
        with self._lock:
            if self._rng.random() < rate:
                return self._rng.choice((500, 502, 503, 504))
        return None

    def slow_delay(self) -> float:
        rate = self.slow_rate
        if rate <= 0:
            return 0.0
        with self._lock:
            return self.slow_seconds if self._rng.random() < rate else 0.0

    def take_malformed(self) -> bool:
        with self._lock:
            if self.malformed_next > 0:
                self.malformed_next -= 1
                return True
        return False

    def take_drift(self) -> bool:
        with self._lock:
            if self.drift_next:
                self.drift_next = False
                return True
        return False


def mutate_items(kind: str | None, endpoint: str, body: Any) -> None:
    """Break one item of a 200 body in place, the way a faulty service would (see ITEM_FAULTS)."""
    content = body.get("content") if isinstance(body, dict) else None
    if not kind or not isinstance(content, list) or not content:
        return
    if endpoint == "backfills":
        if kind == "backfill_without_id":
            content[0].pop("id", None)
        return
    if endpoint != "list":
        return
    if kind == "integer_id":
        content[0]["id"] = 12345
    elif kind == "non_object_item":
        content[0] = content[0]["id"]
    for c in content:
        datasets = c.get("dataSets") if isinstance(c, dict) else None
        if not isinstance(datasets, list) or not datasets:
            continue
        if kind == "missing_dataSetId":
            datasets[0].pop("dataSetId", None)
        elif kind == "dataSets_object":
            c["dataSets"] = {d["dataSetId"]: d for d in datasets}
        elif kind == "backfill_without_id":
            with_list = next((d for d in datasets if d.get("backfills")), None)
            if with_list is None:
                continue
            with_list["backfills"][0].pop("id", None)
        else:
            return
        return
