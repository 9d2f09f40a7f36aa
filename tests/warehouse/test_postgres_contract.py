"""Postgres as other tools use it: a user's view over ours and a read-only role's grants survive
every sync (`--full` included), that role runs `cja-sync health`, and an upgrade that changes a
view's columns never drops a user's object."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest

from cja_source.errors import CJAError
from cja_sync.run.sync import run_sync

from ..helpers import PG_URL, fast_settings, query

pytestmark = pytest.mark.postgres


def _admin(statement: str, *args: Any) -> list[tuple[Any, ...]]:
    conn = psycopg2.connect(PG_URL)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement, args or None)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


@pytest.fixture
def reader_role() -> Iterator[tuple[str, str]]:
    """A login role that may read and nothing else: (name, password)."""
    name, password = f"cja_reader_{uuid.uuid4().hex[:8]}", "reader-pw"
    _admin(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
    yield name, password
    _admin(f"DROP OWNED BY {name}")
    _admin(f"DROP ROLE {name}")


def _grant_read(schema: str, role: str) -> None:
    """The SQL the docs give for a read-only BI role (docs/warehouse.md)."""
    _admin(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
    _admin(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO {role}')
    _admin(f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" GRANT SELECT ON TABLES TO {role}')


def _url_as(role: str, password: str) -> str:
    parts = urlsplit(PG_URL)
    host = parts.hostname or "127.0.0.1"
    return urlunsplit(parts._replace(netloc=f"{role}:{password}@{host}:{parts.port or 5432}"))


def _health(opts: Any, url: str, tmp: Any, *extra: str, env: dict[str, str] | None = None) -> Any:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cja_sync.commands.cli",
            "health",
            "--json",
            "--destination",
            "postgres",
            "--dataset-name",
            opts.dataset_name,
            "--pipelines-dir",
            str(tmp / "reader-pipelines"),
            *extra,
        ],
        env={**os.environ, "DESTINATION__POSTGRES__CREDENTIALS": url, **(env or {})},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode in (0, 3), done.stderr
    return json.loads(done.stdout)


def test_user_view_and_reader_grants_survive_syncs(make_sim, pg_opts, reader_role, tmp_path):
    role, password = reader_role
    sim = make_sim(connections=25)
    opts = pg_opts()
    cfg = fast_settings(sim)
    run_sync(cfg, opts)
    schema = opts.dataset_name
    _grant_read(schema, role)
    _admin(
        f'CREATE VIEW "{schema}".my_broken AS SELECT connection_id, worst_status '
        f"FROM \"{schema}\".connection_health WHERE worst_status <> 'HEALTHY'"
    )
    oid_before = _admin(f"SELECT '\"{schema}\".connection_health'::regclass::oid")
    for full in (False, False, True):
        sim.set_backfill_status(open_backfill(sim), "FAILED")
        opts.full = full
        assert run_sync(cfg, opts).status == "succeeded"
    # replaced in place: same object, so the user's view and the grants on it still stand
    assert _admin(f"SELECT '\"{schema}\".connection_health'::regclass::oid") == oid_before
    assert query(opts, "SELECT COUNT(*) FROM {t}my_broken")[0][0] > 0
    url = _url_as(role, password)
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            for relation in (
                "connection_health",
                "backfill_health",
                "health_settings",
                "backfills",
                "sync_runs",
            ):
                cur.execute(f'SELECT COUNT(*) FROM "{schema}".{relation}')
                assert cur.fetchone()[0] > 0
            cur.execute(f'SELECT COUNT(*) FROM "{schema}".my_broken')
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(f'DELETE FROM "{schema}".sync_runs')
    finally:
        conn.close()
    # the read-only role runs `health`: with the stored thresholds, and with its own (applied in the
    # query, since it may write nothing)
    report = _health(opts, url, tmp_path)
    assert report["orgs"][0]["connections"] == 25
    stuck = report["orgs"][0]["backfills_stuck"]
    assert stuck > 0
    relaxed = _health(opts, url, tmp_path, env={"SOURCES__CJA__HEALTH__STUCK_AFTER_HOURS": "1000000"})
    assert relaxed["orgs"][0]["stuck_after_hours"] == 1000000
    assert relaxed["orgs"][0]["backfills_stuck"] == 0
    assert relaxed["orgs"][0]["backfills_failed"] == report["orgs"][0]["backfills_failed"]
    page = tmp_path / "health.html"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cja_sync.commands.cli",
            "report",
            "--destination",
            "postgres",
            "--dataset-name",
            schema,
        ]
        + ["--pipelines-dir", str(tmp_path / "reader-pipelines"), "--out", str(page)],
        env={**os.environ, "DESTINATION__POSTGRES__CREDENTIALS": url},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert page.stat().st_size > 10_000
    # nothing was written by the reader: the stored thresholds are still the sync's
    assert query(opts, "SELECT stuck_after_hours FROM {t}health_settings") == [(168.0,)]


def open_backfill(sim: Any) -> str:
    """An IN_PROGRESS backfill of the simulated org."""
    return next(b for b, row in sorted(sim.truth().backfills.items()) if row["status"] == "IN_PROGRESS")


def test_changed_view_columns_never_drop_a_users_object(make_sim, pg_opts):
    sim = make_sim(connections=10)
    opts = pg_opts()
    cfg = fast_settings(sim)
    run_sync(cfg, opts)
    schema = opts.dataset_name
    # a view as an older release left it (other columns), with a user's view over it
    _admin(f'DROP VIEW "{schema}".health_reference CASCADE')
    _admin(f"CREATE VIEW \"{schema}\".health_reference AS SELECT 'x'::text AS legacy, now() AS as_of")
    _admin(f'CREATE VIEW "{schema}".my_clock AS SELECT as_of FROM "{schema}".health_reference')
    sim.add_connection()
    with pytest.raises(CJAError) as failed:
        run_sync(cfg, opts)
    message = failed.value.message
    assert f"{schema}.my_clock" in message and "\n" not in message
    assert query(opts, "SELECT COUNT(*) FROM {t}my_clock")[0][0] == 1  # the user's object stands
    assert query(opts, "SELECT COUNT(*) FROM {t}connections")[0][0] == 11  # the data load stayed
    # without the user's object, ours are dropped and made anew
    _admin(f'DROP VIEW "{schema}".my_clock')
    assert run_sync(cfg, opts).status == "succeeded"
    columns = query(
        opts,
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        f"'{schema}' AND table_name = 'health_reference' ORDER BY ordinal_position",
    )
    assert [c for (c,) in columns][:3] == ["org_id", "as_of", "stuck_after_hours"]
    assert query(opts, "SELECT COUNT(*) FROM {t}connection_health")[0][0] == 11
