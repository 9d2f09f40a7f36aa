"""Responses against the official OpenAPI subset (jsonschema) and the guide's examples."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cja_source.simulator import Simulator

from .helpers import ALL_LIST, GUIDE_PAGE_KEYS, Client, start_sim

# Adobe's OpenAPI subset for /data/connections*, vendored verbatim so a clean clone can run the tests
SPEC_PATH = Path(__file__).parent / "reference" / "cja-apis_connections_subset.openapi.json"
# keys and value types of the guide's backfill and configurationSettings examples
GUIDE_BACKFILL = {
    "id": str,
    "dataSetId": str,
    "status": str,
    "startDate": (str, type(None)),
    "endDate": (str, type(None)),
    "createdDate": str,
    "allData": bool,
}


def _components() -> dict[str, Any]:
    spec = json.loads(SPEC_PATH.read_text())
    comps = copy.deepcopy(spec["components"])
    s = comps["schemas"]
    # the guide documents null for these although the 3.0 spec does not mark them nullable
    s["CJAOwner"]["properties"]["name"] = {"type": ["string", "null"]}
    for k in ("startDate", "endDate"):
        s["DataSetBackfill"]["properties"][k] = {"type": ["string", "null"]}
    return comps


COMPONENTS = _components()


def validate(obj: Any, schema_name: str) -> None:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": COMPONENTS}
    jsonschema.Draft7Validator(schema).validate(obj)


@pytest.fixture(scope="module")
def spring() -> Any:
    s = start_sim(connections=15, page_shape="spring")
    yield s
    s.stop()


EXPANSION_SETS = [
    "",
    "name,description,owner,dataSets",
    ALL_LIST,
    ALL_LIST + ",granularBackfills",
    "modified,validationErrors,backfillsSummaryConnection,backfillsSummaryDataSets,dataSetLastIngested",
]


@pytest.mark.parametrize("expansion", EXPANSION_SETS)
def test_guide_list_shape(client: Client, expansion: str) -> None:
    body = client.json(
        "/data/connections",
        {
            "expansion": expansion,
            "limit": 25,
            "includeType": "disabled,systemUserOwned",
            "includeHiddenDataSets": "true",
        },
    )
    assert set(body) == GUIDE_PAGE_KEYS
    for k in ("number", "totalElements", "totalPages", "numberOfElements", "size"):
        assert isinstance(body[k], int)
    assert isinstance(body["firstPage"], bool) and isinstance(body["lastPage"], bool) and body["sort"] is None
    for c in body["content"]:
        validate(c, "Connection")


@pytest.mark.parametrize("expansion", EXPANSION_SETS)
def test_spring_list_shape_against_spec(spring: Simulator, expansion: str) -> None:
    c = Client(spring)
    for page in (0, 1, 5):
        body = c.json("/data/connections", {"expansion": expansion, "limit": 4, "page": page})
        validate(body, "PageConnection")
        assert {"firstPage", "lastPage"}.isdisjoint(body)
        assert set(body) == set(COMPONENTS["schemas"]["PageConnection"]["properties"])
        assert body["pageable"]["pageNumber"] == page and body["pageable"]["offset"] == page * 4
        assert body["empty"] == (not body["content"]) and body["first"] == (page == 0)


def test_search_and_get_against_spec(sim: Simulator, client: Client, spring: Simulator) -> None:
    for cid in sim.connection_ids()[:5]:
        body = client.json(
            "/data/connections/" + cid,
            {
                "expansion": ALL_LIST + ",ownerFullName,schemaInfo,tags,granularBackfills",
                "includeHiddenDataSets": "true",
            },
        )
        validate(body, "Connection")
    validate(Client(spring).json("/data/connections/search", {"expansion": "name,owner"}), "PageConnection")


def test_error_bodies_against_spec(client: Client) -> None:
    r = client.get("/data/connections/dg_00000000-0000-4000-8000-000000000000")
    assert r.status_code == 404
    validate(r.json(), "ErrorStatus")
    r = client.get("/data/connections", {"limit": 5000})
    assert r.status_code == 400
    validate(r.json(), "ErrorStatus")


def test_5xx_body_against_spec(fresh: Simulator) -> None:
    c = Client(fresh)
    fresh.faults.error_rate = 1.0
    seen = set()
    for _ in range(30):
        r = c.get("/data/connections")
        assert r.status_code in (500, 502, 503, 504)
        seen.add(r.status_code)
        body = r.json()
        validate(body, "ErrorStatus")
        assert body["errorCode"] == "unexpected_error"
    assert len(seen) >= 2


def test_backfills_and_configuration_settings_match_guide(sim: Simulator, client: Client) -> None:
    cid, dsid = sim.pick(min_backfills=2)
    body = client.json(f"/data/connections/{cid}/datasets/{dsid}/backfills")
    assert set(body) == GUIDE_PAGE_KEYS and body["sort"] is None
    for b in body["content"]:
        assert set(b) == set(GUIDE_BACKFILL)
        for k, t in GUIDE_BACKFILL.items():
            assert isinstance(b[k], t), k
        validate(b, "DataSetBackfill")
    cs = client.json("/data/connections/configurationSettings")
    for d in cs["dataSourceTypes"]:
        assert set(d) == {"id", "type", "description"} and all(isinstance(v, str) for v in d.values())
        validate(d, "DataSourceType")
