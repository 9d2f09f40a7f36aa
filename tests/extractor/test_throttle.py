"""The rolling-window throttle's own rules, without HTTP: a restamped slot holds the window from its
new time, even when the old one had already left the window."""

from __future__ import annotations

import time

from cja_source.throttle import RollingWindowThrottle


def _wait_for_next(throttle: RollingWindowThrottle) -> float:
    t0 = time.monotonic()
    throttle.acquire()
    return time.monotonic() - t0


def test_restamped_slot_holds_the_window_from_its_new_time() -> None:
    throttle = RollingWindowThrottle(1, 0.4, margin=0.0)
    slot = throttle.acquire()
    time.sleep(0.2)
    throttle.restamp(slot)  # its connection took 0.2 s to open: the window runs from now
    assert _wait_for_next(throttle) >= 0.35


def test_slot_whose_window_passed_while_connecting_is_counted_again() -> None:
    throttle = RollingWindowThrottle(2, 0.3, margin=0.0)
    slow = throttle.acquire()
    time.sleep(0.4)  # longer than the window...
    throttle.acquire()  # ...so this start drops the slow one from it
    throttle.restamp(slow)  # but the slow request only leaves now: two starts in the window
    assert _wait_for_next(throttle) >= 0.2


def test_restamp_keeps_the_oldest_slot_first() -> None:
    throttle = RollingWindowThrottle(2, 1.0, margin=0.0)
    first = throttle.acquire()
    throttle.acquire()
    time.sleep(0.5)
    throttle.restamp(first)  # now the newer of the two: the other one frees the window first
    assert 0.4 <= _wait_for_next(throttle) < 0.9
