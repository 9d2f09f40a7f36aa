"""Mutations, fault switches, listing cache, the admin route."""

from __future__ import annotations

import http.client
import time
from datetime import timedelta

import orjson
import pytest
import requests

from cja_source.simulator import Simulator

from .helpers import EVERYTHING, Client, start_sim


def _conn(
    c: Client,
    cid: str,
    exp: str = "modified,backfillsSummaryConnection,backfillsSummaryDataSets,name,"
    "dataRetentionMonths,dataSets",
) -> dict:
    return c.json("/data/connections/" + cid, {"expansion": exp, "includeHiddenDataSets": "true"})


def test_connection_mutations(fresh: Simulator) -> None:
    c = Client(fresh)
    fresh.advance(hours=1)
    cid = fresh.add_connection(name="Brand new", dataRetentionMonths=13)
    assert cid.startswith("dg_") and len(cid) == 39
    got = _conn(c, cid)
    assert got["name"] == "Brand new" and got["dataRetentionMonths"] == 13
    assert got["modifiedDate"] == fresh.now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    old = fresh.truth()
    target = fresh.connection_ids()[0]
    before = _conn(c, target)["modifiedDate"]
    fresh.advance(days=1)
    fresh.modify_connection(target, name="Renamed", dataRetentionMonths=25)
    after = _conn(c, target)
    assert (
        after["name"] == "Renamed" and after["dataRetentionMonths"] == 25 and after["modifiedDate"] > before
    )
    assert old.connections[target]["name"] != "Renamed"  # truth snapshots do not change afterwards
    listed = c.list_all(
        {**EVERYTHING, "filterByModifiedAfter": (fresh.now - timedelta(minutes=1)).isoformat()}
    )
    assert {x["id"] for x in listed} == {target}
    fresh.delete_connection(target)
    assert c.get("/data/connections/" + target).status_code == 404
    assert target not in fresh.truth().connections
    assert target not in {x["id"] for x in c.list_all(EVERYTHING)}


def test_dataset_mutations_move_modified_date(fresh: Simulator) -> None:
    c = Client(fresh)
    cid = fresh.connection_ids()[1]
    before = _conn(c, cid)
    fresh.advance(hours=2)
    dsid = fresh.add_dataset(cid, name="fresh_ds")
    assert len(dsid) == 24
    mid = _conn(c, cid)
    assert mid["modifiedDate"] > before["modifiedDate"]
    assert dsid in [d["dataSetId"] for d in mid["dataSets"]]
    assert {d["dataSetId"]: d["name"] for d in mid["dataSets"]}[dsid] == "fresh_ds"
    fresh.advance(hours=2)
    fresh.remove_dataset(cid, dsid)
    end = _conn(c, cid)
    assert end["modifiedDate"] > mid["modifiedDate"]
    assert dsid not in [d["dataSetId"] for d in end["dataSets"]]
    assert (cid, dsid) not in fresh.truth().datasets


def test_backfill_mutations_update_summaries_not_modified_date(fresh: Simulator) -> None:
    c = Client(fresh)
    cid, dsid = fresh.pick(min_backfills=1)
    before = _conn(c, cid)
    ds_before = next(d for d in before["dataSets"] if d["dataSetId"] == dsid)["backfillSummary"]
    fresh.advance(hours=3)
    bid = fresh.add_backfill(cid, dsid, status="IN_QUEUE")
    assert bid in fresh.backfill_ids(cid, dsid)
    mid = _conn(c, cid)
    assert mid["modifiedDate"] == before["modifiedDate"]
    ds_mid = next(d for d in mid["dataSets"] if d["dataSetId"] == dsid)["backfillSummary"]
    assert ds_mid["total"] == ds_before["total"] + 1 and ds_mid["inProgress"] == ds_before["inProgress"]
    assert mid["backfillSummary"]["total"] == before["backfillSummary"]["total"] + 1
    fresh.set_backfill_status(bid, "FAILED")
    end = _conn(c, cid)
    assert end["modifiedDate"] == before["modifiedDate"]
    ds_end = next(d for d in end["dataSets"] if d["dataSetId"] == dsid)["backfillSummary"]
    assert ds_end["failed"] == ds_before["failed"] + 1
    assert end["backfillSummary"]["failed"] == before["backfillSummary"]["failed"] + 1
    listed = c.json(
        f"/data/connections/{cid}/datasets/{dsid}/backfills", {"includeStatus": "failed", "limit": 100}
    )
    assert bid in [b["id"] for b in listed["content"]]
    t = fresh.truth()
    assert t.backfills[bid]["status"] == "FAILED" and t.backfills[bid]["connectionId"] == cid
    assert bid in t.failed_backfills()
    # an old open backfill is stuck
    old = fresh.add_backfill(cid, dsid, status="IN_PROGRESS", created=fresh.now - timedelta(days=10))
    assert old in fresh.truth().stuck_backfills(hours=168)
    with pytest.raises(ValueError):
        fresh.add_backfill(cid, dsid, status="DONE")
    with pytest.raises(KeyError):
        fresh.set_backfill_status("nope", "FAILED")


def test_pick_helpers(fresh: Simulator) -> None:
    cid, dsid = fresh.pick(min_backfills=1, statuses=("FAILED",))
    assert any(fresh.truth().backfills[b]["status"] == "FAILED" for b in fresh.backfill_ids(cid, dsid))
    assert fresh.pick(b2b=True)[0] in fresh.connection_ids()
    assert dsid in fresh.dataset_ids(cid)


def test_fault_latency_and_slow(fresh: Simulator) -> None:
    c = Client(fresh)
    fresh.faults.latency_ms = (150, 150)
    t0 = time.monotonic()
    c.get("/data/connections")
    assert time.monotonic() - t0 >= 0.14
    fresh.faults.reset()
    fresh.faults.slow_rate = 1.0
    fresh.faults.slow_seconds = 0.5
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(fresh.base_url + "/data/connections", headers=c.headers(), timeout=0.2)
    fresh.faults.reset()
    t0 = time.monotonic()
    assert c.get("/data/connections").status_code == 200
    assert time.monotonic() - t0 < 0.2


def test_fault_malformed(fresh: Simulator) -> None:
    c = Client(fresh)
    fresh.faults.malformed_next = 2
    for _ in range(2):
        r = c.get("/data/connections", {"expansion": "name"})
        assert r.status_code == 200
        with pytest.raises(ValueError):
            orjson.loads(r.content)
    assert c.get("/data/connections").json()["content"]


def test_fault_extra_fields_and_type_changes(fresh: Simulator) -> None:
    c = Client(fresh)
    fresh.faults.extra_fields = {"newField": 1}
    fresh.faults.type_changes = {"dataRetentionMonths": "13"}
    for conn in c.json("/data/connections", {"expansion": "dataSets,dataRetentionMonths"})["content"]:
        assert conn["newField"] == 1 and conn["dataRetentionMonths"] == "13"
        assert all(d["newField"] == 1 for d in conn["dataSets"])
    fresh.faults.reset()
    conn = c.json("/data/connections", {"expansion": "dataRetentionMonths"})["content"][0]
    assert "newField" not in conn and isinstance(conn["dataRetentionMonths"], int)


@pytest.mark.parametrize(
    "prop,direction", [("id", "ASC"), ("id", "DESC"), ("modifiedDate", "ASC"), ("modifiedDate", "DESC")]
)
def test_fault_page_drift(fresh: Simulator, prop: str, direction: str) -> None:
    c = Client(fresh)
    params = {"limit": 5, "sortProperty": prop, "sortDirection": direction, "expansion": "modified"}
    p0 = c.json("/data/connections", {**params, "page": 0})
    fresh.faults.drift_next = True
    p1 = c.json("/data/connections", {**params, "page": 1})
    # the last item of page 0 was pushed onto page 1
    assert p1["content"][0]["id"] == p0["content"][-1]["id"]
    assert p1["totalElements"] == p0["totalElements"] + 1
    assert fresh.faults.drift_next is False


def test_listing_cache() -> None:
    sim = start_sim(connections=8, cache_max_age=0.5)
    try:
        c = Client(sim)
        n = c.json("/data/connections", {"includeType": "disabled,systemUserOwned"})["totalElements"]
        cid = sim.add_connection()
        assert c.json("/data/connections", {"includeType": "disabled,systemUserOwned"})["totalElements"] == n
        fresh = c.json("/data/connections", {"includeType": "disabled,systemUserOwned", "cached": "false"})
        assert fresh["totalElements"] == n + 1
        time.sleep(0.6)
        body = c.json("/data/connections", {"includeType": "disabled,systemUserOwned", "connectionIds": cid})
        assert body["totalElements"] == 1
    finally:
        sim.stop()


def test_admin_route(fresh: Simulator) -> None:
    base = fresh.base_url + "/__admin/"
    c = Client(fresh)
    fresh.reset_counters()

    def post(action: str, body: dict) -> dict:
        r = requests.post(base + action, json=body, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    cid = post("add_connection", {"name": "via admin"})["connectionId"]
    post("modify_connection", {"connectionId": cid, "fields": {"dataRetentionMonths": 37}})
    dsid = post("add_dataset", {"connectionId": cid, "fields": {"name": "admin_ds"}})["dataSetId"]
    bid = post("add_backfill", {"connectionId": cid, "dataSetId": dsid, "status": "IN_PROGRESS"})[
        "backfillId"
    ]
    post("set_backfill_status", {"backfillId": bid, "status": "COMPLETED"})
    before = fresh.now
    post("advance", {"hours": 5})
    assert fresh.now - before == timedelta(hours=5)
    post("set_now", {"now": "2026-04-01T00:00:00Z"})
    assert fresh.now.isoformat() == "2026-04-01T00:00:00+00:00"
    post("faults", {"extra_fields": {"x": 1}, "latency_ms": [0, 1]})
    assert fresh.faults.extra_fields == {"x": 1} and fresh.faults.latency_ms == (0, 1)
    post("faults", {"reset": True})
    assert fresh.faults.extra_fields == {}
    assert c.get("/data/connections").status_code == 200
    counters = requests.get(base + "counters", timeout=5).json()
    assert counters == {"list": {"200": 1}}  # admin requests are not counted
    truth = requests.get(base + "truth", timeout=5).json()
    assert truth["connections"][cid]["dataRetentionMonths"] == 37
    assert truth["datasets"][f"{cid}/{dsid}"]["name"] == "admin_ds"
    assert truth["backfills"][bid]["status"] == "COMPLETED"
    post("remove_dataset", {"connectionId": cid, "dataSetId": dsid})
    post("delete_connection", {"connectionId": cid})
    post("reset_counters", {})
    assert fresh.counters() == {}
    assert requests.post(base + "delete_connection", json={"connectionId": cid}, timeout=5).status_code == 404
    assert requests.post(base + "bogus", json={}, timeout=5).status_code == 404
    assert requests.post(base + "faults", json={"nope": 1}, timeout=5).status_code == 400


def test_admin_route_rejects_non_loopback(fresh: Simulator) -> None:
    port = int(fresh.base_url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=("127.0.0.2", 0))
    conn.request("GET", "/__admin/counters")
    assert conn.getresponse().status == 403
    conn.close()
