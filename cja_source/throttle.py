"""A rolling-window request throttle shared by all threads of one credential."""

from __future__ import annotations

import collections
import threading
import time


class RollingWindowThrottle:
    """At most `max_requests` starts in any rolling window of `window_seconds`.

    The gateway counts a rolling window, not a refilling bucket: a bucket that bursts a full window
    and refills at once can put 2x the limit into one window. Here every start is remembered and a
    new one waits until the oldest of the last `max_requests` starts is older than the window.
    `margin` covers the gap between our clock at send time and the gateway's at arrival.
    """

    def __init__(self, max_requests: int, window_seconds: float, margin: float = 0.15) -> None:
        if max_requests < 1 or window_seconds <= 0:
            raise ValueError("throttle needs max_requests >= 1 and window_seconds > 0")
        self.max_requests = max_requests
        self.window = window_seconds + margin
        self._starts: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()
        self.waited_seconds = 0.0

    def acquire(self) -> None:
        """Block until one more request may start, then record its start."""
        while True:
            with self._lock:
                now = time.monotonic()
                while self._starts and now - self._starts[0] >= self.window:
                    self._starts.popleft()
                if len(self._starts) < self.max_requests:
                    self._starts.append(now)
                    return
                wait = self.window - (now - self._starts[0])
                self.waited_seconds += wait
            time.sleep(max(wait, 0.001))

    def penalize(self, seconds: float = 0.0) -> None:
        """After a 429, keep every thread off the gateway for a full window (or `seconds` if longer).

        A 429 means the gateway counted a full window (other clients of the same credential may
        share it), so only a whole window of silence is sure to clear it.
        """
        with self._lock:
            until = time.monotonic() + max(seconds, self.window)
            self._starts = collections.deque([until - self.window] * self.max_requests)
