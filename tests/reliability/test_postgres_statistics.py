"""Postgres reads right after a first load: on a server with autovacuum off,
fresh tables have no statistics unless the sync gives them some, and the planner then chooses
plans that take minutes on a real org. The sync ANALYZEs every table it wrote."""

from __future__ import annotations

import time

from cja_sync.commands.cli import main
from cja_sync.run.sync import run_sync

from ..helpers import fast_settings, query


def test_first_postgres_sync_leaves_every_table_analyzed(make_sim, pg_opts, capfd):
    sim = make_sim(connections=12)
    opts = pg_opts()
    run_sync(fast_settings(sim), opts)

    # reltuples is -1 until a table is analyzed (or vacuumed): the planner then guesses
    never = query(
        opts,
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE n.nspname = '{opts.dataset_name}' AND c.relkind = 'r' AND c.reltuples < 0",
    )
    assert never == [], f"tables without statistics after the sync: {never}"
    with_stats = query(
        opts, f"SELECT COUNT(DISTINCT tablename) FROM pg_stats WHERE schemaname = '{opts.dataset_name}'"
    )[0][0]
    assert with_stats >= 8

    t0 = time.monotonic()
    code = main(
        [
            "health",
            "--destination",
            "postgres",
            "--dataset-name",
            opts.dataset_name,
            "--pipelines-dir",
            opts.pipelines_dir,
        ]
    )
    assert code in (0, 3), capfd.readouterr().err
    assert time.monotonic() - t0 < 30
