"""A one-line progress display on stderr while a long extraction runs."""

from __future__ import annotations

import sys
import threading
import time

from cja_source.client import CJAClient


class Progress:
    """Requests and backfill pairs so far, redrawn every second."""

    def __init__(self, client: CJAClient, stats: dict[str, int]) -> None:
        self.client = client
        self.stats = stats
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._t0 = time.monotonic()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()
            sys.stderr.write("\n")

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            req = self.client.requests_by_endpoint()
            line = (
                f"\r[{time.monotonic() - self._t0:6.0f}s] list pages {req.get('list', 0)}, "
                f"backfill requests {req.get('backfills', 0)}, "
                f"pairs fetched {self.stats.get('pairs_fetch', 0)}, "
                f"inline {self.stats.get('pairs_inline', 0)}, "
                f"unchanged {self.stats.get('pairs_skip', 0)}"
            )
            sys.stderr.write(line)
            sys.stderr.flush()
