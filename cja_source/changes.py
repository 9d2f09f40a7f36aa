"""Which listed items changed since the warehouse stored them: only those are handed to dlt.

An hourly sync of an org where nothing moved lists every connection (one request per 1,000) but
must not rewrite them: that was 100k dataset rows merged per run on the maximal org, 200k dead
tuples an hour on Postgres. Each stored connection and dataset row keeps `content_hash`, a digest
of the API item it was written from; an item whose digest equals the stored one (and whose row is
not marked deleted) is left out of the load, with everything derived from it:

- a connection's digest covers the whole listed object except its datasets, plus the ids of its
  datasets: its row, its validation errors and configured containers, and (with its datasets'
  digests) its `connections_history` candidate follow it;
- a dataset's digest covers the whole dataset object except its inline backfill list (asked only on
  some syncs; backfills have their own rule, backfill_plan): its row and its container fields
  follow it.

Pure functions: no I/O, no dlt. Deletions are not seen here but at the end of the listing: what
the snapshot held live and the listing did not return (`Unlisted`), which the runner's reconcile
step marks inside the listing's filters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from .records import WarehouseSnapshot, with_prefix

CONNECTION_SKIPPED = "dataSets"
DATASET_SKIPPED = "backfills"
# the field of the connection's digest that stands for its datasets (no API field has this name)
DATASET_IDS = "\x00dataSetIds"


def digest(value: Any) -> str:
    """A stable digest of a JSON value: keys sorted, so the API's key order does not count."""
    try:
        text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError):  # a value orjson cannot write: its repr
        text = repr(value).encode()
    # md5: the fastest 128-bit digest of hashlib for ~500-byte inputs (blake2b took 3x as long on
    # the maximal org's 100k datasets); it only tells versions of one item apart
    return hashlib.md5(text, usedforsecurity=False).hexdigest()


def connection_digest(item: dict[str, Any]) -> str:
    content = {k: v for k, v in item.items() if k != CONNECTION_SKIPPED}
    content[DATASET_IDS] = sorted(
        str(d.get("dataSetId")) for d in item.get(CONNECTION_SKIPPED) or () if isinstance(d, dict)
    )
    return digest(content)


def dataset_digest(item: dict[str, Any]) -> str:
    if DATASET_SKIPPED in item:  # a first sync's inline lists; a re-sync copies nothing
        item = dict(item)
        del item[DATASET_SKIPPED]
    return digest(item)


@dataclass
class PageChanges:
    """What of one listing page goes to dlt: new or changed connections and datasets (with their
    digests), and the connections whose configuration version must be offered again."""

    connections: dict[str, str] = field(default_factory=dict)  # connection id -> digest
    datasets: dict[tuple[str, str], str] = field(default_factory=dict)  # pair -> digest
    history: set[str] = field(default_factory=set)  # connection ids

    def emits_connection(self, item: dict[str, Any]) -> bool:
        return with_prefix(str(item["id"])) in self.connections


@dataclass
class Unlisted:
    """What the warehouse held live that this listing did not return. Connections: any stored live
    one (reconcile keeps those inside the listing's filters); datasets: those of listed connections
    only (a dataset of a connection outside the listing says nothing)."""

    connections: set[str] = field(default_factory=set)
    pairs: set[tuple[str, str]] = field(default_factory=set)


class ChangeTracker:
    """Compares listing pages with the snapshot, and keeps what the listing returned so far."""

    def __init__(self, snapshot: WarehouseSnapshot, everything: bool) -> None:
        self.snapshot = snapshot
        self.everything = everything  # `full`: every item is written again
        self.listed: set[str] = set()
        self.unlisted_pairs: set[tuple[str, str]] = set()
        self._live_pairs: dict[str, set[str]] | None = None

    def page(self, items: Iterable[dict[str, Any]]) -> PageChanges:
        out = PageChanges()
        stored_connections = self.snapshot.connections_hash
        pairs = self.snapshot.pairs
        for item in items:
            cid = with_prefix(str(item["id"]))
            self.listed.add(cid)
            c_hash = connection_digest(item)
            if self.everything or stored_connections.get(cid) != c_hash:
                out.connections[cid] = c_hash
                out.history.add(cid)
            listed_ids = set()
            for d in item.get(CONNECTION_SKIPPED) or ():
                key = (cid, str(d["dataSetId"]))
                listed_ids.add(key[1])
                d_hash = dataset_digest(d)
                if self.everything or pairs.digest(key) != d_hash:
                    out.datasets[key] = d_hash
                    out.history.add(cid)
            for dsid in self.live_pairs().get(cid, ()):
                if dsid not in listed_ids:
                    self.unlisted_pairs.add((cid, dsid))
        return out

    def live_pairs(self) -> dict[str, set[str]]:
        if self._live_pairs is None:
            self._live_pairs = self.snapshot.pairs.live_by_connection()
        return self._live_pairs

    def unlisted(self) -> Unlisted:
        """Once the listing is complete."""
        return Unlisted(set(self.snapshot.connections_hash) - self.listed, set(self.unlisted_pairs))
