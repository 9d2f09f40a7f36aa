"""A rolling-window request throttle shared by all threads of one credential, and the HTTP adapter
that tells it when a request leaves on a connection that had to be opened first."""

from __future__ import annotations

import collections
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3 import connection, connectionpool, poolmanager

Slot = list[float]  # [start]: one request's place in the window, moved later by restamp()


class RollingWindowThrottle:
    """At most `max_requests` starts in any rolling window of `window_seconds`.

    The gateway counts a rolling window, not a refilling bucket: a bucket that bursts a full window
    and refills at once can put 2x the limit into one window. Here every start is remembered and a
    new one waits until the oldest of the last `max_requests` starts is older than the window.
    `margin` covers the gap between our clock at send time and the gateway's at arrival. A request
    that first opens a connection leaves only once it is up, so the adapter below restamps it then.
    """

    def __init__(
        self,
        max_requests: int,
        window_seconds: float,
        margin: float = 0.15,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_requests < 1 or window_seconds <= 0:
            raise ValueError("throttle needs max_requests >= 1 and window_seconds > 0")
        # clock and sleep are parameters so a test can drive time by hand instead of sleeping
        self._clock = clock
        self._sleep = sleep
        self.max_requests = max_requests
        self.window = window_seconds + margin
        self._starts: collections.deque[Slot] = collections.deque()
        self._lock = threading.Lock()
        self.waited_seconds = 0.0

    def acquire(self) -> Slot:
        """Block until one more request may start, then record its start and return its slot."""
        while True:
            with self._lock:
                now = self._clock()
                while self._starts and now - self._starts[0][0] >= self.window:
                    self._starts.popleft()
                if len(self._starts) < self.max_requests:
                    slot = [now]
                    self._starts.append(slot)
                    return slot
                wait = self.window - (now - self._starts[0][0])
                self.waited_seconds += wait
            self._sleep(max(wait, 0.001))

    def restamp(self, slot: Slot) -> None:
        """The request of `slot` only now leaves (its connection had to be opened first: TCP and TLS
        round trips the gateway does not see), so its window starts now."""
        with self._lock:
            slot[0] = max(slot[0], self._clock())
            if not any(s is slot for s in self._starts):
                self._starts.append(slot)  # the window passed while the connection was being opened
            self._starts = collections.deque(sorted(self._starts, key=lambda s: s[0]))

    @contextlib.contextmanager
    def sending(self, slot: Slot) -> Iterator[None]:
        """While the calling thread sends the request of `slot`, a connection it opens restamps it."""
        _sending.slot = (self, slot)
        try:
            yield
        finally:
            _sending.slot = None

    def penalize(self, seconds: float = 0.0) -> None:
        """After a 429, keep every thread off the gateway for a full window (or `seconds` if longer).

        A 429 means the gateway counted a full window (other clients of the same credential may
        share it), so only a whole window of silence is sure to clear it.
        """
        with self._lock:
            until = self._clock() + max(seconds, self.window)
            self._starts = collections.deque([until - self.window] for _ in range(self.max_requests))


_sending = threading.local()


def _connected() -> None:
    current = getattr(_sending, "slot", None)
    if current is not None:
        throttle, slot = current
        throttle.restamp(slot)


class _HTTPConnection(connection.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _connected()


class _HTTPSConnection(connection.HTTPSConnection):
    def connect(self) -> None:
        super().connect()  # the TLS handshake included
        _connected()


class _HTTPPool(connectionpool.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(connectionpool.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class ThrottleAwareAdapter(HTTPAdapter):
    """requests' adapter whose connections restamp the throttle slot of the request that opened
    them (see RollingWindowThrottle.sending). A SOCKS proxy keeps its own pools and is left alone."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _use_our_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> poolmanager.PoolManager:
        manager: poolmanager.PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        _use_our_pools(manager)
        return manager


def _use_our_pools(manager: poolmanager.PoolManager) -> None:
    if manager.pool_classes_by_scheme is poolmanager.pool_classes_by_scheme:
        manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
