"""Read an iterator one item ahead in a thread: the next listing page is being rendered by the
service, carried and parsed while this one is turned into rows (bench P4: the listing is two
fifths of a first sync of the maximal org)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any, TypeVar

T = TypeVar("T")

# how often a blocked producer looks whether the consumer has gone away
_POLL_SECONDS = 0.2


def read_ahead(items: Iterator[T], name: str) -> Iterator[T]:
    """The items of `items`, in order, with at most one more waiting (so at most two alive besides
    the one being read). An exception in `items` is raised here, at the item it stopped before.
    When the consumer stops early, the producer stops at its next item."""
    slot: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
    gone = threading.Event()

    def offer(kind: str, value: Any) -> bool:
        while not gone.is_set():
            try:
                slot.put((kind, value), timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer("item", item):
                    return
            offer("done", None)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            offer("error", exc)

    worker = threading.Thread(target=produce, name=name, daemon=True)
    worker.start()
    try:
        while True:
            kind, value = slot.get()
            if kind == "item":
                yield value
            elif kind == "done":
                return
            else:
                raise value
    finally:
        gone.set()
