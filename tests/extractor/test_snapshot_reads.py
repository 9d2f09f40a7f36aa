"""What the warehouse snapshot reads up front, and what it leaves until a pair needs it (bench P8:
an idle re-sync of the maximal org never needs its ~500k stored backfills)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb

from cja_source.snapshot import read_snapshot
from cja_sync.run.sync import make_pipeline, run_sync
from tests.helpers import fast_settings, query


def test_stored_backfills_wait_for_a_pair_and_short_pairs_are_asked_again(
    make_sim: Callable[..., Any], duckdb_opts: Callable[..., Any]
) -> None:
    sim = make_sim(connections=6)
    cfg = fast_settings(sim)
    opts = duckdb_opts(pipeline_name="snapshot_reads")
    run_sync(cfg, opts)
    org = str(cfg.credentials.org_id)
    by_pair: dict[tuple[str, str], set[str]] = {}
    for cid, dsid, bid in query(opts, "SELECT connection_id, data_set_id, id FROM {t}backfills"):
        by_pair.setdefault((cid, dsid), set()).add(bid)
    (cid, dsid), ids = max(by_pair.items(), key=lambda kv: len(kv[1]))
    assert len(ids) >= 2

    snap = read_snapshot(make_pipeline(opts, read_only=True), org)
    assert snap.stored_backfills is None and snap.backfills_reader is not None
    assert all(s.summary is not None for k, s in snap.pairs.items() if k in by_pair)
    first_seen, _status = snap.pair_backfills(cid, dsid)
    assert set(first_seen) == ids
    assert snap.stored_backfills is not None
    assert snap.stored_backfills.count == sum(map(len, by_pair.values()))

    # a stored backfill gone (a load cut short, a row removed by hand): only that pair is asked again
    with duckdb.connect(opts.duckdb_path) as db:
        db.execute(f"DELETE FROM {opts.dataset_name}.backfills WHERE id = ?", [sorted(ids)[0]])
    snap = read_snapshot(make_pipeline(opts, read_only=True), org)
    short = {k for k, s in snap.pairs.items() if k in by_pair and s.summary is None}
    assert short == {(cid, dsid)}
