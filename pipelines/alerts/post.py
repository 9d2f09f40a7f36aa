"""HTTP to the sinks: a JSON post with bounded retries, and the heartbeat's ping.

A sink's URL is its password (Slack's and Teams' webhook URLs, a healthchecks.io ping URL): no
message, log line, exception or stored reason may carry it. requests and urllib3 name the URL in
their exceptions and debug lines, so a failure is described here from its kind and status alone,
and no exception of theirs leaves this module."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import requests

from cja_source.version import __version__

# urllib3 logs each request line (path included) at DEBUG, and its retry warnings name the URL
logging.getLogger("urllib3").setLevel(logging.INFO)

HEADERS = {"User-Agent": f"cja-sync/{__version__}"}
RETRIED_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_BACKOFF_SECONDS = 30.0
# a sink's own short error code (Slack: `no_service`, `invalid_payload`) is worth showing
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


def post_json(url: str, payload: dict[str, Any], timeout: float, attempts: int, backoff: float) -> str | None:
    """POST `payload` to `url`; None once a 2xx answer came, else the reason of the last failure
    (one line, never the URL). Retries timeouts, connection errors, 408/425/429 and 5xx, up to
    `attempts` tries, waiting `backoff` × 2^n seconds between them (Retry-After when the sink
    sends one), at most 30 s each."""
    reason, wait, tries = "not sent", 0.0, 0
    for attempt in range(max(1, attempts)):
        if attempt:
            time.sleep(min(MAX_BACKOFF_SECONDS, wait or backoff * 2 ** (attempt - 1)))
        wait, tries = 0.0, attempt + 1
        try:
            limits = (min(timeout, 5.0), timeout)  # connect, read
            answer = requests.post(url, json=payload, headers=HEADERS, timeout=limits, allow_redirects=False)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a reason, never the exception
            reason, again = _failure(exc, timeout), True
        else:
            with answer:
                if 200 <= answer.status_code < 300:
                    return None
                reason = f"HTTP {answer.status_code}{_code(answer, url)}"
                again = answer.status_code in RETRIED_STATUSES
                wait = _retry_after(answer)
        if not again:
            break
    return reason if tries <= 1 else f"{reason} (after {tries} attempts)"


def ping(url: str, timeout: float) -> str | None:
    """GET `url` once (a heartbeat); None when it answered 2xx, else the reason."""
    try:
        with requests.get(
            url, headers=HEADERS, timeout=(min(timeout, 5.0), timeout), allow_redirects=True
        ) as answer:
            if 200 <= answer.status_code < 300:
                return None
            return f"HTTP {answer.status_code}"
    except Exception as exc:  # noqa: BLE001 - every failure becomes a reason, never the exception
        return _failure(exc, timeout)


def _failure(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, requests.Timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS handshake failed"
    if isinstance(exc, requests.ConnectionError):
        return "could not connect"
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return "the URL is not valid"
    return f"request failed ({type(exc).__name__})"


def _code(answer: requests.Response, url: str) -> str:
    try:
        text = answer.text.strip()[:50]
    except Exception:  # noqa: BLE001 - an undecodable body is no reason to fail differently
        return ""
    # a sink that echoes part of its URL (the token) back must not get it printed
    return f" {text}" if _CODE.match(text) and text not in url else ""


def _retry_after(answer: requests.Response) -> float:
    try:
        return max(0.0, float(answer.headers.get("Retry-After", "")))
    except ValueError:
        return 0.0
