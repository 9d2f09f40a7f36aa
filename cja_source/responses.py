"""What an HTTP answer of the CJA API or the gateway means: the typed error of a refusal, the
Retry-After it asks for, and the short reason of a connection failure."""

from __future__ import annotations

import socket
from typing import Any

import orjson
import requests

from . import settings
from .errors import ApiError, AuthenticationError, CJAError, PermissionDeniedError, ServiceUnavailableError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Name or service not known", "Connection refused", "Temporary failure in name resolution"):
        if marker in text:
            return marker.lower()
    return type(exc).__name__


# getaddrinfo's "no such name" (EAI_NODATA is not on every platform); EAI_AGAIN, a resolver that
# did not answer in time, is temporary and keeps the patience of any other connection error
_UNKNOWN_HOST = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


def unreachable(exc: BaseException) -> bool:
    """Whether nothing can answer at the address: the connection was refused or the host name does
    not exist. requests wraps the socket's error in urllib3's, found through `reason` and the chain."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        error = pending.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, ConnectionRefusedError):
            return True
        if isinstance(error, socket.gaierror) and error.errno in _UNKNOWN_HOST:
            return True
        linked = (error.__cause__, error.__context__, getattr(error, "reason", None), *error.args)
        pending.extend(e for e in linked if isinstance(e, BaseException))
    return False


def raise_error_body(body: Any, status: int, path: str) -> None:
    """An error body is an error even with status 200: never hand it on as data."""
    if isinstance(body, dict) and ("error_code" in body or "errorCode" in body) and "content" not in body:
        raise typed_error(body, status, path)


def error_for(response: requests.Response, path: str) -> CJAError:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict) and ("error_code" in body or "errorCode" in body):
        return typed_error(body, response.status_code, path)
    if response.status_code in RETRY_STATUSES:
        return ServiceUnavailableError(
            f"CJA API answered HTTP {response.status_code} at {path}", status=response.status_code
        )
    return ApiError(f"CJA API answered HTTP {response.status_code} at {path}", status=response.status_code)


def typed_error(body: dict[str, Any], status: int, path: str) -> CJAError:
    if "error_code" in body:  # the adobe.io gateway's shape
        code = str(body.get("error_code"))
        message = str(body.get("message") or "").strip()
        hint = settings.GATEWAY_HINTS.get(code)
        text = f"Adobe gateway refused {path}: HTTP {status} {code} {message!r}" + (
            f"; {hint}" if hint else ""
        )
        if status == 401:
            return AuthenticationError(text, status=status, code=code)
        if status == 429:
            return ServiceUnavailableError(
                f"CJA API kept answering 429 {code} {message!r} (rate limit) at {path}; "
                "lower sources.cja.requests_per_window or check other users of this credential",
                status=status,
                code=code,
            )
        if status >= 500:
            return ServiceUnavailableError(text, status=status, code=code)
        return PermissionDeniedError(text, status=status, code=code)
    code = str(body.get("errorCode"))
    description = str(body.get("errorDescription") or "").strip()
    text = f"CJA API error at {path}: HTTP {status} {code}: {description}"
    if status >= 500:
        return ServiceUnavailableError(text, status=status, code=code)
    if status in (401, 403):
        return PermissionDeniedError(text, status=status, code=code)
    return ApiError(text, status=status, code=code)
