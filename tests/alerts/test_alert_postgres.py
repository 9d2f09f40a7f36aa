"""The key paths on Postgres: the first alert equals `health --new`, a second sends nothing, a sink
answering 500 gets what it missed next time and the others nothing twice; an idle sync rewrites no
condition; reminders; a heartbeat that cannot be reached is a warning."""

from __future__ import annotations

from typing import Any

import psycopg2
import pytest

from ..helpers import PG_URL
from .conftest import Receiver
from .helpers import Cli, subjects, use_sim


def _tuples(schema: str, table: str) -> set[tuple[str, str]]:
    """(ctid, xmin) of every row: a row written (inserted or updated) gets a new pair."""
    conn = psycopg2.connect(PG_URL)
    try:
        with conn.cursor() as cur:
            cur.execute(f'SELECT ctid::text, xmin::text FROM "{schema}"."{table}"')
            return {(a, b) for a, b in cur.fetchall()}
    finally:
        conn.close()


def _cells_holding(schema: str, token: str) -> list[str]:
    """table.column of every cell of the schema whose text holds `token`."""
    conn = psycopg2.connect(PG_URL)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s",
                (schema,),
            )
            found = []
            for table, column in cur.fetchall():
                cur.execute(
                    f'SELECT COUNT(*) FROM "{schema}"."{table}" WHERE CAST("{column}" AS TEXT) LIKE %s',
                    (f"%{token}%",),
                )
                if cur.fetchone()[0]:
                    found.append(f"{table}.{column}")
            return found
    finally:
        conn.close()


@pytest.mark.postgres
def test_alert_on_postgres(
    make_sim: Any,
    pg_opts: Any,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sim = make_sim(seed=3, connections=12)
    use_sim(monkeypatch, sim)
    opts = pg_opts()
    cli = Cli(opts, capsys)
    assert cli("run", "--alert")[0] == 0
    posts = {r.path.split("/")[1]: r for r in receiver.take()}
    assert sorted(posts) == ["hb", "slack", "teams", "webhook"]
    new = cli.health_new()
    assert subjects(posts["webhook"].json()["new"]) == new and any(new.values())

    # an idle sync: one row of health_alerts written (the org's marker), and nothing to alert
    before = _tuples(opts.dataset_name, "health_alerts")
    assert len(before) > 5
    assert cli("run", "--alert")[0] == 0
    after = _tuples(opts.dataset_name, "health_alerts")
    assert len(after - before) == 1 and len(before - after) == 1
    assert [r.method for r in receiver.take()] == ["GET"]  # the heartbeat alone
    assert not any(cli.health_new().values())

    # Slack fails for good this time (one attempt): the others get theirs, exit 4 names slack
    monkeypatch.setenv("CJA_SYNC__ALERTS__MAX_ATTEMPTS", "1")
    shown = {tuple(s.split("/")[:2]) for c in ("failed", "stuck", "stale") for s in new[c]}
    cid, dsid = next(k for k in sorted(sim.truth().datasets) if k not in shown)
    sim.add_backfill(cid, dsid, status="FAILED")
    receiver.fail["slack"] = 1
    code, _, err = cli("run", "--alert")
    assert code == 4 and "alert to slack failed" in err and "HTTP 500" in err
    got = {r.path.split("/")[1]: r for r in receiver.take() if r.method == "POST"}
    assert subjects(got["webhook"].json()["new"])["failed"] == [f"{cid}/{dsid}"]
    code, out, _ = cli("alert")
    assert code == 0 and "sent to slack" in out
    got = receiver.take()
    assert [r.path.split("/")[1] for r in got] == ["slack"] and f"{cid}/{dsid}" in got[0].body.decode()

    # reminders: what still holds, re-sent once the last complete message is that old
    monkeypatch.setenv("CJA_SYNC__ALERTS__REMIND_AFTER_HOURS", "0.000001")
    code, out, _ = cli("alert")
    assert code == 0 and "still holding (reminder)" in out
    reminded = {r.path.split("/")[1]: r.json() for r in receiver.take()}
    assert sorted(reminded) == ["slack", "teams", "webhook"]
    still = subjects(reminded["webhook"]["still"])
    assert f"{cid}/{dsid}" in still["failed"] and not any(subjects(reminded["webhook"]["new"]).values())

    # a heartbeat nobody answers: a warning, the run still succeeds
    monkeypatch.setenv("CJA_SYNC__ALERTS__HEARTBEAT_URL", "http://127.0.0.1:9/hb/" + receiver.token)
    monkeypatch.delenv("CJA_SYNC__ALERTS__REMIND_AFTER_HOURS")
    code, _, err = cli("run")
    assert code == 0 and "warning: heartbeat ping failed: could not connect" in err
    assert not [o for o in cli.outputs if receiver.token in o]
    assert _cells_holding(opts.dataset_name, receiver.token) == []
