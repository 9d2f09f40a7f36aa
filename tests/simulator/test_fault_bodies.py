"""Faults that break paging or items, and ids a URL path must percent-encode."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest

from cja_source.simulator import Simulator
from cja_source.simulator.generate import ODD_ID_SUFFIXES

from .helpers import EVERYTHING, Client, start_sim

LIST = "/data/connections"


@pytest.fixture()
def fresh_client(fresh: Simulator) -> Iterator[Client]:
    yield Client(fresh)
    fresh.faults.reset()


def test_ignore_page_serves_page_zero_and_never_says_last(fresh: Simulator, fresh_client: Client) -> None:
    fresh.faults.set(ignore_page=True)
    p0 = fresh_client.json(LIST, {"limit": 10, "page": 0})
    p5 = fresh_client.json(LIST, {"limit": 10, "page": 5})
    assert p5["content"] == p0["content"] and p5["number"] == 0
    assert p0["lastPage"] is False and p5["lastPage"] is False


def test_claim_total_pages(fresh: Simulator, fresh_client: Client) -> None:
    fresh.faults.set(claim_total_pages=10**9)
    body = fresh_client.json(LIST, {"limit": 10, "page": 2})
    assert body["totalPages"] == 10**9 and body["totalElements"] == 10**10 and body["lastPage"] is False
    assert len(body["content"]) < 10  # the pages still hold only the 25 connections


def test_endless_backfills(fresh: Simulator, fresh_client: Client) -> None:
    cid, dsid = fresh.pick()
    assert dsid is not None
    fresh.faults.set(endless_backfills=True)
    path = f"{LIST}/{cid}/datasets/{dsid}/backfills"
    ids: set[str] = set()
    for number in range(20):
        body = fresh_client.json(path, {"limit": 10, "page": number})
        assert len(body["content"]) == 10 and body["lastPage"] is False
        ids.update(b["id"] for b in body["content"])
    assert len(ids) == 200


def _datasets(content: list) -> list:
    return [
        d
        for c in content
        if isinstance(c, dict) and isinstance(c.get("dataSets"), list)
        for d in c["dataSets"]
    ]


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("missing_dataSetId", lambda c: sum("dataSetId" not in d for d in _datasets(c)) == 1),
        ("integer_id", lambda c: c[0]["id"] == 12345),
        ("dataSets_object", lambda c: sum(isinstance(x.get("dataSets"), dict) for x in c) == 1),
        ("non_object_item", lambda c: isinstance(c[0], str) and c[0].startswith("dg_")),
        (
            "backfill_without_id",
            lambda c: sum("id" not in b for d in _datasets(c) for b in d["backfills"]) == 1,
        ),
    ],
)
def test_malformed_item_in_listing(fresh: Simulator, fresh_client: Client, kind, check) -> None:
    fresh.faults.set(malformed_item=kind)
    params = {**EVERYTHING, "expansion": EVERYTHING["expansion"] + ",granularBackfills", "limit": 1000}
    assert check(fresh_client.json(LIST, params)["content"])


def test_malformed_item_fault_is_validated(fresh: Simulator) -> None:
    with pytest.raises(ValueError, match="malformed_item must be one of"):
        fresh.faults.set(malformed_item="something")


def test_odd_ids_route_like_a_real_server() -> None:
    sim = start_sim(connections=10, max_datasets_per_connection=6, odd_ids=True)
    try:
        client = Client(sim)
        truth = sim.truth()
        ids = [cid for cid in truth.connections] + [dsid for _, dsid in truth.datasets]
        assert all(any(i.endswith(s) for i in ids) for s in ODD_ID_SUFFIXES)
        for cid, dsid in list(truth.datasets)[:20]:
            path = f"{LIST}/{quote(cid, safe='')}/datasets/{quote(dsid, safe='')}/backfills"
            assert client.get(path).status_code == 200, (cid, dsid)
            assert client.json(f"{LIST}/{quote(cid, safe='')}")["id"] == cid
        cid, dsid = next(k for k in truth.datasets if "#" in k[1] or "?" in k[1])
        # unencoded, the path ends at `#` or `?`: the server sees another path, as a real one would
        assert client.get(f"{LIST}/{quote(cid, safe='')}/datasets/{dsid}/backfills").status_code == 404
    finally:
        sim.stop()
