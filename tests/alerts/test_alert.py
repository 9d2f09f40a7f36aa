"""`cja-sync alert` end to end on DuckDB: the simulator over HTTP, the CLI, a receiver on loopback
standing in for the webhook, Slack, Teams and the heartbeat service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from cja_sync.warehouse.duckdb_file import working_path

from ..helpers import query
from .conftest import Receiver
from .helpers import Cli, files_holding, subjects, use_sim

HOSTILE = (
    "<!channel> <@U024BE7LH> <https://evil.example|click> *bold* _it_ [x](https://evil.example) "
    "\x1b[31m\u202e"
)


def _text_cells_holding(path: Path, token: str) -> list[str]:
    """table.column of every cell of the DuckDB file `path` whose text holds `token`."""
    found = []
    with duckdb.connect(str(path), read_only=True) as db:
        columns = db.sql(
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() WHERE NOT internal"
        ).fetchall()
        for schema, table, column in columns:
            [(n,)] = db.execute(
                f'SELECT COUNT(*) FROM "{schema}"."{table}" WHERE CAST("{column}" AS VARCHAR) LIKE ?',
                [f"%{token}%"],
            ).fetchall()
            if n:
                found.append(f"{schema}.{table}.{column}")
    return found


def _fresh_failure(sim: Any, shown: set[tuple[str, str]]) -> tuple[str, str]:
    """A FAILED backfill on a dataset with no problem so far; returns its pair."""
    cid, dsid = next(k for k in sorted(sim.truth().datasets) if k not in shown)
    sim.add_backfill(cid, dsid, status="FAILED")
    shown.add((cid, dsid))
    return cid, dsid


def test_alert_on_duckdb(
    make_sim: Any,
    duckdb_opts: Any,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    sim = make_sim(seed=3, connections=12)
    use_sim(monkeypatch, sim)
    opts = duckdb_opts()
    cli = Cli(opts, capsys)

    # a sync pings the heartbeat; the first alert tells every sink everything that holds
    code, _, err = cli("run")
    assert code == 0, err
    assert [(r.method, r.path.split("/")[1]) for r in receiver.take()] == [("GET", "hb")]
    code, out, err = cli("alert")
    assert code == 0, err
    posts = receiver.take()
    assert sorted(r.path.split("/")[1] for r in posts) == ["slack", "teams", "webhook"]
    payload = next(r.json() for r in posts if r.path.startswith("/webhook"))
    assert payload["status"] == "ok" and payload["org_id"] == str(sim.cfg.org_id)
    assert payload["resolved"] == {c: [] for c in payload["new"]}
    new = cli.health_new()
    assert subjects(payload["new"]) == new and any(new.values())
    assert payload["counts"] == {c: len(v) for c, v in new.items()}  # all of it is new, the first time
    assert "sent to slack" in out

    # nothing changed: nothing is sent, and nothing written
    code, out, _ = cli("alert")
    assert code == 0 and out.strip() == "nothing new to alert on" and receiver.take() == []

    # a backfill that fails between two syncs arrives alone; its hostile name stays text
    shown = {(k.split("/")[0], k.split("/")[1]) for k in new["failed"] + new["stale"] + new["stuck"]}
    cid, dsid = _fresh_failure(sim, shown)
    sim.modify_connection(cid, name=HOSTILE)
    assert cli("run")[0] == 0
    code, _, _ = cli("alert")
    assert code == 0
    posts = {r.path.split("/")[1]: r.json() for r in receiver.take() if r.method == "POST"}
    assert subjects(posts["webhook"]["new"]) == {
        **{c: [] for c in posts["webhook"]["new"]},
        "failed": [f"{cid}/{dsid}"],
    }
    assert posts["webhook"]["counts"]["failed"] == len(new["failed"]) + 1
    item = posts["webhook"]["new"]["failed"][0]
    assert item["connection_name"] == HOSTILE  # the JSON webhook gets the name exactly
    _assert_slack_safe(posts["slack"])
    _assert_teams_safe(posts["teams"])

    # Slack answers 500 (5 times; 3 attempts per alert): exit 4 naming slack, the others get theirs
    cid2, dsid2 = _fresh_failure(sim, shown)
    assert cli("run")[0] == 0
    receiver.take()
    receiver.fail["slack"] = 5
    code, _, err = cli("alert")
    assert code == 4
    assert err.count("\n") == 1 and "alert to slack failed" in err and "HTTP 500" in err
    got = receiver.take()
    assert [r.path.split("/")[1] for r in got].count("slack") == 3
    webhook = [r.json() for r in got if r.path.startswith("/webhook")]
    assert [subjects(p["new"])["failed"] for p in webhook] == [[f"{cid2}/{dsid2}"]]
    # the next alert: Slack recovers after two more 500s and gets what it missed, alone
    code, _, err = cli("alert")
    assert code == 0, err
    got = receiver.take()
    assert {r.path.split("/")[1] for r in got} == {"slack"} and len(got) == 3
    slack_text = str(got[-1].json())
    assert dsid2 in slack_text and f"{cid}/{dsid}" not in slack_text

    # the delivery state is in the working file, and the next sync publishes it
    work = working_path(Path(opts.duckdb_path))
    with duckdb.connect(str(work), read_only=True) as db:
        rows = db.sql(
            "SELECT sink, failures, last_failure FROM cja.alert_deliveries ORDER BY sink"
        ).fetchall()
    assert rows == [("slack", 0, None), ("teams", 0, None), ("webhook", 0, None)]
    assert cli("run")[0] == 0
    assert query(opts, "SELECT COUNT(*) FROM {t}alert_deliveries") == [(3,)]
    assert cli("alert")[0] == 0 and [r.method for r in receiver.take()] == ["GET"]  # the run's ping

    # the dead man's switch: fine right after a sync, stale when the last good one is 3 days old
    assert cli("health", "--fail-on", "sync_stale")[0] == 0
    with duckdb.connect(opts.duckdb_path) as db:
        db.execute("UPDATE cja.sync_runs SET finished_at = finished_at - INTERVAL 3 DAY")
    code, out, _ = cli("health", "--fail-on", "sync_stale")
    assert code == 3 and "sync_stale: no successful sync for 72" in out
    page = tmp_path / "health.html"
    assert cli("report", "--out", str(page))[0] == 0
    assert 'class="sync-stale">sync_stale: no successful sync of ' in page.read_text()
    code, _, _ = cli("alert")
    assert code == 0
    posts = {r.path.split("/")[1]: r.json() for r in receiver.take()}
    assert subjects(posts["webhook"]["new"])["sync_stale"] == [str(sim.cfg.org_id)]
    assert posts["webhook"]["counts"]["sync_stale"] == 1
    assert cli("run")[0] == 0  # syncs again: resolved
    receiver.take()
    cli("alert")
    posts = {r.path.split("/")[1]: r.json() for r in receiver.take()}
    assert subjects(posts["webhook"]["resolved"])["sync_stale"] == [str(sim.cfg.org_id)]

    # a wrong secret: the heartbeat's /fail, and run --alert posts the failed sync without it
    monkeypatch.setenv("SOURCES__CJA__CREDENTIALS__CLIENT_SECRET", "wrong-secret-4711")
    code, _, err = cli("run", "--alert")
    assert code != 0 and err.strip()
    got = receiver.take()
    assert [r.path.rsplit("/", 1)[-1] for r in got if r.method == "GET"] == ["fail"]
    failed = next(r.json() for r in got if r.path.startswith("/webhook"))
    assert failed["status"] == "failed" and failed["error"]
    assert all("wrong-secret-4711" not in r.body.decode() for r in got)

    # the webhook token: in no output, no table, no file the runs left
    assert not [o for o in cli.outputs if receiver.token in o]
    assert _text_cells_holding(Path(opts.duckdb_path), receiver.token) == []
    assert _text_cells_holding(work, receiver.token) == []
    assert files_holding(tmp_path, receiver.token) == []


def _assert_slack_safe(payload: dict[str, Any]) -> None:
    texts = [payload["text"]]
    for block in payload["blocks"]:
        if "text" in block:
            texts.append(block["text"]["text"])
            if HOSTILE[:5] in str(block):
                assert block["text"]["type"] == "plain_text"
        texts += [e["text"] for e in block.get("elements", [])]
    joined = "\n".join(texts)
    assert "<" not in joined and ">" not in joined  # no mention, no link: &lt; and &gt;
    assert "&lt;!channel&gt;" in joined
    assert "\x1b" not in joined and "\u202e" not in joined


def _assert_teams_safe(payload: dict[str, Any]) -> None:
    card = payload["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard"
    for block in card["body"]:
        assert block["type"] == "RichTextBlock"  # text runs: no markdown, so no link
        for run in block["inlines"]:
            assert "\x1b" not in run["text"] and "\u202e" not in run["text"]
    assert "<!channel>" in str(card)  # shown as it is, as text
