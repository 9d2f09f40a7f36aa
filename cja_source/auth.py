"""OAuth Server-to-Server tokens from Adobe IMS, on top of dlt's OAuth2ClientCredentials."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pendulum
import requests
from dlt.sources.helpers.rest_client.auth import OAuth2ClientCredentials

from .errors import AuthenticationError, MalformedResponseError

TokenPoster = Callable[[str, dict[str, Any]], requests.Response]

# Renew this long before IMS says the token expires (cjapy uses 500 s); short test TTLs get 10 %.
RENEW_BEFORE_SECONDS = 300.0


class AdobeIMSAuth(OAuth2ClientCredentials):
    """Client-credentials tokens from IMS: cached, renewed before expiry and on demand after a 401.

    dlt's base class does the caching and header; this adds IMS's error bodies, early renewal and
    a lock, so that concurrent threads mint one token rather than one each (IMS throttles minting).
    """

    def __init__(self, token_url: str, client_id: str, client_secret: str, scopes: str, post: TokenPoster):
        super().__init__(
            access_token_url=token_url,
            client_id=client_id,
            client_secret=client_secret,
            access_token_request_data={"scope": scopes.replace(" ", "")},
            default_token_expiration=86399,
        )
        self._post = post
        self._lock = threading.Lock()
        self._renew_at = pendulum.now()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        with self._lock:
            if self.access_token is None or self.is_token_expired():
                self.obtain_token()
            token = self.access_token
        request.headers["Authorization"] = f"Bearer {token}"
        return request

    def is_token_expired(self) -> bool:
        return pendulum.now() >= self._renew_at

    def invalidate(self, rejected_header: str | None) -> None:
        """Forget the token after a 401, unless another thread already replaced it."""
        with self._lock:
            if rejected_header is None or rejected_header == f"Bearer {self.access_token}":
                self.access_token = None

    def obtain_token(self) -> None:
        request = self.build_access_token_request()
        response = self._post(self.access_token_url, request["data"])
        body = _json_or_none(response)
        if response.status_code != 200:
            error = (body or {}).get("error") if isinstance(body, dict) else None
            description = (body or {}).get("error_description") if isinstance(body, dict) else None
            if error in ("invalid_client", "unauthorized_client", "invalid_scope", "invalid_request"):
                raise AuthenticationError(
                    f"Adobe IMS refused the credential ({error}: {description}); check "
                    "sources.cja.credentials.client_id, client_secret and scopes",
                    status=response.status_code,
                    code=error,
                )
            raise AuthenticationError(
                f"Adobe IMS answered HTTP {response.status_code} at {self.access_token_url}",
                status=response.status_code,
            )
        if not isinstance(body, dict) or not body.get("access_token"):
            raise MalformedResponseError(
                f"Adobe IMS answered without an access_token at {self.access_token_url}"
            )
        self.access_token = self.parse_access_token(body)
        ttl = max(float(self.parse_expiration_in_seconds(body)), 1.0)
        now = pendulum.now()
        self.token_expiry = now.add(seconds=ttl)
        self._renew_at = now.add(seconds=ttl - min(RENEW_BEFORE_SECONDS, ttl * 0.1))


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
