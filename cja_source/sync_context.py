"""What one extraction shares between the resources of the source: settings, the HTTP client, the
warehouse snapshot (read once, lazily, from the pipeline that runs the source) and counters."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import dlt

from .client import CJAClient
from .configuration import CJASourceConfiguration
from .records import WarehouseSnapshot
from .snapshot import read_snapshot

logger = logging.getLogger("cja_source")


@dataclass
class SyncContext:
    """Explicit state of one extraction. `snapshot` given: use it (the CLI reads it before the run);
    None: read it from the running pipeline's warehouse when the first resource needs it, so a
    plain `pipeline.run(cja_source())` is incremental too."""

    cfg: CJASourceConfiguration
    client: CJAClient
    now: datetime
    full: bool = False
    allow_empty: bool = False
    given_snapshot: WarehouseSnapshot | None = None
    stats: dict[str, int] = field(default_factory=dict)  # pairs by plan, read by the runner
    # set when an org turns out not to return inline lists: re-listing busy connections stops
    relist_disabled: bool = False
    materialized: set[str] = field(default_factory=set)
    _snapshot: WarehouseSnapshot | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def org_id(self) -> str:
        return str(self.cfg.credentials.org_id)

    @property
    def snapshot(self) -> WarehouseSnapshot:
        with self._lock:
            if self._snapshot is None:
                self._snapshot = self.given_snapshot or _snapshot_of_running_pipeline(self.org_id)
            return self._snapshot

    @property
    def want_inline(self) -> bool:
        """Inline lists make a listing page many times larger, and pay off only when most pairs
        need their lists: on a first sync or with full. A re-sync asks the few changed pairs."""
        mode = self.cfg.backfills
        return mode == "inline" or (mode == "auto" and (self.full or self.snapshot.empty))

    @property
    def relist_useful(self) -> bool:
        return self.cfg.backfills == "auto" and not self.want_inline and not self.relist_disabled

    def materialize_once(self, table: str) -> Iterator[Any]:
        """dlt's marker that creates `table` even when no row comes (an org without B2B
        connections still gets its typed, empty `configured_containers`)."""
        with self._lock:
            first = table not in self.materialized
            self.materialized.add(table)
        if first:
            yield dlt.mark.materialize_table_schema()

    def count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.stats[key] = self.stats.get(key, 0) + n


def _snapshot_of_running_pipeline(org_id: str) -> WarehouseSnapshot:
    try:
        pipeline = dlt.current.pipeline()
    except Exception:  # noqa: BLE001 - no active pipeline (the source iterated by hand): a first sync
        return WarehouseSnapshot()
    if pipeline is None or not pipeline.destination:
        return WarehouseSnapshot()
    return read_snapshot(pipeline, org_id)
