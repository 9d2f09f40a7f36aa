"""Switchable faults. Attributes may be set at any time from any thread; each read is atomic."""

from __future__ import annotations

import random
import threading
from typing import Any

_FIELDS = (
    "latency_ms",
    "error_rate",
    "slow_rate",
    "slow_seconds",
    "malformed_next",
    "drift_next",
    "extra_fields",
    "type_changes",
)


class Faults:
    def __init__(self, latency_ms: tuple[float, float] = (0, 0), error_rate: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random()
        self._base = (tuple(latency_ms), error_rate)
        self.reset()

    def reset(self) -> None:
        """Back to the configured latency/error rate, everything else off."""
        self.latency_ms: tuple[float, float] = self._base[0]  # type: ignore[assignment]
        self.error_rate: float = self._base[1]
        self.slow_rate = 0.0
        self.slow_seconds = 3.0
        self.malformed_next = 0
        self.drift_next = False
        self.extra_fields: dict[str, Any] = {}
        self.type_changes: dict[str, Any] = {}

    def set(self, **kw: Any) -> None:
        for k, v in kw.items():
            if k not in _FIELDS:
                raise ValueError(f"unknown fault {k!r}")
            if k == "latency_ms":
                v = tuple(v)
            setattr(self, k, v)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in _FIELDS}

    def latency(self) -> float:
        lo, hi = self.latency_ms
        if hi <= 0:
            return 0.0
        with self._lock:
            return self._rng.uniform(lo, hi) / 1000

    def error_status(self) -> int | None:
        rate = self.error_rate
        if rate <= 0:
            return None
        with self._lock:
            if self._rng.random() < rate:
                return self._rng.choice((500, 502, 503, 504))
        return None

    def slow_delay(self) -> float:
        rate = self.slow_rate
        if rate <= 0:
            return 0.0
        with self._lock:
            return self.slow_seconds if self._rng.random() < rate else 0.0

    def take_malformed(self) -> bool:
        with self._lock:
            if self.malformed_next > 0:
                self.malformed_next -= 1
                return True
        return False

    def take_drift(self) -> bool:
        with self._lock:
            if self.drift_next:
                self.drift_next = False
                return True
        return False
