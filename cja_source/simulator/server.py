"""HTTP layer: routing, gateway, faults, counters. Stdlib ThreadingHTTPServer, HTTP/1.1 keep-alive."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson

from .api import error_status
from .faults import mutate_items

if TYPE_CHECKING:
    from .core import Simulator

DATAVIEW_ROUTES = frozenset({"dataviews", "dataview", "dimensions", "metrics"})
_LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1")


def route_of(path: str) -> tuple[str, list[str]]:
    """Endpoint name (counter key) and path arguments. configurationSettings and search are matched before
    the {connectionId} pattern, since both would otherwise look like a connection id."""
    parts = [unquote(p) for p in path.strip("/").split("/")]
    if parts[:2] == ["data", "dataviews"]:
        return _dataview_route(parts[2:])
    if parts[:2] != ["data", "connections"]:
        return "other", []
    rest = parts[2:]
    if not rest:
        return "list", []
    if rest == ["configurationSettings"]:
        return "configurationSettings", []
    if rest == ["search"]:
        return "search", []
    if len(rest) == 1 and rest[0]:
        return "get", rest
    if len(rest) == 4 and rest[1] == "datasets" and rest[3] == "backfills":
        return "backfills", [rest[0], rest[2]]
    return "other", []


def _dataview_route(rest: list[str]) -> tuple[str, list[str]]:
    if not rest:
        return "dataviews", []
    if len(rest) == 1 and rest[0] and rest[0] not in ("validate", "copy"):
        return "dataview", rest
    if len(rest) == 2 and rest[0] and rest[1] in ("dimensions", "metrics"):
        return rest[1], [rest[0]]
    return "other", []


def _dumps(body: Any) -> bytes:
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:
        # a lone surrogate (set by a test) cannot be UTF-8: escaped, as JSON allows and Java emits
        return json.dumps(body, ensure_ascii=True, default=str).encode()


class SimServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default of 5 drops connections under a 16-way concurrent client
    sim: Simulator


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SimServer
    server_version = "cja-sim/1.0"
    # headers and body leave in one segment; otherwise Nagle + delayed ACK add ~40 ms per keep-alive request
    disable_nagle_algorithm = True
    wbufsize = 1 << 16

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # keep test and CLI output clean

    # ----- plumbing -----

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(
        self,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> None:
        data = raw if raw is not None else _dumps(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        body = self._body()
        sim = self.server.sim
        if url.path.startswith("/__admin/"):
            if self.client_address[0] not in _LOOPBACK:
                self._send(403, {"error": "admin route is loopback-only"})
                return
            status, out = sim._admin(method, url.path[len("/__admin/") :], body)
            self._send(status, out)
            return
        if url.path.rstrip("/") == "/ims/token/v3":
            self._token(method, url.query, body)
            return
        self._data(method, url.path, url.query)

    # ----- IMS -----

    def _token(self, method: str, query: str, body: bytes) -> None:
        sim = self.server.sim
        form = dict(parse_qsl(query))
        if body:
            form.update(parse_qsl(body.decode("utf-8", "replace")))
        if method != "POST":
            status, out = 405, {"error": "invalid_request", "error_description": "method not allowed"}
        else:
            if sim.faults.token_seconds > 0:
                time.sleep(sim.faults.token_seconds)
            status, out = sim.gateway.issue_token(form)
        sim._counters.add("token", status)
        self._send(status, out, {"Cache-Control": "no-store"})

    # ----- data -----

    def _data(self, method: str, path: str, query: str) -> None:
        sim = self.server.sim
        endpoint, args = route_of(path)
        err, client_id = sim.gateway.check(self.headers)
        if err is not None:
            headers = {}
            if err[0] == 429 and sim.cfg.retry_after:
                headers["Retry-After"] = str(sim.gateway.retry_after(client_id))
            self._finish(endpoint, err[0], err[1], headers)
            return
        faults = sim.faults
        delay = faults.latency() + faults.slow_delay()
        if delay:
            time.sleep(delay)
        fault_status = faults.error_status()
        if fault_status is not None:
            status, out = error_status(
                "unexpected_error", "internal error while retrieving connections", fault_status
            )
            self._finish(endpoint, status, out)
            return
        if method != "GET":
            self._finish(endpoint, *error_status("method_not_allowed", f"{method} is not supported", 405))
            return
        if endpoint == "other":
            self._finish(endpoint, *error_status("resource_not_found", "no handler for this path", 404))
            return
        params: dict[str, str] = {}
        for k, v in parse_qsl(query, keep_blank_values=True):
            # a repeated list parameter (expansion=a&expansion=b) means the same as a comma list
            params[k] = f"{params[k]},{v}" if k in params else v
        api = sim.dataview_api if endpoint in DATAVIEW_ROUTES else sim.api
        status, out = api.handle(endpoint, args, params, sim.gateway.is_admin(client_id or ""))
        if status == 200 and faults.malformed_item:
            mutate_items(faults.malformed_item, endpoint, out)
        if status == 200 and faults.take_malformed():
            data = orjson.dumps(out)
            self._finish(endpoint, 200, None, raw=data[: max(1, len(data) // 2)])
            return
        self._finish(endpoint, status, out)

    def _finish(
        self,
        endpoint: str,
        status: int,
        out: Any,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> None:
        self.server.sim._counters.add(endpoint, status)
        self._send(status, out, headers, raw)
