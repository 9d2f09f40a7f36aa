"""`[sources.cja]` validation: each invalid value gives its one line, in the order load_settings
reports the first of them; and endpoint paths built from ids."""

from __future__ import annotations

from typing import Any

import pytest

from cja_source import settings
from cja_source.configuration import (
    CJACredentials,
    CJASourceConfiguration,
    HealthConfiguration,
    load_settings,
)
from cja_source.errors import ConfigurationError

THRESHOLDS = (
    "sources.cja.health: volume_drop_pct must be in (0, 100], volume_baseline_days, "
    "volume_min_points and history_days positive"
)
ORG_ID = "sources.cja.credentials.org_id must be an IMS org id ending in @AdobeOrg"


def _credentials(org_id: str, resolved: bool = True) -> CJACredentials:
    credentials = CJACredentials()
    credentials.client_id, credentials.client_secret, credentials.org_id = "id", "secret", org_id
    if resolved:
        credentials.resolve()
    return credentials


def _health(**values: Any) -> HealthConfiguration:
    health = HealthConfiguration()
    for name, value in values.items():
        setattr(health, name, value)
    return health


PROBLEMS = [
    # settings changed from the defaults -> the problems, in order
    pytest.param({}, [], id="the defaults are valid"),
    pytest.param(
        {"page_size": 0},
        ["sources.cja.page_size must be between 1 and 1000, got 0"],
        id="page_size 0 is refused",
    ),
    pytest.param(
        {"page_size": 1001},
        ["sources.cja.page_size must be between 1 and 1000, got 1001"],
        id="page_size above the API's maximum is refused",
    ),
    pytest.param({"page_size": 1}, [], id="page_size 1 is accepted"),
    pytest.param(
        {"requests_per_window": 0}, ["sources.cja.requests_per_window must be at least 1"], id="no requests"
    ),
    pytest.param(
        {"window_seconds": 0}, ["sources.cja.window_seconds must be positive"], id="an empty window"
    ),
    pytest.param(
        {"max_concurrency": 65},
        ["sources.cja.max_concurrency must be between 1 and 64"],
        id="over 64 at once",
    ),
    pytest.param(
        {"backfills": "always"},
        ["sources.cja.backfills must be one of auto, inline, endpoint, got 'always'"],
        id="an unknown backfills mode",
    ),
    pytest.param(
        {"request_timeout": 0},
        ["sources.cja.request_timeout must be positive and max_attempts at least 1"],
        id="a zero timeout",
    ),
    pytest.param(
        {"max_attempts": 0},
        ["sources.cja.request_timeout must be positive and max_attempts at least 1"],
        id="no attempt",
    ),
    pytest.param(
        {"base_url": "cja.adobe.io", "token_url": "ftp://ims"},
        ["sources.cja.base_url must be an http(s) URL", "sources.cja.token_url must be an http(s) URL"],
        id="URLs without http or https",
    ),
    pytest.param({"connection_ids": ["dg_abc-1", "abc_2"]}, [], id="ids with or without dg_ are accepted"),
    pytest.param(
        {"connection_ids": ["dg_ok", "has space", "-leading"]},
        ["sources.cja.connection_ids holds an invalid connection id: 'has space'"],
        id="the first invalid connection id is named, once",
    ),
    pytest.param(
        {"connection_ids": [42]},
        ["sources.cja.connection_ids holds an invalid connection id: '42'"],
        id="a connection id that is no string",
    ),
    pytest.param({"credentials": _credentials("ABC@AdobeOrg")}, [], id="an IMS org id is accepted"),
    pytest.param({"credentials": _credentials("ABC")}, [ORG_ID], id="an org id without @AdobeOrg is refused"),
    pytest.param(
        {"credentials": _credentials("ABC", resolved=False)},
        [],
        id="unresolved credentials are not judged",
    ),
    pytest.param(
        {"health": _health(stuck_after_hours=0)},
        ["sources.cja.health thresholds must be positive"],
        id="a zero stuck threshold",
    ),
    pytest.param(
        {"health": _health(stale_after_hours=-1)},
        ["sources.cja.health thresholds must be positive"],
        id="a negative stale threshold",
    ),
    pytest.param({"health": _health(volume_drop_pct=100)}, [], id="a drop of 100 percent is accepted"),
    pytest.param({"health": _health(volume_drop_pct=0)}, [THRESHOLDS], id="a drop of 0 percent is refused"),
    pytest.param({"health": _health(volume_drop_pct=101)}, [THRESHOLDS], id="a drop over 100 is refused"),
    pytest.param({"health": _health(volume_min_points=0)}, [THRESHOLDS], id="no baseline points"),
    pytest.param({"health": _health(history_days=0)}, [THRESHOLDS], id="no history kept"),
    pytest.param(
        {"page_size": 0, "max_concurrency": 0},
        [
            "sources.cja.page_size must be between 1 and 1000, got 0",
            "sources.cja.max_concurrency must be between 1 and 64",
        ],
        id="every problem is listed in order",
    ),
]


@pytest.mark.parametrize(("values", "problems"), PROBLEMS)
def test_problems(values: dict[str, Any], problems: list[str]) -> None:
    cfg = CJASourceConfiguration()
    for name, value in values.items():
        setattr(cfg, name, value)
    assert cfg.problems() == problems


def test_load_settings_raises_the_first_problem_of_explicit_values() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings({"page_size": 0, "max_concurrency": 0}, need_credentials=False)
    assert (str(caught.value), caught.value.exit_code) == (
        "sources.cja.page_size must be between 1 and 1000, got 0",
        2,
    )


def test_load_settings_refuses_an_explicit_value_of_the_wrong_type() -> None:
    with pytest.raises(ConfigurationError, match="page_size"):
        load_settings({"page_size": "many"}, need_credentials=False)


@pytest.mark.parametrize(
    ("endpoint", "ids", "path"),
    [
        pytest.param("get", {"connection_id": "dg_1"}, "/data/connections/dg_1", id="a plain id as itself"),
        pytest.param(
            "backfills",
            {"connection_id": "dg_1", "data_set_id": "a/b"},
            "/data/connections/dg_1/datasets/a%2Fb/backfills",
            id="a slash stays inside its segment",
        ),
        pytest.param(
            "get",
            {"connection_id": "x?y#z %"},
            "/data/connections/x%3Fy%23z%20%25",
            id="query and fragment marks",
        ),
    ],
)
def test_endpoint_path(endpoint: str, ids: dict[str, str], path: str) -> None:
    assert settings.endpoint_path(endpoint, **ids) == path
