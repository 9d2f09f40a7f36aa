"""Fixtures: a shared read-only org, a private org per test, and a client. Plain helpers: helpers.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cja_source.simulator import Simulator

from .helpers import Client, start_sim


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    """Read-only shared org: tests using it must not mutate it or change its faults."""
    s = start_sim()
    yield s
    s.stop()


@pytest.fixture()
def fresh() -> Iterator[Simulator]:
    """A private org a test may mutate."""
    s = start_sim(connections=25)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(sim: Simulator) -> Client:
    return Client(sim)
