"""Malformed items where data enters: one line naming the endpoint, the connection
(and dataset) and what is wrong; exit code 1; the same line in sync_runs; nothing written; and
--debug shows where the item was refused, not only the wrapper."""

from __future__ import annotations

import pytest

from .helpers import data_tables, rel_values, runs
from .test_errors import _one_line

LIST = "at GET /data/connections"
IN_DATASET = "', dataset '"
BACKFILLS = "at GET /data/connections/{connection_id}/datasets/{data_set_id}/backfills (connection 'dg_"


@pytest.mark.parametrize(
    ("fault", "inline", "expect"),
    [
        ("missing_dataSetId", True, (LIST + ", connection 'dg_", "a dataset's dataSetId is missing")),
        # refused, not coerced: the id is every table's merge key (see cja_source/validate.py)
        ("integer_id", True, (LIST + ":", "a connection's id is the number 12345, not a string")),
        ("dataSets_object", True, (LIST + ", connection 'dg_", "dataSets is an object, not a list")),
        ("non_object_item", True, (LIST + ":", "a connection is the string 'dg_")),
        ("backfill_without_id", True, (LIST + ", connection 'dg_", IN_DATASET, "backfill's id is missing")),
        ("backfill_without_id", False, (BACKFILLS, IN_DATASET, "a backfill's id is missing")),
    ],
    ids=lambda v: v if isinstance(v, str) else ("inline" if v is True else "endpoint" if v is False else ""),
)
def test_malformed_item_ends_the_run_with_one_line(rsim, cli, fault, inline, expect):
    sim = rsim(inline_backfills=inline)
    sim.faults.set(malformed_item=fault)
    code, _, err = cli.run(rel_values(sim))
    assert code == 1
    line = _one_line(err)
    assert line.startswith("cja-sync: CJA API sent a malformed item "), line
    for part in expect:
        assert part in line, line
    assert data_tables(cli.opts()) == set()
    assert runs(cli.opts()) == [("failed", line.removeprefix("cja-sync: "))]


def test_debug_shows_where_the_item_was_refused(rsim, cli):
    sim = rsim()
    sim.faults.set(malformed_item="missing_dataSetId")
    code, _, err = cli.run(rel_values(sim), "--debug")
    assert code == 1
    assert "Traceback" in err and "validate.py" in err and "in dataset_item" in err, err[-3000:]
    assert err.strip().splitlines()[-1].startswith("cja-sync: CJA API sent a malformed item"), err[-500:]
