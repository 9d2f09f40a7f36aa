"""Output to a reader that may go away: `cja-sync health --fail-on failed | head -1`.

Python ignores SIGPIPE, so a write to a closed pipe raises BrokenPipeError, either in a print or in
the flush at exit, which then turns any exit code into 120. A reader that stopped reading is not a
failure of ours, and it must never change the exit code a command decided (`--fail-on`'s 3)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def reader_may_leave() -> Iterator[None]:
    """Print inside; if the reader of stdout has gone, the rest of the output is dropped and the
    caller goes on to return the exit code it decided. Flushes on the way out, so a reader gone
    after the last line is noticed here, not by the interpreter at exit."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        drop_stdout()


def drop_stdout() -> None:
    """Send what is left of stdout to /dev/null: the interpreter's own flush at exit would raise
    BrokenPipeError again, print a complaint and exit 120."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


def finish_output() -> None:
    """Flush stdout before returning the exit code: a reader gone after the last line is no error."""
    with reader_may_leave():
        pass
