"""One budget for every loop that asks again: attempts and wall time, spent through tenacity.

Each call of the client (one request with its retries of timeouts, connection errors, 429s, 5xx,
malformed bodies and one token renewal; one token request with its retries) gets a budget of
`attempts` tries within `seconds`. A wait the service asks for (Retry-After) that would end past
the budget is not waited: the call gives up at once. Whatever ends the call, the error names the
endpoint, what kept failing and what was spent. A call to an address where nothing answers at all
(connection refused, unknown host) gets `unreachable_attempts` of its tries, a few seconds: no
sign of life is not load, and a wrong base_url should be said in seconds, not minutes. Page
halving is bounded by the page sizes themselves (see CJAClient.paginate)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type

from . import settings
from .errors import CJAError

_T = TypeVar("_T")
_E = TypeVar("_E", bound=CJAError)


@dataclass(frozen=True)
class RetryBudget:
    """What one call may spend: `attempts` tries, the first included, and `seconds` from its start."""

    attempts: int
    seconds: float
    unreachable_attempts: int = settings.UNREACHABLE_ATTEMPTS

    @classmethod
    def of(cls, attempts: int, timeout: float, max_backoff: float) -> RetryBudget:
        """The time `attempts` tries may legitimately take: each one a connect and a read timeout,
        each pause between them up to `max_backoff`. Only a wait the service asks for goes beyond."""
        per_try = timeout + settings.CONNECT_TIMEOUT_SECONDS
        return cls(attempts, attempts * per_try + (attempts - 1) * max_backoff)


class Retryable(Exception):
    """One failed attempt that may succeed when repeated; `final` is raised if none does.
    `unreachable`: nothing answered at the address (see responses.unreachable)."""

    def __init__(
        self,
        final: CJAError,
        retry_after: float | None = None,
        timeout: bool = False,
        unreachable: bool = False,
    ) -> None:
        super().__init__(str(final))
        self.final = final
        self.retry_after = retry_after
        self.timeout = timeout
        self.unreachable = unreachable


class Spending:
    """One call's use of a budget: tenacity's stop and sleep, and the words for giving up."""

    def __init__(self, budget: RetryBudget, stopped: threading.Event) -> None:
        self.budget = budget
        self.stopped = stopped
        self.started = time.monotonic()
        self.attempts = 0
        self.unreachable = 0
        self.refused_wait: float | None = None

    def retrying(self, wait: Callable[[RetryCallState], float]) -> Retrying:
        return Retrying(
            stop=self._stop,
            wait=wait,
            retry=retry_if_exception_type(Retryable),
            # a pause ends early when the run is being stopped (a signal): no thread sleeps it out
            sleep=self._pause,
            before=self._count,
            reraise=True,
        )

    def _pause(self, seconds: float) -> None:
        self.stopped.wait(seconds)

    def _count(self, state: RetryCallState) -> None:
        self.attempts = state.attempt_number

    def _stop(self, state: RetryCallState) -> bool:
        if self.stopped.is_set() or state.attempt_number >= self.budget.attempts:
            return True
        failed = state.outcome.exception() if state.outcome else None
        if isinstance(failed, Retryable) and failed.unreachable:
            self.unreachable += 1
            if self.unreachable >= self.budget.unreachable_attempts:
                return True
        # tenacity computes the wait before asking whether to stop: a wait that would end past the
        # budget is not started (a Retry-After of an hour ends the call now, not in an hour)
        if not self.fits(state.upcoming_sleep):
            self.refused_wait = state.upcoming_sleep
            return True
        return False

    def fits(self, wait: float) -> bool:
        """Whether a wait of `wait` seconds starting now ends within the budget."""
        return self.elapsed() + wait <= self.budget.seconds

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def note(self) -> str:
        """How the budget was spent, e.g. `gave up after 8 attempts in 41.2 s`."""
        tries = f"{self.attempts} attempt{'s' if self.attempts != 1 else ''}"
        text = f"gave up after {tries} in {self.elapsed():.1f} s"
        if self.refused_wait is not None:
            text += (
                f": the next wait ({self.refused_wait:.0f} s) would end past the retry budget "
                f"of {self.budget.seconds:.0f} s"
            )
        return text


def with_note(error: _E, note: str, sep: str = "; ") -> _E:
    """`error` with `note` added to its one line (same type, status and code)."""
    return type(error)(f"{error.message}{sep}{note}", status=error.status, code=error.code)
