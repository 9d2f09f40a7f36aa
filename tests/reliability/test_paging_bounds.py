"""Paged reads that would never end: each stops with one line, exit code 1, a bounded
number of requests, nothing written, and the cause in sync_runs."""

from __future__ import annotations

import pytest

from .helpers import data_tables, rel_values, runs
from .test_errors import _one_line


@pytest.mark.parametrize(
    ("fault", "expect", "max_list"),
    [
        # the second request (page 1) answers page 0 again
        ({"ignore_page": True}, "with only items it had already sent", 2),
        # the first page announces 10**9 pages: more than 1,000 connections can fill
        ({"claim_total_pages": 10**9}, "announced 10000000000 items at GET /data/connections", 1),
        # within the limits, but short of what it announced after three readings of <= 5 pages
        ({"claim_total_pages": 5}, "announced 50 connections at GET /data/connections but gave ", 15),
    ],
    ids=["ignores_page_never_last", "claims_1e9_pages", "claims_more_than_it_gives"],
)
def test_listing_that_cannot_end_stops(rsim, cli, fault, expect, max_list):
    sim = rsim()
    sim.faults.set(**fault)
    code, _, err = cli.run(rel_values(sim))
    assert code == 1
    line = _one_line(err)
    assert expect in line and "stopping" in line, line
    assert sim.count("list") <= max_list, sim.counters()
    assert data_tables(cli.opts()) == set()
    assert runs(cli.opts()) == [("failed", line.removeprefix("cja-sync: "))]


def test_backfills_list_that_never_ends_stops(rsim, cli):
    sim = rsim(inline_backfills=False)
    sim.faults.set(endless_backfills=True)
    values = rel_values(sim, max_concurrency=2)
    code, _, err = cli.run(values)
    assert code == 1
    line = _one_line(err)
    assert "at GET /data/connections/{connection_id}/datasets/{data_set_id}/backfills" in line, line
    assert "its backfillSummary.total of " in line and "dataset '" in line, line
    assert "stopping instead of paging on" in line, line
    # one pair ends the run after at most (total + 50) / 10 + 1 pages; the pairs already in flight
    # (4 x max_concurrency) end the same way
    pairs = sum(len(sim.dataset_ids(c)) for c in sim.connection_ids())
    assert sim.count("backfills") <= 8 * 9, (pairs, sim.counters())
    assert data_tables(cli.opts()) == set()
    assert runs(cli.opts()) == [("failed", line.removeprefix("cja-sync: "))]
