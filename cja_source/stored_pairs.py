"""The stored (connection, dataset) pairs of a snapshot, kept as columns.

An idle re-sync of the maximal org compares 100k listed datasets with 100k stored ones, and almost
all are equal. Building a `PairState` object per stored pair up front (and a datetime per
first-seen time) took 1.3 s of that run's ~7 s (bench P8); the comparison needs only each pair's
digest and whether it has a summary. So the pairs are kept as the columns they were read as, with
an index by pair, and a `PairState` is made only for a pair the run writes or plans backfills for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Pair = tuple[str, str]
SummaryKey = tuple[int, int, int, int]


@dataclass(slots=True)
class PairState:
    """What the warehouse holds for one (connection, dataset) pair."""

    first_seen_at: datetime | None = None
    summary: SummaryKey | None = None
    schema_info: dict[str, Any] | None = None
    # digest of the dataset item the row was written from (changes.py); None when deleted in
    # source or written by a version without digests: the item is then written again
    content_hash: str | None = None
    live: bool = True  # not marked deleted in source


class StoredPairs(Mapping[Pair, PairState]):
    """Pair -> PairState, made on first access; `digest` and `summarised` answer without one."""

    def __init__(
        self,
        keys: Sequence[Pair],
        first_seen: Callable[[int], datetime | None],
        summaries: Sequence[SummaryKey | None],
        digests: Sequence[str | None],
        live: Sequence[bool],
        schema_infos: Mapping[int, dict[str, Any]] | None = None,
    ) -> None:
        """Parallel columns, one entry per pair; `digests` None where the pair is not live;
        `first_seen(i)` the i-th pair's first-seen time (read from its column when asked)."""
        self._row = dict(zip(keys, range(len(keys)), strict=False))
        self._first_seen = first_seen
        self._summaries = list(summaries)
        self._digests = digests
        self._live = live
        self._infos = schema_infos or {}
        self._made: dict[Pair, PairState] = {}

    @classmethod
    def of_states(cls, states: Mapping[Pair, PairState]) -> StoredPairs:
        """From ready PairStates (tests, and snapshots built by hand)."""
        keys = list(states)
        values = list(states.values())
        pairs = cls(
            keys,
            lambda i: values[i].first_seen_at,
            [s.summary for s in values],
            [s.content_hash if s.live else None for s in values],
            [s.live for s in values],
            {i: s.schema_info for i, s in enumerate(values) if s.schema_info},
        )
        pairs._made = dict(states)
        return pairs

    def __getitem__(self, key: Pair) -> PairState:
        state = self._made.get(key)
        if state is None:
            i = self._row[key]
            state = PairState(
                self._first_seen(i), self._summaries[i], self._infos.get(i), self._digests[i], self._live[i]
            )
            self._made[key] = state
        return state

    def __iter__(self) -> Iterator[Pair]:
        return iter(self._row)

    def __len__(self) -> int:
        return len(self._row)

    def __contains__(self, key: object) -> bool:
        return key in self._row

    def digest(self, key: Pair) -> str | None:
        """The stored digest of a live pair; None for a pair absent, deleted or without one."""
        state = self._made.get(key)
        if state is not None:
            return state.content_hash if state.live else None
        i = self._row.get(key)
        return None if i is None else self._digests[i]

    def summarised(self, key: Pair) -> bool:
        """The pair is stored with a summary its stored backfills add up to."""
        state = self._made.get(key)
        if state is not None:
            return state.summary is not None
        i = self._row.get(key)
        return i is not None and self._summaries[i] is not None

    def forget_summary(self, key: Pair) -> None:
        """Treat the pair as stored without a summary: its backfills are asked again."""
        i = self._row.get(key)
        if i is not None:
            self._summaries[i] = None
        if key in self._made:
            self._made[key].summary = None

    def live_by_connection(self) -> dict[str, set[str]]:
        """Connection id -> ids of its datasets stored live."""
        out: dict[str, set[str]] = {}
        for (cid, dsid), i in self._row.items():
            if self._live[i]:
                out.setdefault(cid, set()).add(dsid)
        return out

    def clear(self) -> None:
        """Forget every pair (WarehouseSnapshot.release)."""
        self._row = {}
        self._summaries = []
        self._digests = []
        self._live = []
        self._infos = {}
        self._made = {}
