"""A fleet: one message per org and sink, named with the org's configured name; an org whose sync
failed gets `status: failed` with its reason, the others their news; the heartbeat says /fail."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import ORGS, Receiver
from .helpers import Cli, subjects


def test_one_message_per_org(
    two_orgs: dict[str, Any],
    duckdb_opts: Any,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    opts = duckdb_opts()
    cli = Cli(opts, capsys)
    monkeypatch.setenv("CJA_SYNC__ALERTS__MAX_ATTEMPTS", "1")
    code, _, err = cli("run", "--alert")
    assert code == 0, err
    got = receiver.take()
    assert [r.path.split("/")[1] for r in got if r.method == "GET"] == ["hb"]
    webhook = sorted((r.json() for r in got if r.path.startswith("/webhook")), key=lambda p: p["org"])
    assert [(p["org"], p["org_id"]) for p in webhook] == [(n, ORGS[n]["org_id"]) for n in ("emea", "us")]
    assert (
        sorted(r.path.split("/")[1] for r in got if r.method == "POST")
        == ["slack"] * 2 + ["teams"] * 2 + ["webhook"] * 2
    )
    for name in ("emea", "us"):
        assert subjects(next(p for p in webhook if p["org"] == name)["new"]) == cli.health_new("--org", name)

    # us cannot sync (a wrong secret); emea has a new failed backfill
    monkeypatch.setenv("SOURCES__CJA__ORGS__US__CREDENTIALS__CLIENT_SECRET", "wrong-secret-0815")
    sim = two_orgs["emea"]
    known = {
        tuple(s.split("/")[:2])
        for p in webhook
        for c in ("failed", "stuck", "stale")
        for s in subjects(p["new"])[c]
    }
    cid, dsid = next(k for k in sorted(sim.truth().datasets) if k not in known)
    sim.add_backfill(cid, dsid, status="FAILED")
    code, _, err = cli("run", "--alert")
    assert code == 1 and "org us" in err
    got = receiver.take()
    assert [r.path.rsplit("/", 1)[-1] for r in got if r.method == "GET"] == ["fail"]
    by_org = {r.json()["org"]: r.json() for r in got if r.path.startswith("/webhook")}
    assert by_org["us"]["status"] == "failed" and by_org["us"]["error"]
    assert by_org["emea"]["status"] == "ok"
    assert subjects(by_org["emea"]["new"])["failed"] == [f"{cid}/{dsid}"]
    assert all("wrong-secret-0815" not in r.body.decode() for r in got)
