"""Listing semantics: expansions, default hiding, filters, sorting, paging, get-by-id, backfills."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cja_source.simulator import Simulator

from .helpers import ALL_LIST, EVERYTHING, GUIDE_PAGE_KEYS, Client


def test_no_expansion_gives_only_ids(client: Client) -> None:
    body = client.json("/data/connections")
    assert (
        set(body) == GUIDE_PAGE_KEYS and body["size"] == 10 and body["number"] == 0 and body["sort"] is None
    )
    for c in body["content"]:
        assert set(c) == {"id", "idWithoutPrefix"} and c["id"] == "dg_" + c["idWithoutPrefix"]


@pytest.mark.parametrize(
    "expansion,fields",
    [
        ("name,description,owner,dataSets", {"name", "description", "owner", "dataSets"}),
        ("modified", {"modifiedDate", "modifiedBy", "modifiedByFullName"}),
        (
            "validationErrors,backfillsSummaryConnection,externalData",
            {"connectionValidationErrors", "backfillSummary", "externalData"},
        ),
        ("components,granularStreaming,stitchedDataSets,resolveIdentityNamespace,componentType", set()),
        ("ownerFullName,tags,schemaInfo", set()),  # by-id-only values are accepted and ignored by the list
    ],
)
def test_expansion_maps_to_fields(client: Client, expansion: str, fields: set[str]) -> None:
    for c in client.json("/data/connections", {"expansion": expansion, "limit": 20})["content"]:
        assert set(c) == fields | {"id", "idWithoutPrefix"}
        if "owner" in c:
            assert c["owner"]["name"] is None
        if "externalData" in c:
            assert c["externalData"]["externalId"] == c["idWithoutPrefix"]


def test_dataset_level_expansions(client: Client) -> None:
    only = client.json(
        "/data/connections", {"expansion": "backfillsSummaryDataSets,dataSetLastIngested", "limit": 20}
    )["content"]
    for c in only:
        for d in c["dataSets"]:
            assert (
                {"dataSetId", "backfillSummary"}
                <= set(d)
                <= {"dataSetId", "backfillSummary", "lastIngestedTime"}
            )
    full = client.json("/data/connections", {"expansion": "dataSets,granularBackfills", "limit": 20})[
        "content"
    ]
    for c in full:
        for d in c["dataSets"]:
            assert d["domain"] == "catalog" and d["type"] in ("event", "lookup", "profile", "summary")
            assert len(d["dataSetId"]) == 24 and int(d["dataSetId"], 16) >= 0
            assert isinstance(d["backfills"], list)
            assert set(d["dataSourceType"]) == {"id", "type", "description"}


def test_inline_backfills_switch() -> None:
    from .helpers import start_sim

    sim = start_sim(connections=5, inline_backfills=False)
    try:
        c = Client(sim)
        for conn in c.json("/data/connections", {"expansion": "dataSets,granularBackfills"})["content"]:
            assert all("backfills" not in d for d in conn["dataSets"])
    finally:
        sim.stop()


def test_unknown_expansion_and_bad_params_are_400(client: Client) -> None:
    for params in (
        {"expansion": "name,bogus"},
        {"limit": 1001},
        {"limit": 0},
        {"limit": "x"},
        {"sortProperty": "name"},
        {"sortDirection": "UP"},
        {"includeType": "deleted"},
        {"filterByModifiedAfter": "yesterday"},
        {"page": -1},
        {"cached": "maybe"},
    ):
        r = client.get("/data/connections", params)
        assert r.status_code == 400, params
        body = r.json()
        assert body["errorCode"] == "invalid_parameters" and body["errorId"] and body["errorDescription"]
    assert client.get("/data/connections", {"limit": 1000}).status_code == 200
    assert (
        client.get("/data/connections/" + client.sim.connection_ids()[0], {"expansion": "bogus"}).status_code
        == 400
    )


def test_default_hiding(sim: Simulator, client: Client) -> None:
    t = sim.truth()
    dis = {k for k, c in t.connections.items() if c["isDisabled"]}
    sysown = {k for k, c in t.connections.items() if c["owner"]["type"] == "systemUser"}
    assert dis and sysown
    default = {c["id"] for c in client.list_all({})}
    assert default == set(t.connections) - dis - sysown
    assert {c["id"] for c in client.list_all({"includeType": "disabled"})} == set(t.connections) - sysown
    assert {c["id"] for c in client.list_all({"includeType": "systemUserOwned"})} == set(t.connections) - dis
    assert {c["id"] for c in client.list_all({"includeType": "disabled,systemUserOwned"})} == set(
        t.connections
    )
    hidden = {k for k in t.datasets} - {
        (c["id"], d["dataSetId"])
        for c in client.list_all({"includeType": "disabled,systemUserOwned", "expansion": "dataSets"})
        for d in c["dataSets"]
    }
    assert hidden, "the org should contain hidden datasets"
    shown = {(c["id"], d["dataSetId"]) for c in client.list_all({**EVERYTHING}) for d in c["dataSets"]}
    assert shown == set(t.datasets)


def test_complete_listing_equals_truth(sim: Simulator, client: Client) -> None:
    t = sim.truth()
    got = {}
    for c in client.list_all(EVERYTHING, limit=9):
        c.pop("dataSets")
        got[c["id"]] = c
    assert got == t.connections


def test_filters(sim: Simulator, client: Client) -> None:
    t = sim.truth()
    conns = t.connections
    ids = sorted(conns)[:3]
    got = client.list_all(
        {"includeType": "disabled,systemUserOwned", "connectionIds": f"{ids[0]},{ids[1][3:]},{ids[2]}"}
    )
    assert sorted(c["id"] for c in got) == ids
    cid, dsid = next(iter(t.datasets))
    got = client.list_all(
        {"includeType": "disabled,systemUserOwned", "dataSetIds": f"{dsid},000000000000000000000000"}
    )
    assert [c["id"] for c in got] == [cid]
    sb = conns[ids[0]]
    for key in ("sandboxId", "sandboxName"):
        got = client.list_all({"includeType": "disabled,systemUserOwned", key: sb[key]})
        assert {c["id"] for c in got} == {k for k, c in conns.items() if c[key] == sb[key]}
    dates = sorted(c["modifiedDate"] for c in conns.values())
    cut = dates[len(dates) // 2]
    got = client.list_all({"includeType": "disabled,systemUserOwned", "filterByModifiedAfter": cut})
    assert {c["id"] for c in got} == {k for k, c in conns.items() if c["modifiedDate"] >= cut}
    assert client.json("/data/connections", {"sandboxName": "nope"})["totalElements"] == 0


@pytest.mark.parametrize("prop", ["id", "modifiedDate"])
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
def test_sorting_and_paging(client: Client, prop: str, direction: str) -> None:
    rows = client.list_all(
        {
            "includeType": "disabled,systemUserOwned",
            "expansion": "modified",
            "sortProperty": prop,
            "sortDirection": direction,
        },
        limit=6,
    )
    keys = [r["id"] if prop == "id" else r["modifiedDate"] for r in rows]
    assert keys == sorted(keys, reverse=direction == "DESC")
    assert len({r["id"] for r in rows}) == len(rows) == 40


def test_page_envelope_and_past_the_end(client: Client) -> None:
    first = client.json("/data/connections", {"limit": 7, "includeType": "disabled,systemUserOwned"})
    assert (
        first["totalElements"] == 40
        and first["totalPages"] == 6
        and first["firstPage"]
        and not first["lastPage"]
    )
    last = client.json(
        "/data/connections", {"limit": 7, "page": 5, "includeType": "disabled,systemUserOwned"}
    )
    assert last["numberOfElements"] == 5 and last["lastPage"] and not last["firstPage"] and last["size"] == 7
    past = client.json(
        "/data/connections", {"limit": 7, "page": 9, "includeType": "disabled,systemUserOwned"}
    )
    assert past["content"] == [] and past["totalElements"] == 40 and past["totalPages"] == 6
    assert past["numberOfElements"] == 0 and past["number"] == 9


def test_get_by_id(sim: Simulator, client: Client) -> None:
    t = sim.truth()
    cid = sim.pick(hidden_dataset=True)[0]
    for ident in (cid, cid[3:]):
        c = client.json(
            "/data/connections/" + ident, {"expansion": "name,owner,ownerFullName,dataSets,schemaInfo,tags"}
        )
        assert c["id"] == cid and c["idWithoutPrefix"] == cid[3:]
        assert isinstance(c["owner"]["name"], str) and c["owner"]["name"]
        assert isinstance(c["tags"], list)
        assert all("schemaInfo" in d for d in c["dataSets"])
        assert len(c["dataSets"]) < sum(1 for k in t.datasets if k[0] == cid)  # hidden ones left out
    c = client.json("/data/connections/" + cid, {"expansion": "dataSets", "includeHiddenDataSets": "true"})
    assert len(c["dataSets"]) == sum(1 for k in t.datasets if k[0] == cid)
    r = client.get("/data/connections/dg_00000000-0000-4000-8000-000000000000")
    assert r.status_code == 404
    body = r.json()
    assert body["errorCode"] == "resource_not_found"
    assert (
        body["errorDescription"] == "could not find connection with given parameters"
        and len(body["errorId"]) == 36
    )
    # a disabled connection is reachable by id even though the default listing hides it
    dis = sim.pick(disabled=True)[0]
    assert client.json("/data/connections/" + dis, {"expansion": "isDisabled"})["isDisabled"] is True


def test_configuration_settings(client: Client) -> None:
    body = client.json("/data/connections/configurationSettings", {"locale": "en_US"})
    assert list(body) == ["dataSourceTypes"]
    ids = [d["id"] for d in body["dataSourceTypes"]]
    assert ids == [
        "webData",
        "mobileAppData",
        "posData",
        "crmData",
        "surveyData",
        "productData",
        "callCenterData",
        "accountsData",
        "transactionData",
        "customerFeedbackData",
        "other",
    ]
    assert body["dataSourceTypes"][0] == {
        "id": "webData",
        "type": "Web Data",
        "description": body["dataSourceTypes"][0]["description"],
    }
    assert client.sim.truth().data_source_types == body["dataSourceTypes"]


def test_backfills_endpoint(sim: Simulator, client: Client) -> None:
    cid, dsid = sim.pick(min_backfills=11)
    t = sim.truth()
    want = sorted(
        (b for b in t.backfills.values() if b["connectionId"] == cid and b["dataSetId"] == dsid),
        key=lambda b: b["createdDate"],
    )
    path = f"/data/connections/{cid}/datasets/{dsid}/backfills"
    p0 = client.json(path)
    assert set(p0) == GUIDE_PAGE_KEYS and p0["size"] == 10 and len(p0["content"]) == 10 and not p0["lastPage"]
    got, page = [], 0
    while True:
        body = client.json(path, {"page": page})
        got.extend(body["content"])
        if body["lastPage"]:
            break
        page += 1
    assert [b["id"] for b in got] == [b["id"] for b in want]
    for b in got:
        assert set(b) == {"id", "dataSetId", "status", "startDate", "endDate", "createdDate", "allData"}
        assert b["createdDate"].endswith("Z") and len(b["createdDate"]) == 24
        assert (b["startDate"] is None) == b["allData"]
    desc = client.json(path, {"sortDirection": "DESC", "limit": 1000})["content"]
    assert [b["id"] for b in desc] == [b["id"] for b in reversed(want)]
    failed = client.json(path, {"includeStatus": "failed,inProgress", "limit": 1000})
    assert {b["status"] for b in failed["content"]} <= {"FAILED", "IN_PROGRESS"}
    assert failed["totalElements"] == sum(b["status"] in ("FAILED", "IN_PROGRESS") for b in want)
    assert client.get(path, {"includeStatus": "inQueue"}).status_code == 400
    assert client.get(path, {"limit": 1001}).status_code == 400
    assert client.get(path, {"sortProperty": "id"}).status_code == 400
    assert (
        client.get(f"/data/connections/{cid}/datasets/000000000000000000000000/backfills").status_code == 404
    )
    assert client.get(f"/data/connections/{cid[3:]}/datasets/{dsid}/backfills").status_code == 200


def test_search(sim: Simulator, client: Client) -> None:
    cid = client.list_all({})[0]["id"]
    name = sim.truth().connections[cid]["name"]
    body = client.json("/data/connections/search", {"query": name, "expansion": "name"})
    assert cid in [c["id"] for c in body["content"]]
    assert client.json("/data/connections/search", {"query": cid})["content"][0]["id"] == cid


def test_truth_helpers(sim: Simulator) -> None:
    t = sim.truth()
    now = sim.now
    for bid in t.stuck_backfills():
        b = t.backfills[bid]
        assert b["status"] in ("IN_PROGRESS", "IN_QUEUE")
    assert t.stuck_backfills(hours=24 * 365) == []
    assert t.failed_backfills() and all(t.backfills[b]["status"] == "FAILED" for b in t.failed_backfills())
    stale = t.stale_datasets()
    assert stale and all(t.datasets[k]["streaming"] for k in stale)
    assert any("lastIngestedTime" not in t.datasets[k] for k in stale)
    fresh = [k for k, d in t.datasets.items() if d["streaming"] and k not in stale]
    assert fresh and all(
        d > (now - timedelta(hours=48)).isoformat()[:19]
        for d in (t.datasets[k]["lastIngestedTime"] for k in fresh)
    )
    assert t.validation_errors and t.configured_containers and t.container_fields
    for e in t.validation_errors:
        assert (e["connectionId"], e["dataSetId"]) in t.datasets
    # summaries agree with the backfill lists at both levels
    by_ds: dict[tuple[str, str], list[str]] = {}
    for b in t.backfills.values():
        by_ds.setdefault((b["connectionId"], b["dataSetId"]), []).append(b["status"])
    for key, d in t.datasets.items():
        st = by_ds.get(key, [])
        s = d["backfillSummary"]
        assert (s["total"], s["failed"], s["inProgress"], s["completed"]) == (
            len(st),
            st.count("FAILED"),
            st.count("IN_PROGRESS"),
            st.count("COMPLETED"),
        )
    for cid, c in t.connections.items():
        assert c["backfillSummary"]["total"] == sum(len(v) for k, v in by_ds.items() if k[0] == cid)
    statuses = {b["status"] for b in t.backfills.values()}
    assert statuses == {"COMPLETED", "FAILED", "IN_PROGRESS", "IN_QUEUE"}
    assert ALL_LIST


def test_repeated_expansion_param_is_a_comma_list(client: Client) -> None:
    r = client.s.get(
        client.sim.base_url + "/data/connections?expansion=name&expansion=modified",
        headers=client.headers(),
        timeout=10,
    )
    assert set(r.json()["content"][0]) >= {"name", "modifiedDate"}
