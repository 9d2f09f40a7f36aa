"""Every loop that asks again has a budget (issue 27): against a service that never recovers, the
run ends with one line naming the endpoint and what kept failing, after a bounded number of
requests, with nothing written and the cause in sync_runs."""

from __future__ import annotations

import time

import pytest

from cja_source.client import CJAClient, ClientConfig
from cja_source.errors import ServiceUnavailableError

from .helpers import data_tables, rel_values, runs
from .test_errors import _one_line


def _fails_with_one_line(cli, values, *expected: str) -> str:
    code, _, err = cli.run(values)
    assert code == 1
    line = _one_line(err)
    for text in expected:
        assert text in line, line
    assert data_tables(cli.opts()) == set()
    assert runs(cli.opts()) == [("failed", line.removeprefix("cja-sync: "))]
    return line


def _settled(sim, seconds: float) -> None:
    """The simulator counts a request when it answers: let the slow answers still asleep finish."""
    time.sleep(seconds)


# Slow answers are written after the client gave up on them: the simulator runs in its own process
# (sim_process), where the broken pipes it reports land in its log, not in the CLI's stderr.


def test_every_page_timing_out_ends_the_run_within_the_bound(sim_process, cli):
    """The issue's case: every page times out, `request_timeout=1`, `max_attempts=2`. The first
    page of 50 (inline lists) is halved to 25, 12 and 10, then asked twice at 10: five requests."""
    sim = sim_process(connections=30, rate_limit="off")
    sim.admin("faults", {"slow_rate": 1.0, "slow_seconds": 1.5})
    values = rel_values(sim.address, request_timeout=1, max_attempts=2, page_size=1000)
    started = time.monotonic()
    code, _, err = cli.collect(cli.spawn(values), timeout=180)
    assert time.monotonic() - started < 180
    assert code == 1
    line = _one_line(err)
    assert line.startswith("cja-sync: CJA API did not answer within 1 s at /data/connections"), line
    assert "gave up after 2 attempts" in line and "with pages of 10, halved from 50" in line, line
    _settled(sim, 2)
    assert sim.count("list") == 5, sim.counters()
    assert runs(cli.opts()) == [("failed", line.removeprefix("cja-sync: "))]


def test_5xx_that_never_ends_stops_after_max_attempts(rsim, cli):
    sim = rsim()
    sim.faults.set(error_rate=1.0)
    line = _fails_with_one_line(cli, rel_values(sim, max_attempts=3), "at /data/connections: HTTP 50")
    assert "gave up after 3 attempts" in line, line
    assert sim.count("list") == 3, sim.counters()


def test_429_that_never_ends_stops_after_max_attempts(rsim, cli):
    """A gateway that admits one request a day and sends no Retry-After: backoff, then give up."""
    sim = rsim(rate_limit=(1, 86_400), retry_after=False, inline_backfills=False)
    # each 429 keeps the client off for a window: a short one keeps the test short
    values = rel_values(sim, max_attempts=3, max_concurrency=1, window_seconds=0.2)
    line = _fails_with_one_line(cli, values, "kept answering 429")
    assert "gave up after 3 attempts" in line, line
    # 3 attempts for each call that started before the first one gave up: the listing's next
    # page (read ahead), the backfills call in flight and the one its worker took up next
    assert sim.count(status=429) <= 3 * 3, sim.counters()


def test_a_retry_after_past_the_budget_is_not_waited(rsim, cli):
    """The same gateway asking to come back in a day: the call gives up at once."""
    sim = rsim(rate_limit=(1, 86_400), retry_after=True, inline_backfills=False)
    started = time.monotonic()
    line = _fails_with_one_line(cli, rel_values(sim, max_attempts=8), "kept answering 429")
    assert time.monotonic() - started < 30
    assert "gave up after 1 attempt in" in line, line
    assert "the next wait (86400 s) would end past the retry budget" in line, line


def test_the_wall_time_budget_ends_a_call_before_its_attempts(rsim):
    """Many attempts allowed, one second to spend: the call stops when the next pause would end
    past that second, whatever attempts remain."""
    sim = rsim()
    sim.faults.set(error_rate=1.0)
    client = CJAClient(
        ClientConfig(
            base_url=sim.base_url,
            token_url=sim.token_url,
            **_credentials(sim),
            max_attempts=1000,
            backoff_base=0.2,
            max_backoff=0.2,
            retry_seconds=1.0,
            requests_per_window=10_000,
            window_seconds=1.0,
        )
    )
    started = time.monotonic()
    with pytest.raises(ServiceUnavailableError) as raised:
        client.get("list", "/data/connections", {"limit": 10, "page": 0})
    assert time.monotonic() - started < 1.0 + 0.5  # the last attempt may start just before the end
    assert "would end past the retry budget of 1 s" in str(raised.value), raised.value
    assert 2 <= sim.count("list") < 20, sim.counters()
    client.close()


def _credentials(sim) -> dict[str, str]:
    cfg = sim.cfg
    return {"client_id": cfg.client_id, "client_secret": cfg.client_secret, "org_id": cfg.org_id}


def test_ims_that_never_answers_in_time_stops(sim_process, cli):
    sim = sim_process(connections=30, rate_limit="off")
    sim.admin("faults", {"token_seconds": 0.5})
    values = rel_values(sim.address, request_timeout=0.2, max_attempts=2)
    line = _fails_with_one_line(cli, values, "Adobe IMS did not answer in time at ")
    assert "gave up after 2 attempts" in line, line
    _settled(sim, 0.6)
    assert sim.count("token") == 2, sim.counters()
    assert sim.count("list") == 0, sim.counters()


def test_a_token_refused_again_after_renewal_is_not_renewed_again(rsim, cli):
    """Every token the gateway sees has expired: the call renews once, then stops."""
    sim = rsim(token_ttl=0)
    line = _fails_with_one_line(cli, rel_values(sim), "refused /data/connections: HTTP 401 401013")
    assert line.endswith("; refused again with a new token"), line
    assert sim.count("token", 200) == 2, sim.counters()
    assert sim.count("list", 401) == 2, sim.counters()
