"""Where nothing can work, the CLI says so in seconds: nothing listening at the URL or no such host
gets a few quick tries (other connection failures, 5xx and timeouts keep the full budget)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cja_source.simulator.settings import settings_values

from .helpers import env_for
from .test_cli_messages import _free_port, cli, one_line

CREDENTIALS = {"client_id": "x", "client_secret": "s", "org_id": "A@AdobeOrg"}


def _timed_run(tmp_path: Path, values: dict[str, Any], *args: str) -> tuple[int, float, str]:
    started = time.monotonic()
    code, _, err = cli("run", *args, cwd=tmp_path, env=env_for(values))
    return code, time.monotonic() - started, err


def test_nothing_listening_ends_the_run_in_seconds_and_progress_says_why(tmp_path: Path) -> None:
    # the default budget (8 tries, backoff from 1 s) took two minutes before refusals were told apart
    port = _free_port()
    url = f"http://127.0.0.1:{port}/ims/token/v3"
    values = {"base_url": f"http://127.0.0.1:{port}", "token_url": url, "credentials": CREDENTIALS}
    code, seconds, err = _timed_run(tmp_path, values, "--progress")
    assert code == 1 and seconds < 20, (seconds, err)
    line = err.replace("\r", "\n").strip().splitlines()[-1]
    assert line.startswith(f"cja-sync: cannot reach Adobe IMS at {url} (connection refused)"), line
    assert "gave up after 3 attempts" in line, line
    # the progress line names what the run waits for instead of counters that do not move
    assert f"retrying: cannot reach Adobe IMS at {url} (connection refused)" in err, err


def test_a_base_url_where_nothing_listens_is_named_with_its_port(
    tmp_path: Path, make_sim: Callable[..., Any]
) -> None:
    base_url = f"http://127.0.0.1:{_free_port()}"
    values = settings_values(make_sim(connections=3), base_url=base_url)  # the token still comes
    code, seconds, err = _timed_run(tmp_path, values)
    assert code == 1 and seconds < 20, (seconds, err)
    line = one_line(err)
    assert line.startswith(f"cja-sync: cannot reach the CJA API at {base_url} (connection refused)"), line
    assert "check sources.cja.base_url" in line and "gave up after 3 attempts" in line, line


def test_an_unknown_host_ends_the_run_in_seconds(tmp_path: Path) -> None:
    host = "no-such-host.invalid"  # .invalid never resolves (RFC 2606)
    try:
        socket.getaddrinfo(host, 80)
    except socket.gaierror as exc:
        if exc.errno != socket.EAI_NONAME:  # no resolver here at all: nothing to tell apart
            pytest.skip(f"this machine's resolver answers {exc}")
    values = {"base_url": f"http://{host}", "token_url": f"http://{host}/ims", "credentials": CREDENTIALS}
    code, seconds, err = _timed_run(tmp_path, values)
    assert code == 1 and seconds < 20, (seconds, err)
    line = one_line(err)
    assert f"cannot reach Adobe IMS at http://{host}/ims (name or service not known)" in line, line


@pytest.fixture
def hangs_up() -> Iterator[int]:
    """A port that accepts every connection and closes it unanswered: a server that is there."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    done.set()
    thread.join()
    server.close()


def test_a_server_that_hangs_up_keeps_the_full_budget(tmp_path: Path, hangs_up: int) -> None:
    url = f"http://127.0.0.1:{hangs_up}/ims"
    values = {
        "base_url": url,
        "token_url": url,
        "max_attempts": 5,
        "backoff_base": 0.01,
        "credentials": CREDENTIALS,
    }
    code, _, err = _timed_run(tmp_path, values)
    assert code == 1
    line = one_line(err)
    assert f"cannot reach Adobe IMS at {url}" in line and "gave up after 5 attempts" in line, line
