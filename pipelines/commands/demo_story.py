"""The week `cja-sync demo` replays: one sync a day on the simulator's clock, and between them what
an org does in a day, so that every view and every chart of the report has something to show.

Each day the streams keep flowing (`advance_streaming`), every connection's numDailyEvents moves a
little, a few backfills are queued and some queued or running ones start, complete or fail; on set
days a connection grows, is reconfigured, gains a dataset, and at the end two connections drop
(one to a tenth for the last two days, one to nothing on the last). Deterministic for a seed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from random import Random
from typing import TypeVar

from cja_source.simulator import Simulator
from cja_source.simulator.model import parse_iso_ms

# eight daily syncs: the latest point has the seven before it within ingestion_drops' default
# baseline (volume_baseline_days 7, at least volume_min_points 3), and the charts a week to draw
DAYS = 7
# day-to-day noise of numDailyEvents, well inside the 50 % a drop takes
NOISE = 0.05
DROP_TO = 0.1
GROWTH = 1.6
# open backfills younger than this move on during the week (the simulator's are at most 6 days
# old when not stuck); older ones stay stuck. A day's chances: a queued one starts, a running one
# completes, or fails
YOUNG_HOURS = 7 * 24.0
STARTS, COMPLETES, FAILS = 0.6, 0.55, 0.1

T = TypeVar("T")


class DemoStory:
    def __init__(self, sim: Simulator, seed: int) -> None:
        self.sim = sim
        self.rng = Random(seed)
        truth = sim.truth()
        self.volumes = {
            cid: int(c["numDailyEvents"])
            for cid, c in sorted(truth.connections.items())
            if c.get("numDailyEvents") is not None
        }
        self.names = {cid: str(c.get("name") or cid) for cid, c in truth.connections.items()}
        self.pairs = sorted(truth.datasets)
        n = len(truth.connections)
        self.new_per_day = max(2, n // 40)
        young = parse_iso_ms(sim.now.isoformat()) - YOUNG_HOURS * 3_600_000
        open_young = sorted(
            b["id"]
            for b in truth.backfills.values()
            if b["status"] in ("IN_QUEUE", "IN_PROGRESS") and parse_iso_ms(b["createdDate"]) >= young
        )
        # the backfills the story moves, with the status the simulator holds for each
        self.moving = {bid: str(truth.backfills[bid]["status"]) for bid in open_young}
        shown = [cid for cid, v in self.volumes.items() if v > 0]
        self.falling, self.stopping, self.growing = [*self._sample(shown, 3), None, None, None][:3]

    def _sample(self, items: list[T], k: int) -> list[T]:
        return self.rng.sample(items, min(k, len(items)))

    def next_day(self, day: int, last: int) -> None:
        """The org one day later, before that day's sync (day 1 .. last)."""
        self.sim.advance_streaming(days=1)
        self._volumes(day, last)
        self._backfills()
        self._configuration(day)

    def _volumes(self, day: int, last: int) -> None:
        for cid, base in self.volumes.items():
            factor = 1 + self.rng.uniform(-NOISE, NOISE)
            if cid == self.growing and day >= 3:
                factor *= GROWTH
            if cid == self.falling and day >= last - 1:
                factor = DROP_TO
            if cid == self.stopping and day == last:
                factor = 0.0
            self.sim.set_daily_events(cid, round(base * factor))

    def _backfills(self) -> None:
        changes: dict[str, str] = {}
        for bid, status in self.moving.items():
            draw = self.rng.random()
            if status == "IN_QUEUE" and draw < STARTS:
                changes[bid] = "IN_PROGRESS"
            elif status == "IN_PROGRESS" and draw < COMPLETES:
                changes[bid] = "COMPLETED"
            elif status == "IN_PROGRESS" and draw < COMPLETES + FAILS:
                changes[bid] = "FAILED"
        self.sim.set_backfill_statuses(changes)
        self.moving.update(changes)
        for bid in [b for b, s in self.moving.items() if s in ("COMPLETED", "FAILED")]:
            del self.moving[bid]
        for cid, dsid in self._sample(self.pairs, self.new_per_day):
            # queued some time during the day, so the durations are not whole days
            created = self.sim.now - timedelta(hours=self.rng.uniform(0.5, 20))
            self.moving[self.sim.add_backfill(cid, dsid, "IN_QUEUE", created)] = "IN_QUEUE"

    def _configuration(self, day: int) -> None:
        """Changes connection_changes shows: a retention setting, a name, a new dataset."""
        cids = sorted(self.names)
        if not cids:
            return
        cid = cids[day % len(cids)]
        if day == 2:
            self.sim.modify_connection(cid, dataRetentionMonths=25)
        elif day == 4:
            self.sim.modify_connection(cid, name=f"{self.names[cid]} (renamed)")
        elif day == 5:
            self.pairs.append((cid, self.sim.add_dataset(cid)))


def replay(sim: Simulator, seed: int, sync: Callable[[], T], days: int = DAYS) -> T:
    """`days` + 1 syncs a day apart on the simulator's clock; returns the last sync's result."""
    story = DemoStory(sim, seed)
    result = sync()
    for day in range(1, days + 1):
        story.next_day(day, days)
        result = sync()
    return result
