"""Compact internal records. Records are treated as immutable: a mutation builds a new record and swaps it
in, so a listing snapshot (cache, or a page being rendered on another thread) never sees half an update."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from random import Random
from typing import Any

# backfill tuple layout: (id, status, created_ms, all_data, start_ms | None, end_ms | None)
BF_ID, BF_STATUS, BF_CREATED, BF_ALL, BF_START, BF_END = range(6)
Backfill = tuple[str, str, int, bool, "int | None", "int | None"]


class Dataset:
    __slots__ = (
        "id",
        "name",
        "type",
        "dst",
        "streaming",
        "sea_ms",
        "li_ms",
        "hidden",
        "var",
        "parent",
        "container",
        "bfs",
        "summ",
        "over",
    )

    def __init__(
        self,
        id: str,
        name: str,
        type: str,
        dst: int,
        streaming: bool,
        sea_ms: int | None,
        li_ms: int | None,
        hidden: bool,
        var: int,
        parent: tuple[str, str] | None,
        container: str | None,
        bfs: tuple[Backfill, ...],
        over: dict[str, Any] | None = None,
    ) -> None:
        self.id = id
        self.name = name
        self.type = type
        self.dst = dst  # index into DATA_SOURCE_TYPES
        self.streaming = streaming
        self.sea_ms = sea_ms  # streamingEnabledAt
        self.li_ms = li_ms  # lastIngestedTime; None = never ingested
        self.hidden = hidden
        self.var = var  # drives the deterministic choice of identity fields
        self.parent = parent  # lookup parent (dataSetId, type)
        self.container = container  # B2B container this dataset feeds
        self.bfs = bfs  # backfills sorted by createdDate ascending
        self.summ = summarize(bfs)
        self.over = over  # API-field overrides applied last at render time

    def ingested_at(self, li_ms: int | None) -> Dataset:
        d = self.with_backfills(self.bfs)
        d.li_ms = li_ms
        return d

    def with_backfills(self, bfs: tuple[Backfill, ...]) -> Dataset:
        return Dataset(
            self.id,
            self.name,
            self.type,
            self.dst,
            self.streaming,
            self.sea_ms,
            self.li_ms,
            self.hidden,
            self.var,
            self.parent,
            self.container,
            bfs,
            self.over,
        )


class Connection:
    """f: the connection's own API fields (camelCase, excluding id/idWithoutPrefix/dataSets/backfillSummary/
    externalData which are derived); ds: datasets in connection order."""

    __slots__ = ("uuid", "f", "ds", "owner_name", "tags")

    def __init__(
        self,
        uuid: str,
        f: dict[str, Any],
        ds: tuple[Dataset, ...],
        owner_name: str,
        tags: list[dict[str, Any]],
    ) -> None:
        self.uuid = uuid
        self.f = f
        self.ds = ds
        self.owner_name = owner_name
        self.tags = tags

    @property
    def id(self) -> str:
        return "dg_" + self.uuid

    def replace(self, f: dict[str, Any] | None = None, ds: tuple[Dataset, ...] | None = None) -> Connection:
        return Connection(
            self.uuid, self.f if f is None else f, self.ds if ds is None else ds, self.owner_name, self.tags
        )

    def summary(self) -> tuple[int, int, int, int]:
        t = f = p = c = 0
        for d in self.ds:
            s = d.summ
            t += s[0]
            f += s[1]
            p += s[2]
            c += s[3]
        return t, f, p, c


def summarize(bfs: tuple[Backfill, ...]) -> tuple[int, int, int, int]:
    """(total, failed, inProgress, completed); IN_QUEUE is the remainder, as on the wire."""
    f = p = c = 0
    for b in bfs:
        s = b[BF_STATUS]
        if s == "FAILED":
            f += 1
        elif s == "IN_PROGRESS":
            p += 1
        elif s == "COMPLETED":
            c += 1
    return len(bfs), f, p, c


def rand_uuid(rng: Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def rand_hex(rng: Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def fmt_ms(ms: int) -> str:
    """'2026-10-16T14:06:04.816Z' (backfill createdDate style)."""
    s, r = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + f".{r:03d}Z"


def fmt_s(ms: int) -> str:
    """'2022-03-11T14:44:16Z' (streamingEnabledAt style)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


def parse_iso_ms(value: str) -> int:
    """ISO-8601 to epoch ms; naive values are taken as UTC. Raises ValueError."""
    v = value.strip()
    if v.endswith("Z") or v.endswith("z"):
        v = v[:-1] + "+00:00"
    dt = datetime.fromisoformat(v)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(round(dt.timestamp() * 1000))


def dt_to_ms(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(round(dt.timestamp() * 1000))


def ms_to_dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
