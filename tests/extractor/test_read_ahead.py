"""The listing is read one page ahead in a thread: order, errors and an early stop must be exactly
what a plain loop over the pages gives."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from cja_source.read_ahead import read_ahead


def test_items_arrive_in_order_with_at_most_one_waiting() -> None:
    produced: list[int] = []

    def pages() -> Iterator[int]:
        for n in range(20):
            produced.append(n)
            yield n

    got = []
    for item in read_ahead(pages(), "test-read-ahead"):
        time.sleep(0.01)  # a slow consumer: the producer must wait, not run away
        # the one being read, one in the slot, one the producer holds while it waits
        assert len(produced) - len(got) <= 3
        got.append(item)
    assert got == list(range(20))


def test_an_error_is_raised_at_the_item_it_stopped_before() -> None:
    def pages() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("page 3 is malformed")

    got = []
    with pytest.raises(ValueError, match="page 3 is malformed"):
        for item in read_ahead(pages(), "test-read-ahead"):
            got.append(item)
    assert got == [1, 2]


def test_the_producer_stops_when_the_consumer_does() -> None:
    produced: list[int] = []

    def endless() -> Iterator[int]:
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    reader = read_ahead(endless(), "test-read-ahead-stop")
    assert next(reader) == 0
    reader.close()
    deadline = time.monotonic() + 5
    while any(t.name == "test-read-ahead-stop" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the read-ahead thread did not stop"
        time.sleep(0.05)
    assert len(produced) <= 3
