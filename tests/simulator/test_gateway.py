"""IMS token endpoint, gateway checks in order, rate limiting, token expiry, non-admin credentials."""

from __future__ import annotations

import threading
import time

import requests

from cja_source.simulator import Simulator

from .helpers import Client, start_sim


def _token(sim: Simulator, **form: str) -> requests.Response:
    data = {
        "grant_type": "client_credentials",
        "client_id": sim.cfg.client_id,
        "client_secret": sim.cfg.client_secret,
        "scope": "openid",
    }
    data.update(form)
    return requests.post(sim.token_url, data=data, timeout=10)


def test_token_good_and_bad(sim: Simulator) -> None:
    r = _token(sim)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 86399 and len(body["access_token"]) > 20
    assert _token(sim).json()["access_token"] != body["access_token"]
    r = _token(sim, client_id="nope")
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_client", "error_description": "invalid client_id parameter"}
    r = _token(sim, client_secret="nope")
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_client", "error_description": "invalid client_secret parameter"}
    assert _token(sim, grant_type="password").status_code == 400


def test_token_via_query_params(sim: Simulator) -> None:
    q = {
        "grant_type": "client_credentials",
        "client_id": sim.cfg.client_id,
        "client_secret": sim.cfg.client_secret,
        "scope": "openid",
    }
    r = requests.post(sim.token_url, params=q, timeout=10)
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"


def test_gateway_errors_in_order(sim: Simulator, client: Client) -> None:
    p = "/data/connections"
    cases = [
        ({"Authorization": None}, 403, {"error_code": "403010", "message": "Oauth token is missing."}),
        (
            {"Authorization": "Bearer garbage"},
            401,
            {"error_code": "401013", "message": "Oauth token is not valid"},
        ),
        ({"Authorization": "Bearer garbage", "x_api_key": None}, 401, None),  # token checked before key
        ({"x_api_key": None}, 403, {"error_code": "403000", "message": "Api Key is required"}),
        ({"x_api_key": "other-client"}, 403, {"error_code": "403003", "message": "Api Key is invalid"}),
        ({"x_gw_ims_org_id": None}, 400, {"error_code": "400003", "message": "Missing header"}),
        (
            {"x_gw_ims_org_id": "OTHER@AdobeOrg"},
            403,
            {"error_code": "403027", "message": "User region is missing"},
        ),
        (
            {"x_api_key": None, "x_gw_ims_org_id": None},
            403,
            {"error_code": "403000", "message": "Api Key is required"},
        ),
    ]
    for hdr, status, body in cases:
        r = client.get(p, **hdr)
        assert r.status_code == status, (hdr, r.text)
        if body is not None:
            assert r.json() == body
    assert client.get(p).status_code == 200


def test_counters_count_rejections(fresh: Simulator) -> None:
    c = Client(fresh)
    fresh.reset_counters()
    c.get("/data/connections", Authorization=None)
    c.get("/data/connections")
    c.get("/data/connections/dg_nope")
    c.get("/data/connections/configurationSettings")
    assert fresh.counters() == {
        "list": {"403": 1, "200": 1},
        "get": {"404": 1},
        "configurationSettings": {"200": 1},
    }
    assert fresh.count() == 4 and fresh.count("list") == 2 and fresh.count(status=404) == 1
    assert fresh.count("list", 200) == 1


def test_rate_limit_window_slides() -> None:
    sim = start_sim(connections=5, rate_limit=(12, 0.6))
    try:
        c = Client(sim)
        statuses = [c.get("/data/connections").status_code for _ in range(14)]
        assert statuses[:12] == [200] * 12 and statuses[12:] == [429, 429]
        r = c.get("/data/connections")
        assert r.status_code == 429
        assert r.json() == {"error_code": "429050", "message": "Too many requests"}
        assert "Retry-After" not in r.headers
        # token requests are never rate limited, admin requests neither
        assert _token(sim).status_code == 200
        assert requests.get(sim.base_url + "/__admin/counters", timeout=5).status_code == 200
        time.sleep(0.65)
        assert c.get("/data/connections").status_code == 200  # the window slid
        assert sim.count("list", 429) == 3
        # gateway rejections happen before the rate limit and do not consume budget
        time.sleep(0.65)
        for _ in range(5):
            assert c.get("/data/connections", x_api_key=None).status_code == 403
        assert [c.get("/data/connections").status_code for _ in range(12)] == [200] * 12
    finally:
        sim.stop()


def test_rate_limit_is_per_client_and_retry_after_optional() -> None:
    sim = start_sim(
        connections=5, rate_limit=(3, 0.6), retry_after=True, extra_clients={"other": ("s2", True)}
    )
    try:
        a, b = Client(sim), Client(sim, "other", "s2")
        assert [a.get("/data/connections").status_code for _ in range(3)] == [200] * 3
        r = a.get("/data/connections")
        assert r.status_code == 429 and r.headers["Retry-After"] == "1"
        assert b.get("/data/connections").status_code == 200
    finally:
        sim.stop()


def test_token_expiry_uses_real_time() -> None:
    sim = start_sim(connections=3, token_ttl=1)
    try:
        c = Client(sim)
        assert _token(sim).json()["expires_in"] == 1
        assert c.get("/data/connections").status_code == 200
        time.sleep(1.2)
        r = c.get("/data/connections")
        assert r.status_code == 401 and r.json()["error_code"] == "401013"
        c.token = c.fetch_token()
        assert c.get("/data/connections").status_code == 200
    finally:
        sim.stop()


def test_non_admin_gets_empty_listing() -> None:
    sim = start_sim(connections=10, extra_clients={"viewer": ("vs", False)})
    try:
        c = Client(sim, "viewer", "vs")
        body = c.json("/data/connections", {"includeType": "disabled,systemUserOwned"})
        assert body["content"] == [] and body["totalElements"] == 0 and body["lastPage"] is True
        assert c.get("/data/connections/" + sim.connection_ids()[0]).status_code == 404
        assert len(c.json("/data/connections/configurationSettings")["dataSourceTypes"]) == 11
        assert c.get("/data/connections", x_api_key="cja-demo").status_code == 403  # key must match token
    finally:
        sim.stop()


def test_sixteen_concurrent_requests() -> None:
    sim = start_sim(connections=30, latency_ms=(200, 200))
    try:
        c = Client(sim)
        results: list[int] = []
        lock = threading.Lock()

        def one() -> None:
            r = requests.get(sim.base_url + "/data/connections", headers=c.headers(), timeout=10)
            with lock:
                results.append(r.status_code)

        threads = [threading.Thread(target=one) for _ in range(16)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        assert results == [200] * 16
        assert elapsed < 2.0, elapsed  # served in parallel, not 16 x 200 ms
    finally:
        sim.stop()


def test_throttled_requests_count_against_the_window() -> None:
    sim = start_sim(connections=3, rate_limit=(12, 0.6))
    try:
        c = Client(sim)
        t0 = time.monotonic()
        assert [c.get("/data/connections").status_code for _ in range(12)] == [200] * 12
        assert time.monotonic() - t0 < 0.25
        time.sleep(max(0.0, t0 + 0.3 - time.monotonic()))
        assert c.get("/data/connections").status_code == 429  # rejected, but it occupies the window
        time.sleep(max(0.0, t0 + 0.65 - time.monotonic()))
        statuses = [c.get("/data/connections").status_code for _ in range(12)]
        assert statuses == [200] * 11 + [429]
    finally:
        sim.stop()
