"""SIGTERM and SIGINT end a `cja-sync run` cleanly: within seconds, with one line that says where
the run was and what becomes of it, the run recorded `failed` with that line, exit 143 or 130.

Schedulers send SIGTERM on every timeout and deploy. Python's defaults end a run three different
ways (SIGTERM kills it silently and leaves it `running`; SIGINT is a KeyboardInterrupt that dlt's
extract turns into whatever its pipe sees next, such as StopIteration; inside dlt's normalize and
load, dlt's own handler raises SignalReceivedException, or forgets the signal if the step ends
first). Here one handler takes both for the whole run, dlt's steps included: the first signal
stops every CJA client of the process (no thread asks again) and raises Interrupted in the main
thread, which the run turns into its one line (`interruption`). dlt wraps it like any error of a
step, and waits for a load job already running. The line is printed, the row recorded, the locks
released by their context managers, and the CLI ends the process (`exit_now`) without waiting for
threads still sending a request. A second signal ends the process at once, as `kill -9` would
(which the crash tests show the next run recovers from).

Where the handler is not installed (Dagster, a plain `run_sync`), dlt's handler and Python's
KeyboardInterrupt still end the run with the same kind of line (`signal_of`)."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from types import FrameType

import dlt

from cja_source.client import stop_all_clients
from cja_source.errors import CJAError

from .record import RunSummary

NAMES: dict[int, str] = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}
DLT_INTERCEPTS = "RUNTIME__INTERCEPT_SIGNALS"  # dlt's runtime.intercept_signals
NOTHING = "nothing was loaded"
NEXT_RUN = "the next run completes it"

_active = False  # a run's handlers are installed (signals_end_the_run)
_received = 0  # the signal that is ending the run, 0 before one arrives
_last = 0  # the last signal received, kept after the handlers are gone (for the CLI's exit)


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread by the first signal. A KeyboardInterrupt, so that the code it
    passes through treats it as one (dlt's steps wrap it in PipelineStepFailed)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by {name_of(signum)}")
        self.signum = signum


class RunInterrupted(CJAError):
    """The one line of a run a signal ended; exits 128 + the signal's number (130, 143)."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signum = signum
        self.exit_code = 128 + signum


def name_of(signum: int) -> str:
    return NAMES.get(signum, f"signal {signum}")


@contextmanager
def signals_end_the_run() -> Iterator[None]:
    """SIGINT and SIGTERM handled as the module says, while the block runs (main thread only)."""
    global _active, _received, _last
    if sys.platform == "win32" or not _in_main_thread():
        yield
        return
    saved = {s: signal.getsignal(s) for s in NAMES}
    intercept = os.environ.get(DLT_INTERCEPTS)
    _active, _received, _last = True, 0, 0
    try:
        # dlt's own handler (normalize and load) would take the signal instead, and forget it when
        # the step completes anyway: a signal at the end of a load would go unnoticed
        os.environ[DLT_INTERCEPTS] = "false"
        for s in NAMES:
            signal.signal(s, _handler)
        try:
            yield
        except Interrupted as exc:
            # outside a run's steps: waiting for a lock, publishing, a fleet's main thread (each of
            # its orgs' runs says in sync_runs how far it got)
            where = f"interrupted by {name_of(exc.signum)} outside extract and load"
            raise RunInterrupted(f"{where}; {NEXT_RUN}", exc.signum) from exc
    finally:
        for s, previous in saved.items():
            signal.signal(s, previous)
        if intercept is None:
            os.environ.pop(DLT_INTERCEPTS, None)
        else:
            os.environ[DLT_INTERCEPTS] = intercept
        _active, _received = False, 0


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _handler(signum: int, frame: FrameType | None) -> None:
    global _received, _last
    if _received:
        # the user insists: end now, as kill -9 would; the next run closes the `running` row
        os.write(2, f"cja-sync: {name_of(signum)} again; stopping at once\n".encode())
        os._exit(128 + signum)
    _received = _last = signum
    stop_all_clients()
    raise Interrupted(signum)


def received() -> int:
    """The signal our handler took during the last run of this process's CLI (0: none)."""
    return _last


def signal_of(exc: BaseException) -> int:
    """The signal behind `exc`: the one our handler took, or one dlt's took (its
    SignalReceivedException) or Python's (a KeyboardInterrupt is SIGINT). 0: no signal."""
    if _active and _received:
        return _received
    from dlt.common.exceptions import SignalReceivedException

    from ..errors import chain

    for link in chain(exc):
        if isinstance(link, Interrupted):
            return link.signum
        if isinstance(link, SignalReceivedException):
            return int(link.signal_code)
        if isinstance(link, KeyboardInterrupt):
            return int(signal.SIGINT)
    return 0


def note(signum: int) -> None:
    """A signal dlt's handler took: from now on, another one ends the process at once."""
    global _received
    if _active and not _received:
        _received = signum


def exit_now(code: int) -> None:
    """End the process with `code` once a signal ended the run and its line is printed: threads
    still waiting for an answer of the API (up to request_timeout) must not keep it alive, and
    everything that matters (the run's row, the locks, the warehouse files) is settled."""
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):  # a stream already closed, or its reader gone
            stream.flush()
    os._exit(code)


def interruption(
    exc: BaseException, pipeline: dlt.Pipeline, summary: RunSummary, started: datetime
) -> RunInterrupted | None:
    """The one line of a run that `exc` ended, when a signal is behind it: which signal, where the
    run was, and what becomes of its data. None when no signal is behind it."""
    signum = signal_of(exc)
    if not signum:
        return None
    note(signum)
    where, outcome = _phase(exc, pipeline, summary, started)
    return RunInterrupted(f"interrupted by {name_of(signum)} {where}; {outcome}", signum)


def _phase(
    exc: BaseException, pipeline: dlt.Pipeline, summary: RunSummary, started: datetime
) -> tuple[str, str]:
    from dlt.pipeline.exceptions import PipelineStepFailed

    from ..errors import chain

    for link in chain(exc):
        if isinstance(link, PipelineStepFailed) and link.pipeline is pipeline:
            # the loading of what an interrupted run left (before extract) is a load as well
            if link.step == "extract":
                return "during extract", NOTHING
            if link.step == "normalize":
                return "during normalize", f"{NOTHING} yet, {NEXT_RUN}"
            return f"during {link.step}", NEXT_RUN
    # between dlt's steps, in our own code: the pipeline's packages say how far the data got
    try:
        if pipeline.list_normalized_load_packages():
            return "before load", f"{NOTHING} yet, {NEXT_RUN}"
        if pipeline.list_extracted_load_packages():
            return "before normalize", f"{NOTHING} yet, {NEXT_RUN}"
        if _loaded_since(pipeline, started):
            return "after load", NEXT_RUN
    except Exception:  # noqa: BLE001 - the pipeline directory itself may be what failed
        pass
    return ("during extract", NOTHING) if summary.first_sync is not None else ("before extract", NOTHING)


def _loaded_since(pipeline: dlt.Pipeline, started: datetime) -> bool:
    trace = pipeline.last_trace
    return trace is not None and any(
        s.step == "load" and s.step_exception is None and s.started_at >= started for s in trace.steps
    )
