"""Transient faults: the run recovers, and the warehouse equals the simulator's ground truth by key
with no duplicate key; sync_runs says what happened."""

from __future__ import annotations

import time

import pytest
import urllib3
from urllib3.util.connection import create_connection

from cja_source import auth
from cja_sync.run.sync import run_sync

from ..helpers import query
from ..truth_compare import assert_matches_truth, truth_from_json
from .helpers import LIMIT, WINDOW, rel_settings, runs


def test_429_storm_client_above_server_limit_completes(rsim, cli):
    sim = rsim(rate_limit=(LIMIT, WINDOW), inline_backfills=False)
    cfg = rel_settings(sim, requests_per_window=40, window_seconds=WINDOW, max_attempts=8)
    opts = cli.opts()
    summary = run_sync(cfg, opts)
    assert sim.count(status=429) > 0, sim.counters()
    assert summary.http_statuses.get("429", 0) == sim.count(status=429)
    assert_matches_truth(opts, sim.truth())
    assert runs(opts) == [("succeeded", None)]


def test_client_at_server_limit_sees_no_429(sim_process, cli):
    sim = sim_process(
        rate_limit=f"{LIMIT}/{WINDOW}", inline_backfills="off", connections=20, datasets_per_connection=2
    )
    cfg = rel_settings(sim.address, requests_per_window=LIMIT, window_seconds=WINDOW)
    opts = cli.opts()
    run_sync(cfg, opts)
    assert sim.count() > 2 * LIMIT  # the limit was actually exercised
    assert sim.count(status=429) == 0, sim.get("counters")
    assert_matches_truth(opts, truth_from_json(sim.get("truth")))


def test_slow_token_minting_costs_no_429(sim_process, cli):
    """Minting a token is an IMS round trip the gateway does not see: a request whose throttle
    slot was stamped before it reaches the gateway that much later than its stamp says."""
    sim = sim_process(
        rate_limit=f"{LIMIT}/{WINDOW}", inline_backfills="off", connections=20, datasets_per_connection=2
    )
    sim.admin("faults", {"token_seconds": 0.5})
    cfg = rel_settings(sim.address, requests_per_window=LIMIT, window_seconds=WINDOW)
    opts = cli.opts()
    run_sync(cfg, opts)
    assert sim.count("token", 200) == 1
    assert sim.count() > 2 * LIMIT
    assert sim.count(status=429) == 0, sim.get("counters")
    assert_matches_truth(opts, truth_from_json(sim.get("truth")))


def test_slow_connection_setup_costs_no_429(sim_process, cli, monkeypatch):
    """Opening a connection (TCP, then TLS at the real gateway) takes round trips the gateway does
    not count: a request that opens one reaches it that much later than a request on an open one."""
    sim = sim_process(
        rate_limit=f"{LIMIT}/{WINDOW}", inline_backfills="off", connections=20, datasets_per_connection=2
    )
    opened = []

    def slow_connect(*args, **kwargs):
        opened.append(args[0])
        time.sleep(0.4)
        return create_connection(*args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", slow_connect)
    cfg = rel_settings(sim.address, requests_per_window=LIMIT, window_seconds=WINDOW, max_concurrency=4)
    opts = cli.opts()
    run_sync(cfg, opts)
    assert len(opened) > 2  # the token's connection and more than one for the data requests
    assert sim.count() > 2 * LIMIT
    assert sim.count(status=429) == 0, sim.get("counters")
    assert_matches_truth(opts, truth_from_json(sim.get("truth")))


def test_5xx_bursts_and_slow_responses_complete(rsim, cli):
    sim = rsim(inline_backfills=False)
    sim.faults.set(error_rate=0.2, slow_rate=0.1, slow_seconds=0.6)
    cfg = rel_settings(sim, request_timeout=0.25, max_attempts=8, page_size=20)
    opts = cli.opts()
    summary = run_sync(cfg, opts)
    statuses = summary.http_statuses
    assert sum(statuses.get(s, 0) for s in ("500", "502", "503", "504")) > 0, statuses
    assert statuses.get("timeout", 0) > 0, statuses
    sim.faults.reset()
    assert_matches_truth(opts, sim.truth())
    assert runs(opts) == [("succeeded", None)]
    # the run's request counts are recorded, every attempt included
    recorded = query(opts, "SELECT requests_list, requests_backfills FROM {t}sync_runs")[0]
    assert recorded == (summary.requests["list"], summary.requests["backfills"])


@pytest.mark.parametrize("renew", ["before_expiry", "after_401"])
def test_token_expiring_mid_run_is_renewed(rsim, cli, monkeypatch, renew):
    sim = rsim(token_ttl=1, latency_ms=(40, 60), inline_backfills=False)
    if renew == "after_401":  # the client keeps its token past expiry: only the 401 tells it
        monkeypatch.setattr(auth, "RENEW_BEFORE_SECONDS", -60.0)
    cfg = rel_settings(sim, max_concurrency=2)
    opts = cli.opts()
    summary = run_sync(cfg, opts)
    assert summary.duration_seconds > 2.0  # the run outlasted two 1 s tokens
    assert sim.count("token", 200) >= 2, sim.counters()
    if renew == "after_401":
        assert sim.count(status=401) > 0, sim.counters()
    else:
        assert sim.count(status=401) == 0, sim.counters()
    assert_matches_truth(opts, sim.truth())
    assert runs(opts) == [("succeeded", None)]


def test_malformed_json_page_is_retried(rsim, cli):
    sim = rsim()
    sim.faults.set(malformed_next=2)
    opts = cli.opts()
    run_sync(rel_settings(sim), opts)
    assert sim.faults.malformed_next == 0
    assert_matches_truth(opts, sim.truth())


def test_items_inserted_ahead_of_the_reader_are_neither_missed_nor_duplicated(rsim, cli):
    sim = rsim()
    before = set(sim.truth().connections)
    sim.faults.set(drift_next=True)  # on the second page, a connection sorting first appears
    opts = cli.opts()
    run_sync(rel_settings(sim), opts)
    assert not sim.faults.drift_next
    inserted = set(sim.truth().connections) - before
    assert len(inserted) == 1
    assert_matches_truth(opts, sim.truth())  # also fails on any duplicate key
    (cid,) = inserted
    assert query(opts, f"SELECT count(*) FROM {{t}}connections WHERE id = '{cid}'") == [(1,)]


def test_new_fields_and_changed_types_between_runs(rsim, cli):
    from ..helpers import table_exists  # noqa: F401 - imported for symmetry with other suites

    sim = rsim()
    cfg, opts = rel_settings(sim), cli.opts()
    run_sync(cfg, opts)
    first = dict(query(opts, "SELECT id, case_sensitive FROM {t}connections"))

    sim.faults.set(extra_fields={"adobeNewFlag": True, "adobeNewInfo": {"tier": "gold", "level": 3}})
    run_sync(cfg, opts)
    assert_matches_truth(opts, sim.truth())
    cols = {
        c
        for (c,) in query(
            opts, "SELECT column_name FROM information_schema.columns WHERE table_name = 'connections'"
        )
    }
    assert {"adobe_new_flag", "adobe_new_info__tier", "adobe_new_info__level"} <= cols, cols
    assert query(opts, "SELECT DISTINCT adobe_new_info__tier FROM {t}connections") == [("gold",)]

    # a bool that becomes a string, an int that becomes an object
    sim.faults.set(type_changes={"caseSensitive": "sometimes", "numDailyEvents": {"value": 10}})
    run_sync(cfg, opts)
    assert_matches_truth(opts, sim.truth())
    cols = {
        c
        for (c,) in query(
            opts, "SELECT column_name FROM information_schema.columns WHERE table_name = 'connections'"
        )
    }
    assert "case_sensitive__v_text" in cols, cols  # dlt's variant column for the new type
    assert query(opts, "SELECT DISTINCT case_sensitive__v_text FROM {t}connections") == [("sometimes",)]

    # Adobe goes back: the original column is written again, nothing was lost on the way
    sim.faults.reset()
    run_sync(cfg, opts)
    assert_matches_truth(opts, sim.truth())
    assert dict(query(opts, "SELECT id, case_sensitive FROM {t}connections")) == first
    assert [s for s, _ in runs(opts)] == ["succeeded"] * 4
