"""Failures the user must fix: one line naming the cause and the fix, the contract's exit code,
nothing written half-way."""

from __future__ import annotations

import socket
from pathlib import Path

from cja_sync.run.sync import run_sync

from ..truth_compare import assert_matches_truth
from .helpers import CLIENT_SECRET, data_tables, rel_settings, rel_values, runs, snapshot


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_wrong_client_secret(rsim, cli, guard):
    sim = rsim()
    wrong = "rel-WRONG-secret-Jd83kq"
    guard.secrets.add(wrong)
    code, out, err = cli.run(rel_values(sim, credentials={"client_secret": wrong}))
    assert code == 1
    line = _one_line(err)
    assert "Adobe IMS refused the credential" in line and "client_secret" in line, line
    assert data_tables(cli.opts()) == set()
    assert runs(cli.opts()) == [("failed", line.removeprefix("cja-sync: "))]


def test_wrong_org_id(rsim, cli):
    sim = rsim()
    code, _, err = cli.run(rel_values(sim, credentials={"org_id": "WRONG0000000000000000000@AdobeOrg"}))
    assert code == 1
    line = _one_line(err)
    assert "403027" in line and "check sources.cja.credentials.org_id" in line, line
    assert data_tables(cli.opts()) == set()


def test_non_admin_empty_listing_fails_unless_allowed(rsim, cli, guard):
    sim = rsim(extra_clients={"viewer": ("viewer-pw-Xk29", False)})
    guard.secrets.add("viewer-pw-Xk29")
    values = rel_values(sim, credentials={"client_id": "viewer", "client_secret": "viewer-pw-Xk29"})
    code, _, err = cli.run(values)
    assert code == 1
    line = _one_line(err)
    assert "0 connections" in line and "product admin" in line and "--allow-empty" in line, line
    assert data_tables(cli.opts()) == set()

    code, out, err = cli.run(values, "--allow-empty")
    assert code == 0, err
    assert "succeeded" in out
    assert [s for s, _ in runs(cli.opts())] == ["failed", "succeeded"]


def test_unreachable_host(cli):
    port = _free_port()
    values = {
        "base_url": f"http://127.0.0.1:{port}",
        "token_url": f"http://127.0.0.1:{port}/ims/token/v3",
        "max_attempts": 2,
        "backoff_base": 0.01,
        "credentials": {"client_id": "x", "client_secret": CLIENT_SECRET, "org_id": "A@AdobeOrg"},
    }
    code, _, err = cli.run(values)
    assert code == 1
    line = _one_line(err)
    assert "cannot reach Adobe IMS" in line and "connection refused" in line, line
    assert "check sources.cja.token_url" in line, line
    assert data_tables(cli.opts()) == set()


def test_malformed_json_that_persists_fails_cleanly_and_next_run_is_exact(rsim, cli):
    sim = rsim()
    opts = cli.opts()
    values = rel_values(sim, max_attempts=3)
    assert cli.run(values)[0] == 0
    before = snapshot(opts)
    sim.add_connection()  # something the failed run would have written
    sim.faults.set(malformed_next=1000)
    code, _, err = cli.run(values)
    assert code == 1
    line = _one_line(err)
    assert "malformed JSON" in line, line
    assert snapshot(opts) == before  # nothing written half-way
    assert [s for s, _ in runs(opts)] == ["succeeded", "failed"]
    assert "malformed JSON" in runs(opts)[1][1]

    sim.faults.reset()
    assert cli.run(values)[0] == 0
    assert_matches_truth(opts, sim.truth())
    assert [s for s, _ in runs(opts)] == ["succeeded", "failed", "succeeded"]


def test_failure_after_good_runs_leaves_tables_unchanged(rsim, cli):
    """A 5xx that outlasts every retry, mid-listing, after a good run."""
    sim = rsim()
    opts = cli.opts()
    run_sync(rel_settings(sim), opts)
    before = snapshot(opts)
    sim.delete_connection(sim.connection_ids()[0])  # a failed run must not mark it deleted
    sim.faults.set(error_rate=1.0)
    code, _, err = cli.run(rel_values(sim, max_attempts=2))
    assert code == 1
    assert "HTTP 50" in _one_line(err)
    assert snapshot(opts) == before


def test_rate_limit_that_never_clears(rsim, cli):
    sim = rsim(rate_limit=(1, 60.0))  # one request a minute: retries cannot outlast it
    code, _, err = cli.run(rel_values(sim, max_attempts=2, window_seconds=0.05))
    assert code == 1
    line = _one_line(err)
    assert "429" in line and "lower sources.cja.requests_per_window" in line, line
    assert data_tables(cli.opts()) == set()
    assert runs(cli.opts())[0][0] == "failed"


# ----------------------------------------------------------------- bad settings: exit 2


def test_page_size_zero(rsim, cli):
    sim = rsim()
    code, _, err = cli.run(rel_values(sim, page_size=0))
    assert code == 2
    assert "page_size must be between 1 and 1000" in _one_line(err)
    assert sim.count() == 0 and not Path(cli.duckdb_path).exists()


def test_unknown_destination(rsim, cli):
    sim = rsim()
    code, _, err = cli.run(rel_values(sim), "--destination", "nosuchwarehouse")
    assert code == 2
    assert "unknown destination 'nosuchwarehouse'" in _one_line(err)
    assert sim.count() == 0


def test_malformed_connection_ids(rsim, cli):
    sim = rsim()
    for bad in ('["dg_ok", "not an id!"]', "[dg_unclosed"):
        code, _, err = cli.run({**rel_values(sim), "connection_ids": bad})
        assert code == 2, (bad, err)
        assert "connection_ids" in _one_line(err), err
    assert sim.count() == 0


def test_unreadable_secrets_file(rsim, cli, tmp_path):
    """.dlt/secrets.toml that is not TOML, or not a readable file, in the working directory."""
    sim = rsim()
    values = rel_values(sim)
    values.pop("credentials")
    for name, make in (
        ("not_toml", lambda p: p.write_text('[sources.cja.credentials]\nclient_secret = "unclosed\n')),
        ("not_utf8", lambda p: p.write_bytes(b"[sources.cja]\nx = '\xff\xfe'\n")),
        ("a_directory", lambda p: p.mkdir()),
    ):
        cwd = tmp_path / name
        (cwd / ".dlt").mkdir(parents=True)
        make(cwd / ".dlt" / "secrets.toml")
        code, out, err = cli.collect(cli.spawn(values, cwd=cwd))
        assert code == 2, (name, out, err)
        line = _one_line(err)
        assert "secrets.toml" in line, (name, line)
    assert sim.count() == 0
