"""A receiver on loopback that stands in for every sink (the webhook, Slack, Teams, the heartbeat
service): it records each request and answers 500 as many times as a test asks, per path. The
paths carry a token, as real webhook URLs do, so tests can look for it wherever the runs write."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ..fleet.conftest import ORGS, two_orgs  # noqa: F401 - the fleet tests' two simulated orgs


@dataclass
class Request:
    method: str
    path: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(self) -> None:
        self.token = f"tok{uuid.uuid4().hex}"
        self.requests: list[Request] = []
        self.fail: dict[str, int] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with receiver.lock:
                    receiver.requests.append(Request(method, self.path, body))
                    sink = self.path.split("/")[1]
                    failing = receiver.fail.get(sink, 0)
                    if failing:
                        receiver.fail[sink] = failing - 1
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self._answer("POST")

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self._answer("GET")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, sink: str) -> str:
        """A sink's URL: http://127.0.0.1:<port>/<sink>/hooks/<token>."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/{sink}/hooks/{self.token}"

    def env(self, *sinks: str) -> dict[str, str]:
        """The [cja_sync.alerts] environment for `sinks` (default: all four), fast retries."""
        names = {
            "webhook": "WEBHOOK_URL",
            "slack": "SLACK_WEBHOOK_URL",
            "teams": "TEAMS_WEBHOOK_URL",
            "hb": "HEARTBEAT_URL",
        }
        env = {f"CJA_SYNC__ALERTS__{names[s]}": self.url(s) for s in sinks or tuple(names)}
        env["CJA_SYNC__ALERTS__BACKOFF_SECONDS"] = "0.01"
        env["CJA_SYNC__ALERTS__TIMEOUT_SECONDS"] = "5"
        return env

    def take(self, sink: str | None = None) -> list[Request]:
        """The requests received since the last take (to `sink` only, when given), forgotten."""
        with self.lock:
            taken = [r for r in self.requests if sink is None or r.path.split("/")[1] == sink]
            self.requests = [r for r in self.requests if r not in taken]
        return taken

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receiver_module() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def receiver(receiver_module: Receiver, monkeypatch: pytest.MonkeyPatch) -> Receiver:
    """The module's receiver, emptied, its sinks in the environment."""
    receiver_module.take()
    receiver_module.fail.clear()
    for key, value in receiver_module.env().items():
        monkeypatch.setenv(key, value)
    return receiver_module
