"""Adobe IMS token endpoint and the Adobe I/O gateway checks in front of every /data call."""

from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict, deque
from typing import Any

from .config import SimConfig

# (status, body) exactly as the gateway answers (error_code/message style, not the service's ErrorStatus)
TOKEN_MISSING = (403, {"error_code": "403010", "message": "Oauth token is missing."})
TOKEN_INVALID = (401, {"error_code": "401013", "message": "Oauth token is not valid"})
KEY_MISSING = (403, {"error_code": "403000", "message": "Api Key is required"})
KEY_INVALID = (403, {"error_code": "403003", "message": "Api Key is invalid"})
ORG_MISSING = (400, {"error_code": "400003", "message": "Missing header"})
ORG_WRONG = (403, {"error_code": "403027", "message": "User region is missing"})
RATE_LIMITED = (429, {"error_code": "429050", "message": "Too many requests"})


class Gateway:
    def __init__(self, cfg: SimConfig) -> None:
        self.cfg = cfg
        self.clients: dict[str, tuple[str, bool]] = {cfg.client_id: (cfg.client_secret, True)}
        self.clients.update(cfg.extra_clients)
        self._tokens: dict[str, tuple[str, float]] = {}  # token -> (client_id, monotonic expiry)
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    # ----- IMS -----

    def issue_token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("grant_type") != "client_credentials":
            return 400, {
                "error": "unsupported_grant_type",
                "error_description": "grant_type must be client_credentials",
            }
        cid = form.get("client_id", "")
        if cid not in self.clients:
            return 400, {"error": "invalid_client", "error_description": "invalid client_id parameter"}
        if form.get("client_secret", "") != self.clients[cid][0]:
            return 400, {"error": "invalid_client", "error_description": "invalid client_secret parameter"}
        if not form.get("scope", "").strip():
            return 400, {"error": "invalid_scope", "error_description": "scope parameter is required"}
        token = secrets.token_urlsafe(48)
        ttl = self.cfg.token_ttl
        with self._lock:
            self._tokens[token] = (cid, time.monotonic() + ttl)
        return 200, {"access_token": token, "token_type": "bearer", "expires_in": int(ttl)}

    # ----- gateway -----

    def check(self, headers: Any) -> tuple[tuple[int, dict[str, Any]] | None, str | None]:
        """Returns (error, client_id). Header names are case-insensitive (http.server's Message)."""
        auth = headers.get("Authorization")
        if not auth:
            return TOKEN_MISSING, None
        scheme, _, token = auth.strip().partition(" ")
        with self._lock:
            entry = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if entry is None or entry[1] <= time.monotonic():
            return TOKEN_INVALID, None
        client_id = entry[0]
        key = headers.get("x-api-key")
        if not key:
            return KEY_MISSING, client_id
        if key != client_id:
            return KEY_INVALID, client_id
        org = headers.get("x-gw-ims-org-id")
        if not org:
            return ORG_MISSING, client_id
        if org != self.cfg.org_id:
            return ORG_WRONG, client_id
        if not self._admit(client_id):
            return RATE_LIMITED, client_id
        return None, client_id

    def _admit(self, client_id: str) -> bool:
        """Rolling window over every request that passed auth, throttled ones included: a client that keeps
        hammering while limited stays limited, as with a gateway that counts all calls."""
        if self.cfg.rate_limit is None:
            return True
        n, window = self.cfg.rate_limit
        now = time.monotonic()
        with self._lock:
            q = self._hits[client_id]
            while q and q[0] <= now - window:
                q.popleft()
            admitted = len(q) < n
            q.append(now)
            return admitted

    def retry_after(self, client_id: str | None) -> int:
        """Whole seconds until fewer than N requests remain in the window (at least 1)."""
        if self.cfg.rate_limit is None or client_id is None:
            return 1
        n, window = self.cfg.rate_limit
        with self._lock:
            q = self._hits[client_id]
            wait = (q[-n] + window - time.monotonic()) if len(q) >= n else 0.0
        return max(1, int(wait + 0.999))

    def is_admin(self, client_id: str) -> bool:
        return self.clients.get(client_id, ("", False))[1]


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._c: dict[str, dict[str, int]] = {}

    def add(self, endpoint: str, status: int) -> None:
        with self._lock:
            d = self._c.setdefault(endpoint, {})
            d[str(status)] = d.get(str(status), 0) + 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {k: dict(v) for k, v in self._c.items()}

    def count(self, endpoint: str | None = None, status: int | str | None = None) -> int:
        return count_in(self.snapshot(), endpoint, status)

    def reset(self) -> None:
        with self._lock:
            self._c.clear()


def count_in(counters: dict[str, dict[str, int]], endpoint: str | None, status: int | str | None) -> int:
    """Requests in a counters snapshot ({endpoint: {status: n}}), of one endpoint and one status
    when given."""
    return sum(
        n
        for ep, by_status in counters.items()
        if endpoint is None or ep == endpoint
        for st, n in by_status.items()
        if status is None or st == str(status)
    )
