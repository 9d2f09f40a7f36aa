"""The data view endpoints against Adobe's OpenAPI file (its /data/dataviews GET operations,
vendored in reference/), with their filters, includeType, sorting, page shapes and bare lists."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cja_source.simulator import Simulator

from .helpers import Client, start_sim

SPEC = json.loads(
    (Path(__file__).parent / "reference" / "cja-apis_dataviews_subset.openapi.json").read_text()
)
LIST_EXPANSIONS = ",".join(
    next(p for p in SPEC["paths"]["/data/dataviews"]["get"]["parameters"] if p.get("name") == "expansion")[
        "schema"
    ]["items"]["enum"]
)
COMPONENT_EXPANSIONS = "description,sourceFieldId,hidden,hasData,type,dataSetIds,dataSetType,schemaPath"


def _schema(path: str) -> dict[str, Any]:
    schema: dict[str, Any] = SPEC["paths"][path]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    return schema


def _valid(obj: Any, schema: dict[str, Any]) -> None:
    jsonschema.Draft7Validator(schema).validate(obj)


@pytest.fixture(scope="module")
def views() -> Iterator[Simulator]:
    s = start_sim(connections=20, page_shape="spring")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(views: Simulator) -> Client:
    return Client(views)


def _all(client: Client, params: dict[str, Any], limit: int = 7) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for page in range(100):
        body = client.json("/data/dataviews", {**params, "limit": limit, "page": page})
        _valid(body, _schema("/data/dataviews"))  # the spec's (Spring) page, every item's fields
        out.extend(body["content"])
        if body["last"]:
            return out
    raise AssertionError("the listing never said last")


def test_listing_pages_expansions_and_deleted(views: Simulator, client: Client) -> None:
    truth = views.data_view_truth()["data_views"]
    live = _all(client, {"expansion": LIST_EXPANSIONS})
    assert sorted(v["id"] for v in live) == sorted(i for i, v in truth.items() if not v["isDeleted"])
    everything = _all(client, {"expansion": LIST_EXPANSIONS, "includeType": "deleted"})
    assert {v["id"]: v for v in everything} == truth
    bare = client.json("/data/dataviews", {"limit": 3})
    assert [set(v) for v in bare["content"]] == [{"id"}] * 3  # no expansion: ids only


def test_filters_and_sorting(views: Simulator, client: Client) -> None:
    truth = views.data_view_truth()["data_views"]
    cid = next(v["parentDataGroupId"] for v in truth.values() if not v["isDeleted"])
    of_one = _all(client, {"parentDataGroupId": cid, "expansion": "parentDataGroupId"})
    assert of_one and {v["parentDataGroupId"] for v in of_one} == {cid}
    some = sorted(truth)[:3]
    assert (
        sorted(v["id"] for v in _all(client, {"dataViewIds": ",".join(some), "includeType": "deleted"}))
        == some
    )
    by_name = _all(client, {"sortProperty": "name", "expansion": "name", "sortDirection": "DESC"}, limit=1000)
    assert [v["name"] for v in by_name] == sorted((v["name"] for v in by_name), reverse=True)
    assert client.get("/data/dataviews", {"sortProperty": "owner"}).status_code == 400
    assert client.get("/data/dataviews", {"includeType": "hidden"}).status_code == 400
    assert client.get("/data/dataviews", {"expansion": "dataSets"}).status_code == 400


def test_one_data_view_and_its_components(views: Simulator, client: Client) -> None:
    truth = views.data_view_truth()
    dvid = next(i for i, v in truth["data_views"].items() if not v["isDeleted"])
    one = client.json(f"/data/dataviews/{dvid}", {"expansion": LIST_EXPANSIONS})
    _valid(one, _schema("/data/dataviews/{dataViewId}"))
    assert one == truth["data_views"][dvid]
    assert client.get("/data/dataviews/dv_nope").status_code == 404
    for kind in ("dimensions", "metrics"):
        body = client.json(
            f"/data/dataviews/{dvid}/{kind}",
            {"includeType": "hidden", "expansion": COMPONENT_EXPANSIONS, "limit": 100},
        )
        for item in body["content"]:
            _valid(item, _schema(f"/data/dataviews/{{dataviewId}}/{kind}"))
        want = {c for (dv, c), v in truth["components"].items() if dv == dvid and v["kind"] == kind[:-1]}
        assert {c["id"] for c in body["content"]} == want
        shown = client.json(f"/data/dataviews/{dvid}/{kind}", {"limit": 100})["content"]
        assert {c["id"] for c in shown} == {
            c for c in want if not truth["components"][(dvid, c)]["hidden"]
        }  # hidden ones only with includeType=hidden
    assert client.get("/data/dataviews/dv_nope/dimensions").status_code == 404


def test_components_as_a_bare_list() -> None:
    sim = start_sim(connections=5, component_shape="list")
    try:
        client = Client(sim)
        truth = sim.data_view_truth()
        dvid = next(i for i, v in truth["data_views"].items() if not v["isDeleted"])
        body = client.json(f"/data/dataviews/{dvid}/metrics", {"includeType": "hidden", "limit": 1})
        assert isinstance(body, list)  # every item at once: no envelope, limit has nothing to cut
        assert {c["id"] for c in body} == {
            c for (dv, c), v in truth["components"].items() if dv == dvid and v["kind"] == "metric"
        }
    finally:
        sim.stop()


def test_mutations_move_and_delete(views: Simulator) -> None:
    sim = start_sim(connections=10)
    try:
        truth = sim.data_view_truth()["data_views"]
        dvid = next(i for i, v in truth.items() if not v["isDeleted"])
        target = next(c for c in sim.connection_ids() if c != truth[dvid]["parentDataGroupId"])
        sim.advance(hours=1)
        sim.move_data_view(dvid, target)
        moved = sim.data_view_truth()["data_views"][dvid]
        assert moved["parentDataGroupId"] == target and moved["modifiedDate"] != truth[dvid]["modifiedDate"]
        datasets = set(sim.dataset_ids(target))
        links = sim.data_view_truth()["component_datasets"]
        assert {ds for dv, _c, ds in links if dv == dvid} <= datasets
        sim.delete_data_view(dvid)
        assert sim.data_view_truth()["data_views"][dvid]["isDeleted"] is True
        sim.delete_data_view(dvid, hard=True)
        assert dvid not in sim.data_view_truth()["data_views"]
    finally:
        sim.stop()
