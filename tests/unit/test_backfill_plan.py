"""plan_pair: which (connection, dataset) pairs need their backfills asked for, one rule a case."""

from __future__ import annotations

from typing import Any

import pytest

from cja_source.backfill_plan import Plan, plan_pair
from cja_source.stored_pairs import PairState, SummaryKey

# (total, failed, inProgress, completed), as records.summary_key builds it
TWO: SummaryKey = (2, 0, 1, 1)
TWO_ONE_FAILED: SummaryKey = (2, 1, 0, 1)
ZERO: SummaryKey = (0, 0, 0, 0)
STORED_TWO = PairState(summary=TWO)
LIST_OF_TWO: list[Any] = [{"id": "b1"}, {"id": "b2"}]
LIST_OF_ONE: list[Any] = [{"id": "b1"}]

CASES = [
    # mode, full, stored state, listed summary, inline list -> plan
    pytest.param("auto", False, None, ZERO, None, Plan.SKIP, id="a pair whose total is 0 is never asked"),
    pytest.param(
        "endpoint", True, None, ZERO, None, Plan.SKIP, id="a total of 0 is skipped even with --full"
    ),
    pytest.param("auto", False, STORED_TWO, TWO, None, Plan.SKIP, id="an unchanged summary is skipped"),
    pytest.param(
        "auto",
        False,
        STORED_TWO,
        TWO,
        LIST_OF_TWO,
        Plan.SKIP,
        id="unchanged is skipped even with a list at hand",
    ),
    pytest.param(
        "endpoint", False, STORED_TWO, TWO, None, Plan.SKIP, id="unchanged is skipped in endpoint mode"
    ),
    pytest.param(
        "endpoint", True, STORED_TWO, TWO, None, Plan.FETCH, id="--full asks an unchanged pair again"
    ),
    pytest.param(
        "auto", True, STORED_TWO, TWO, LIST_OF_TWO, Plan.INLINE, id="--full takes a complete inline list"
    ),
    pytest.param("endpoint", False, None, TWO, None, Plan.FETCH, id="a new pair is fetched in endpoint mode"),
    pytest.param(
        "auto", False, STORED_TWO, TWO_ONE_FAILED, None, Plan.FETCH, id="a status change moves the summary"
    ),
    pytest.param(
        "auto",
        False,
        PairState(summary=None),
        TWO,
        None,
        Plan.FETCH,
        id="a pair stored without summary is asked",
    ),
    pytest.param("auto", False, STORED_TWO, None, None, Plan.FETCH, id="a listing without summary is asked"),
    pytest.param(
        "auto", False, None, None, LIST_OF_ONE, Plan.INLINE, id="without summary any inline list is complete"
    ),
    pytest.param(
        "auto", False, None, TWO, LIST_OF_TWO, Plan.INLINE, id="auto takes a list as long as its total"
    ),
    pytest.param("auto", False, None, TWO, LIST_OF_ONE, Plan.FETCH, id="auto fetches when the list is short"),
    pytest.param("auto", False, None, TWO, None, Plan.FETCH, id="auto fetches when the listing has no list"),
    pytest.param("inline", False, None, TWO, LIST_OF_ONE, Plan.INLINE, id="inline mode trusts a short list"),
    pytest.param("inline", False, None, TWO, None, Plan.MISSING, id="inline mode without a list is missing"),
    pytest.param(
        "endpoint", False, None, TWO, LIST_OF_TWO, Plan.FETCH, id="endpoint mode ignores a complete list"
    ),
]


@pytest.mark.parametrize(("mode", "full", "state", "summary", "inline", "expected"), CASES)
def test_plan_pair(
    mode: str,
    full: bool,
    state: PairState | None,
    summary: SummaryKey | None,
    inline: list[Any] | None,
    expected: Plan,
) -> None:
    assert plan_pair(mode, full, state, summary, inline) is expected
