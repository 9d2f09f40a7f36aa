"""Plain helpers for the simulator tests, imported explicitly: small simulated orgs on loopback and
a tiny authenticated client."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import requests

from cja_source.simulator import SimConfig, Simulator

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


class Client:
    """Minimal client: fetches a token once and sends the three gateway headers."""

    def __init__(self, sim: Simulator, client_id: str | None = None, secret: str | None = None) -> None:
        self.sim = sim
        self.client_id = client_id or sim.cfg.client_id
        self.secret = secret or sim.cfg.client_secret
        self.s = requests.Session()
        self.token = self.fetch_token()

    def fetch_token(self) -> str:
        r = self.s.post(
            self.sim.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.secret,
                "scope": "openid,AdobeID",
            },
        )
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def headers(self, **override: str | None) -> dict[str, str]:
        h = {
            "Authorization": f"Bearer {self.token}",
            "x-api-key": self.client_id,
            "x-gw-ims-org-id": self.sim.cfg.org_id,
            "Accept": "application/json",
        }
        for k, v in override.items():
            k = k.replace("_", "-")
            if v is None:
                h.pop(k, None)
            else:
                h[k] = v
        return h

    def get(self, path: str, params: dict[str, Any] | None = None, **hdr: str | None) -> requests.Response:
        return self.s.get(self.sim.base_url + path, params=params, headers=self.headers(**hdr), timeout=30)

    def json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        r = self.get(path, params)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()

    def list_all(self, params: dict[str, Any], limit: int = 7) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        page = 0
        while True:
            body = self.json("/data/connections", {**params, "limit": limit, "page": page})
            out.extend(body["content"])
            if body.get("lastPage", body.get("last")) or not body["content"]:
                return out
            page += 1


ALL_LIST = (
    "name,description,owner,isDeleted,isDisabled,dataSets,createdDate,modified,caseSensitive,organization,"
    "numDailyEvents,externalData,backfillEnabled,backfillsSummaryConnection,backfillsSummaryDataSets,"
    "dataSetLastIngested,sandboxName,sandboxId,fieldsId,floatPrecision,dataRetentionMonths,validationErrors,"
    "primaryIdType,configuredContainers"
)
EVERYTHING = {
    "expansion": ALL_LIST,
    "includeType": "disabled,systemUserOwned",
    "includeHiddenDataSets": "true",
}


def start_sim(**kw: Any) -> Simulator:
    """A started simulator (the caller stops it); seed 7, 40 connections, no rate limit, a fixed now."""
    base: dict[str, Any] = {
        "seed": 7,
        "connections": 40,
        "max_datasets_per_connection": 30,
        "rate_limit": None,
        "now": NOW,
    }
    base.update(kw)
    return Simulator(SimConfig(**base)).start()


# the page envelope of the Connections guide's examples
GUIDE_PAGE_KEYS = {
    "content",
    "number",
    "totalElements",
    "totalPages",
    "numberOfElements",
    "firstPage",
    "lastPage",
    "sort",
    "size",
}
