"""A one-line progress display on stderr while a long extraction runs: the RunListener the CLI
gives a run."""

from __future__ import annotations

import sys
import threading
import time

from cja_source.client import CJAClient


class Progress:
    """Requests and backfill pairs so far, redrawn every second, and what a retry waits for."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = time.monotonic()
        self._width = 0

    def extract_started(self, client: CJAClient, stats: dict[str, int]) -> None:
        self._t0 = time.monotonic()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, args=(client, stats), daemon=True)
        self._thread.start()

    def extract_stopped(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._stop.set()
            self._thread.join()
            sys.stderr.write("\n")

    def _loop(self, client: CJAClient, stats: dict[str, int]) -> None:
        while not self._stop.wait(1.0):
            req = client.requests_by_endpoint()
            line = (
                f"\r[{time.monotonic() - self._t0:6.0f}s] list pages {req.get('list', 0)}, "
                f"backfill requests {req.get('backfills', 0)}, "
                f"pairs fetched {stats.get('pairs_fetch', 0)}, "
                f"inline {stats.get('pairs_inline', 0)}, "
                f"unchanged {stats.get('pairs_skip', 0)}"
            )
            if client.retrying:
                # counters that do not move say nothing: name what the run is asking again
                line += f"; retrying: {client.retrying}"
            # a shorter line than the last one would leave the end of that one on the screen
            self._width, padded = len(line), line.ljust(self._width)
            sys.stderr.write(padded)
            sys.stderr.flush()
