"""The one place for HTTP: IMS auth, the shared throttle, retries and paging."""

from __future__ import annotations

import collections
import json
import logging
import random
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import orjson
import requests
from tenacity import RetryCallState

from . import settings
from .auth import AdobeIMSAuth
from .errors import (
    CJAError,
    MalformedResponseError,
    ServiceUnavailableError,
    StoppedError,
)
from .paging import CJAPagePaginator, PagingGuard
from .responses import RETRY_STATUSES, error_for, raise_error_body, reason, retry_after, unreachable
from .retry_budget import Retryable, RetryBudget, Spending, with_note
from .throttle import RollingWindowThrottle, ThrottleAwareAdapter
from .validate import needs_storable, storable

logger = logging.getLogger("cja_source")
_T = TypeVar("_T")


@dataclass
class ClientConfig:
    base_url: str
    token_url: str
    client_id: str
    client_secret: str
    org_id: str
    scopes: str = settings.DEFAULT_SCOPES
    requests_per_window: int = settings.DEFAULT_REQUESTS_PER_WINDOW
    window_seconds: float = settings.DEFAULT_WINDOW_SECONDS
    max_concurrency: int = settings.DEFAULT_MAX_CONCURRENCY
    timeout: float = settings.GATEWAY_TIMEOUT_SECONDS
    max_attempts: int = settings.MAX_ATTEMPTS
    backoff_base: float = 1.0
    max_backoff: float = settings.MAX_BACKOFF_SECONDS
    # wall time of one call with its retries; None: what max_attempts tries may take (RetryBudget.of)
    retry_seconds: float | None = None
    # the settings block of this credential: an org of a fleet has `sources.cja.orgs.<name>`
    settings_path: str = "sources.cja"

    def __repr__(self) -> str:  # never print the secret
        return (
            f"ClientConfig(base_url={self.base_url!r}, client_id={self.client_id!r}, org_id={self.org_id!r})"
        )


class PageTimeoutError(ServiceUnavailableError):
    """A page request ran into the timeout (the caller may retry with a smaller page)."""


# every client of this process, so that a signal can stop them all (stop_all_clients)
_clients: weakref.WeakSet[CJAClient] = weakref.WeakSet()


def stop_all_clients() -> None:
    """Stop every client of this process: what a signal handler calls (see CJAClient.stop)."""
    for client in list(_clients):
        client.stop()


class CJAClient:
    """HTTP client for the CJA Connections API, safe to share between threads."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self.base_url = config.base_url.rstrip("/")
        self.session = requests.Session()
        pool = max(4, config.max_concurrency * 2)
        adapter = ThrottleAwareAdapter(pool_connections=pool, pool_maxsize=pool, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update(
            {"x-api-key": config.client_id, "x-gw-ims-org-id": config.org_id, "Accept": "application/json"}
        )
        self.throttle = RollingWindowThrottle(config.requests_per_window, config.window_seconds)
        self.auth = AdobeIMSAuth(
            config.token_url, config.client_id, config.client_secret, config.scopes, post=self._post_token
        )
        self._stats_lock = threading.Lock()
        self.stats: collections.Counter[tuple[str, str]] = collections.Counter()
        self.on_request: Callable[[str], None] | None = None
        # What the run is waiting for, for a progress display: the failure being retried (its
        # first clause), until a request is answered again. Single assignments: no lock needed.
        self.retrying: str | None = None
        budget = RetryBudget.of(config.max_attempts, config.timeout, config.max_backoff)
        if config.retry_seconds is not None:
            budget = RetryBudget(config.max_attempts, config.retry_seconds)
        self.budget = budget
        self._stopped = threading.Event()
        _clients.add(self)

    def stop(self) -> None:
        """Send no more requests: a call in its pause between attempts, or about to start one, raises
        StoppedError (every thread of the run ends within the request it is sending)."""
        self._stopped.set()

    # ----------------------------------------------------------------- accounting

    def _count(self, endpoint: str, status: str) -> None:
        with self._stats_lock:
            self.stats[(endpoint, status)] += 1
        if status == "200":
            self.retrying = None
        if self.on_request is not None:
            self.on_request(endpoint)

    def requests_by_endpoint(self) -> dict[str, int]:
        """Requests sent per endpoint, every attempt included."""
        out: dict[str, int] = collections.defaultdict(int)
        with self._stats_lock:
            for (endpoint, _status), n in self.stats.items():
                out[endpoint] += n
        return dict(out)

    def requests_by_status(self) -> dict[str, int]:
        out: dict[str, int] = collections.defaultdict(int)
        with self._stats_lock:
            for (_endpoint, status), n in self.stats.items():
                out[status] += n
        return dict(out)

    # ----------------------------------------------------------------- retries

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = min(self.config.max_backoff, self.config.backoff_base * 2 ** (state.attempt_number - 1))
        backoff *= 0.5 + random.random()  # jitter: threads that failed together do not retry together
        if isinstance(exc, Retryable):
            self.retrying = exc.final.message.split("; ")[0]
        if isinstance(exc, Retryable) and exc.retry_after is not None:
            return float(max(exc.retry_after, backoff * 0.5))
        return float(backoff)

    def _with_retries(self, attempt: Callable[[Spending], _T]) -> _T:
        """`attempt` until it succeeds or the budget is spent; then its last error, saying so."""
        spending = Spending(self.budget, self._stopped)

        def checked() -> _T:
            self._check_stopped()
            return attempt(spending)

        try:
            result: _T = spending.retrying(self._wait)(checked)
            return result
        except Retryable as exc:
            self._check_stopped()
            raise self._named(with_note(exc.final, spending.note())) from None
        except CJAError as exc:
            named = self._named(exc)
            if named is exc:
                raise
            raise named from None

    def _named(self, error: CJAError) -> CJAError:
        """`error` naming this client's own credentials block: the IMS and gateway messages say
        `sources.cja.credentials`, which an org of a fleet does not read first."""
        default, own = "sources.cja.credentials", f"{self.config.settings_path}.credentials"
        if own == default or default not in error.message:
            return error
        return type(error)(error.message.replace(default, own), status=error.status, code=error.code)

    def _check_stopped(self) -> None:
        if self._stopped.is_set():
            raise StoppedError("the run is being stopped: no more requests to the CJA API")

    # ----------------------------------------------------------------- IMS

    def _post_token(self, url: str, data: dict[str, Any]) -> requests.Response:
        def attempt(_spending: Spending) -> requests.Response:
            try:
                response = self.session.post(
                    url,
                    data=data,
                    # None drops the session's API headers from this request (requests' documented way)
                    headers=cast(dict[str, str], {"x-api-key": None, "x-gw-ims-org-id": None}),
                    timeout=(settings.CONNECT_TIMEOUT_SECONDS, self.config.timeout),
                )
            except requests.Timeout:
                self._count("token", "timeout")
                raise Retryable(
                    ServiceUnavailableError(f"Adobe IMS did not answer in time at {url}")
                ) from None
            except requests.ConnectionError as exc:
                self._count("token", "connection_error")
                raise Retryable(
                    ServiceUnavailableError(
                        f"cannot reach Adobe IMS at {url} ({reason(exc)}); "
                        "check sources.cja.token_url and the network or proxy"
                    ),
                    unreachable=unreachable(exc),
                ) from None
            self._count("token", str(response.status_code))
            if response.status_code in RETRY_STATUSES:
                raise Retryable(
                    ServiceUnavailableError(f"Adobe IMS answered HTTP {response.status_code} at {url}"),
                    retry_after=retry_after(response),
                )
            return response

        return self._with_retries(attempt)

    # ----------------------------------------------------------------- data requests

    def get(
        self, endpoint: str, path: str, params: dict[str, Any] | None = None, *, raise_timeout: bool = False
    ) -> Any:
        """GET a data endpoint and return its parsed JSON; errors are raised, never returned.

        `raise_timeout` raises PageTimeoutError on the first timeout instead of retrying it, so the
        pager can ask again with a smaller page.
        """
        url = self.base_url + path
        renewed = False

        def attempt(spending: Spending) -> Any:
            nonlocal renewed
            request = requests.Request("GET", url, params=params, auth=self.auth)
            # Preparing may mint a token (an IMS round trip, not counted by the gateway); a slot
            # taken before it would be stamped that long before the request reaches the gateway.
            prepared = self.session.prepare_request(request)
            slot = self.throttle.acquire()
            try:
                with self.throttle.sending(slot):
                    response = self.session.send(
                        prepared, timeout=(settings.CONNECT_TIMEOUT_SECONDS, self.config.timeout)
                    )
            except requests.Timeout:
                self._count(endpoint, "timeout")
                error = PageTimeoutError(f"CJA API did not answer within {self.config.timeout:g} s at {path}")
                if raise_timeout:
                    raise error from None
                raise Retryable(error, timeout=True) from None
            except requests.ConnectionError as exc:
                self._count(endpoint, "connection_error")
                raise Retryable(
                    ServiceUnavailableError(
                        f"cannot reach the CJA API at {self.base_url} ({reason(exc)}); "
                        "check sources.cja.base_url and the network or proxy"
                    ),
                    unreachable=unreachable(exc),
                ) from None
            status = response.status_code
            self._count(endpoint, str(status))
            if status == 200:
                body = _parse(response.content, path)
                raise_error_body(body, status, path)
                return body
            if status == 401 and not renewed:
                renewed = True
                sent = prepared.headers.get("Authorization")
                self.auth.invalidate(sent.decode() if isinstance(sent, bytes) else sent)
                raise Retryable(error_for(response, path), retry_after=0.0)
            if status == 429:
                asked = retry_after(response)
                # every thread keeps off for the window, or as long as asked if this call waits
                # that long: a wait past the budget is given up on, and no thread sleeps it out
                self.throttle.penalize(asked if asked and spending.fits(asked) else 0.0)
                raise Retryable(error_for(response, path), retry_after=asked)
            if status in RETRY_STATUSES:
                raise Retryable(error_for(response, path), retry_after=retry_after(response))
            if status == 401:  # one renewal per call: a token refused twice is not retried
                raise with_note(error_for(response, path), "refused again with a new token")
            raise error_for(response, path)

        return self._with_retries(attempt)

    def paginate(
        self,
        endpoint: str,
        path: str,
        params: dict[str, Any],
        page_size: int,
        next_limit: Callable[[list[dict[str, Any]], int], int] | None = None,
        guard: PagingGuard | None = None,
        bare_list: bool = False,
    ) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any]]]:
        """Yield (items, page body without content) for every page; `page_size` is the first page's
        limit, `next_limit` (given the page and its limit) the next one's. A timed-out page is asked
        again at half the size, since the gateway cuts every request at 60 s; at the smallest size
        it gets the retries of any request, and then the run ends. `guard` raises PagingError when
        the listing cannot end (not retried: asking again would not help). With `bare_list` an answer
        that is a plain list is taken as every item at once."""
        cursor = CJAPagePaginator(limit=page_size)
        most = settings.MAX_PAGE_SIZE  # after a timeout, no page larger than the one asked since
        while cursor.has_next_page:
            smallest = cursor.limit <= settings.MIN_PAGE_SIZE
            try:
                body = self.get(endpoint, path, {**params, **cursor.params}, raise_timeout=not smallest)
            except PageTimeoutError as exc:
                # Bounded by construction: every retry here halves the page, and the page never
                # grows again, so at most log2(page_size / MIN_PAGE_SIZE) of them; at the smallest
                # page get() has already spent its own retry budget, and the error ends the run.
                if smallest or not cursor.halve(settings.MIN_PAGE_SIZE):
                    halved = f", halved from {page_size}" if page_size > cursor.limit else ""
                    raise with_note(exc, f"with pages of {cursor.limit}{halved}", sep=" ") from None
                most = cursor.limit
                logger.info("page timed out at %s; asking again with limit=%d", path, cursor.limit)
                continue
            if bare_list and isinstance(body, list):
                page = cursor.page
                items = cursor.take_list(body)
                if guard is not None:
                    guard.check_items(items, page)
                yield items, {}
                continue
            if not isinstance(body, dict) or not isinstance(body.get("content", []), list):
                raise MalformedResponseError(f"CJA API answered a page without a content list at {path}")
            page = cursor.page
            if guard is not None:
                guard.check_claim(body, cursor.limit, page)
            items = cursor.take(body)
            if guard is not None:
                guard.check_items(items, page)
            meta = {k: v for k, v in body.items() if k != "content"}
            del body  # the page's items are all we keep
            if next_limit is not None and cursor.has_next_page:
                cursor.resize(max(1, min(most, next_limit(items, cursor.limit))))
            yield items, meta

    def close(self) -> None:
        self.session.close()


def _parse(content: bytes, path: str) -> Any:
    """The JSON body, with text no warehouse can store made storable (see validate.storable)."""
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        # orjson refuses an escaped lone surrogate (\ud800), which JSON allows: read it leniently
        try:
            return storable(json.loads(content))
        except ValueError:
            raise Retryable(
                MalformedResponseError(f"CJA API answered malformed JSON at {path} (HTTP 200)")
            ) from None
    # rare: walk the body only when it has one
    return storable(body) if needs_storable(content) else body
