"""What an HTTP answer means (the typed error, the Retry-After asked for, the reason of a
connection failure), and how the runner turns any exception into one line with its exit code."""

from __future__ import annotations

import errno
from typing import Any

import duckdb
import pytest
import requests
from dlt.common.configuration.exceptions import ConfigurationException
from dlt.common.configuration.providers.toml import TomlProviderReadException
from dlt.common.exceptions import MissingDependencyException

from cja_source.errors import (
    ApiError,
    AuthenticationError,
    CJAError,
    ConfigurationError,
    PermissionDeniedError,
    ServiceUnavailableError,
)
from cja_source.responses import error_for, raise_error_body, reason, retry_after, typed_error
from cja_sync.errors import as_cja_error, innermost, missing_driver, one_line

PATH = "/data/connections"
HTTP = "CJA API answered HTTP"
NO_PSYCOPG2 = (
    "the postgres destination needs psycopg2, which is not installed: pip install 'cja-sync[postgres]'"
)
HINT_401013 = "the access token was rejected; check client_id/client_secret and token_url"


def _gateway(code: str, message: str = "nope") -> dict[str, Any]:
    return {"error_code": code, "message": message}


def _service(code: str, description: str = "nope") -> dict[str, Any]:
    return {"errorCode": code, "errorDescription": description}


TYPED = [
    # body, status -> error type, its one line
    pytest.param(
        _gateway("401013"),
        401,
        AuthenticationError,
        f"Adobe gateway refused {PATH}: HTTP 401 401013 'nope'; {HINT_401013}",
        id="gateway 401 is an authentication error with the code's hint",
    ),
    pytest.param(
        _gateway("429050", "Too many requests"),
        429,
        ServiceUnavailableError,
        f"CJA API kept answering 429 429050 'Too many requests' (rate limit) at {PATH}; "
        "lower sources.cja.requests_per_window or check other users of this credential",
        id="gateway 429 says to lower the request rate",
    ),
    pytest.param(
        _gateway("502000"),
        502,
        ServiceUnavailableError,
        f"Adobe gateway refused {PATH}: HTTP 502 502000 'nope'",
        id="gateway 5xx is unavailable, without a hint for an unknown code",
    ),
    pytest.param(
        _gateway("403025", "  Forbidden  "),
        403,
        PermissionDeniedError,
        f"Adobe gateway refused {PATH}: HTTP 403 403025 'Forbidden'; the credential is not entitled "
        "for this org; check org_id and the product profile",
        id="gateway 403 is a permission error, its message trimmed",
    ),
    pytest.param(
        _gateway("400003"),
        400,
        PermissionDeniedError,
        f"Adobe gateway refused {PATH}: HTTP 400 400003 'nope'; the x-gw-ims-org-id header is "
        "missing; set sources.cja.credentials.org_id",
        id="gateway 400 is a permission error",
    ),
    pytest.param(
        _service("internal_error"),
        500,
        ServiceUnavailableError,
        f"CJA API error at {PATH}: HTTP 500 internal_error: nope",
        id="service 5xx is unavailable",
    ),
    pytest.param(
        _service("forbidden"),
        403,
        PermissionDeniedError,
        f"CJA API error at {PATH}: HTTP 403 forbidden: nope",
        id="service 403 is a permission error",
    ),
    pytest.param(
        _service("unauthorized"),
        401,
        PermissionDeniedError,
        f"CJA API error at {PATH}: HTTP 401 unauthorized: nope",
        id="service 401 is a permission error, not authentication",
    ),
    pytest.param(
        _service("not_found", ""),
        404,
        ApiError,
        f"CJA API error at {PATH}: HTTP 404 not_found: ",
        id="any other service 4xx is an API error",
    ),
]


@pytest.mark.parametrize(("body", "status", "kind", "text"), TYPED)
def test_typed_error(body: dict[str, Any], status: int, kind: type[CJAError], text: str) -> None:
    error = typed_error(body, status, PATH)
    assert (type(error), str(error), error.status) == (kind, text, status)


def _response(status: int, content: bytes = b"", headers: dict[str, str] | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = content
    response.headers.update(headers or {})
    return response


@pytest.mark.parametrize(
    ("status", "content", "kind", "text"),
    [
        pytest.param(503, b"<html>", ServiceUnavailableError, f"{HTTP} 503 at {PATH}", id="html 503"),
        pytest.param(429, b"", ServiceUnavailableError, f"{HTTP} 429 at {PATH}", id="an empty 429"),
        pytest.param(404, b"<html>", ApiError, f"{HTTP} 404 at {PATH}", id="html 4xx is an API error"),
        pytest.param(
            500,
            b'{"status": 500}',
            ServiceUnavailableError,
            f"{HTTP} 500 at {PATH}",
            id="JSON without an error code is judged by its status",
        ),
        pytest.param(
            404,
            b'{"errorCode": "not_found", "errorDescription": "no such connection"}',
            ApiError,
            f"CJA API error at {PATH}: HTTP 404 not_found: no such connection",
            id="an error body is typed by its shape",
        ),
    ],
)
def test_error_for(status: int, content: bytes, kind: type[CJAError], text: str) -> None:
    error = error_for(_response(status, content), PATH)
    assert (type(error), str(error), error.status) == (kind, text, status)


@pytest.mark.parametrize(
    ("body", "raises"),
    [
        pytest.param(_service("x"), True, id="an error body with status 200 is an error"),
        pytest.param(_gateway("x"), True, id="a gateway error body with status 200 is an error"),
        pytest.param({**_service("x"), "content": []}, False, id="a page that names an error code is data"),
        pytest.param({"content": []}, False, id="a page is data"),
        pytest.param([1], False, id="what is not an object is left to the caller"),
    ],
)
def test_error_body_with_status_200(body: Any, raises: bool) -> None:
    if raises:
        with pytest.raises(CJAError, match="HTTP 200 x"):
            raise_error_body(body, 200, PATH)
    else:
        raise_error_body(body, 200, PATH)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        pytest.param("5", 5.0, id="seconds"),
        pytest.param("1.5", 1.5, id="fractional seconds"),
        pytest.param("-3", 0.0, id="a negative wait is no wait"),
        pytest.param("soon", None, id="text is ignored"),
        pytest.param("Wed, 21 Oct 2015 07:28:00 GMT", None, id="an HTTP date is ignored"),
        pytest.param("", None, id="empty is no header"),
        pytest.param(None, None, id="no header"),
    ],
)
def test_retry_after(header: str | None, seconds: float | None) -> None:
    headers = {} if header is None else {"Retry-After": header}
    assert retry_after(_response(429, headers=headers)) == seconds


@pytest.mark.parametrize(
    ("exc", "text"),
    [
        pytest.param(
            requests.ConnectionError("Failed to resolve: [Errno -2] Name or service not known"),
            "name or service not known",
            id="an unknown host",
        ),
        pytest.param(
            requests.ConnectionError("[Errno 111] Connection refused"),
            "connection refused",
            id="nothing listening",
        ),
        pytest.param(
            requests.ConnectionError("TLS alert"), "ConnectionError", id="anything else by its type"
        ),
    ],
)
def test_reason_of_a_connection_failure(exc: Exception, text: str) -> None:
    assert reason(exc) == text


@pytest.mark.parametrize(
    ("exc", "line"),
    [
        pytest.param(ValueError("first\n\n  second  \n"), "first second", id="lines are joined and trimmed"),
        pytest.param(ValueError("a\x1b[31mred"), "a\\e[31mred", id="control characters are escaped"),
        pytest.param(ValueError(""), "ValueError", id="an empty message names the type"),
        pytest.param(ValueError("x" * 700), "x" * 599 + "…", id="a long message is cut at 600 columns"),
    ],
)
def test_one_line(exc: BaseException, line: str) -> None:
    assert one_line(exc) == line


def _caused(outer: BaseException, cause: BaseException) -> BaseException:
    outer.__cause__ = cause
    return outer


def _no_space(filename: str | None) -> OSError:
    return OSError(errno.ENOSPC, "No space left on device", *([filename] if filename else []))


TOML = TomlProviderReadException("secrets.toml", "secrets.toml", ["/p/.dlt/secrets.toml"], "Invalid (line 3)")
AS_CJA_ERROR = [
    # exception, doing, where -> error type, its one line
    pytest.param(
        ApiError("CJA API error"),
        "sync",
        None,
        ApiError,
        "CJA API error",
        id="our own error is kept as it is",
    ),
    pytest.param(
        _caused(RuntimeError("dlt step failed"), ApiError("the cause")),
        "sync",
        None,
        ApiError,
        "the cause",
        id="our error under a wrapper is found",
    ),
    pytest.param(
        _no_space("/w/x.parquet"),
        "sync",
        "/w",
        CJAError,
        "no space left on device: could not write /w/x.parquet; free space there",
        id="a full disk names the file",
    ),
    pytest.param(
        _no_space(None),
        "sync",
        "/w",
        CJAError,
        "no space left on device: could not write /w; free space there",
        id="a full disk without a file names where",
    ),
    pytest.param(
        _no_space(None),
        "sync",
        None,
        CJAError,
        "no space left on device: could not write the pipelines directory; free space there",
        id="a full disk without either names the pipelines directory",
    ),
    pytest.param(KeyboardInterrupt(), "sync", None, CJAError, "interrupted", id="ctrl-c is interrupted"),
    pytest.param(
        ModuleNotFoundError("No module named 'psycopg2'", name="psycopg2"),
        "sync",
        None,
        ConfigurationError,
        NO_PSYCOPG2,
        id="a missing driver names our extra",
    ),
    pytest.param(
        duckdb.IOException('IO Error: Could not write file "/w/x.wal": No space left on device'),
        "sync",
        None,
        CJAError,
        'no space left on device: IO Error: Could not write file "/w/x.wal": No space left on device',
        id="DuckDB's full disk is a full disk",
    ),
    pytest.param(
        TOML,
        "sync",
        None,
        ConfigurationError,
        "A problem encountered when loading secrets.toml from paths ['/p/.dlt/secrets.toml']: "
        "Invalid (line 3): fix that file",
        id="a broken settings file says fix that file",
    ),
    pytest.param(
        duckdb.IOException("IO Error: Cannot open file"),
        "sync",
        None,
        CJAError,
        "cannot open the DuckDB warehouse: IO Error: Cannot open file; check --duckdb-path "
        "(the folder must exist and be writable)",
        id="a DuckDB file that cannot be opened names the option",
    ),
    pytest.param(
        ConfigurationException("no credentials\nfor postgres"),
        "sync",
        None,
        ConfigurationError,
        "destination configuration: no credentials for postgres",
        id="dlt's configuration error is a configuration error",
    ),
    pytest.param(
        _caused(RuntimeError("wrapper advice"), ValueError("bad value")),
        "report",
        None,
        CJAError,
        "report failed: ValueError: bad value",
        id="anything else names what failed and the innermost cause",
    ),
]


@pytest.mark.parametrize(("exc", "doing", "where", "kind", "line"), AS_CJA_ERROR)
def test_as_cja_error(
    exc: BaseException, doing: str, where: str | None, kind: type[CJAError], line: str
) -> None:
    error = as_cja_error(exc, doing, where)
    assert (type(error), str(error)) == (kind, line)


@pytest.mark.parametrize(
    ("exc", "line"),
    [
        pytest.param(
            MissingDependencyException("dlt postgres destination", ["psycopg2-binary>=2.9"]),
            NO_PSYCOPG2,
            id="dlt naming a driver of ours points at our extra",
        ),
        pytest.param(
            MissingDependencyException("dlt bigquery destination", ["google-cloud-bigquery", "pyarrow"]),
            "dlt bigquery destination needs packages that are not installed: "
            "pip install 'google-cloud-bigquery' 'pyarrow'",
            id="another destination's packages are named as dlt names them",
        ),
        pytest.param(ModuleNotFoundError("x", name="yaml"), None, id="a module no extra of ours installs"),
        pytest.param(ValueError("psycopg2"), None, id="text that names a driver is no missing driver"),
    ],
)
def test_missing_driver(exc: BaseException, line: str | None) -> None:
    error = missing_driver(exc)
    assert (str(error) if error else None) == line


def test_innermost_follows_causes_and_stops_on_a_loop() -> None:
    root = ValueError("root")
    middle = _caused(RuntimeError("middle"), root)
    top = _caused(RuntimeError("top"), middle)
    root.__context__ = top  # a cycle must not loop forever
    assert innermost(top) is root
