"""`python -m cja_source.simulator` end to end, and the maximal org's generation time."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from cja_source.simulator import SimConfig, Simulator

ROOT = Path(__file__).resolve().parents[2]


def test_cli_prints_first_line_and_exits_on_sigterm() -> None:
    p = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cja_source.simulator",
            "--port",
            "0",
            "--connections",
            "12",
            "--rate-limit",
            "off",
            "--page-shape",
            "spring",
            "--latency-ms",
            "0-1",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = p.stdout.readline().strip()  # type: ignore[union-attr]
        parts = dict(kv.split("=", 1) for kv in line.split(" "))
        assert list(parts) == ["base_url", "token_url", "client_id", "client_secret", "org_id"]
        assert parts["token_url"] == parts["base_url"] + "/ims/token/v3"
        assert parts["client_id"] == "cja-demo" and parts["org_id"] == "DEMO0000000000000000000@AdobeOrg"
        tok = requests.post(
            parts["token_url"],
            data={
                "grant_type": "client_credentials",
                "scope": "openid",
                "client_id": parts["client_id"],
                "client_secret": parts["client_secret"],
            },
            timeout=10,
        ).json()
        r = requests.get(
            parts["base_url"] + "/data/connections",
            timeout=10,
            headers={
                "Authorization": "Bearer " + tok["access_token"],
                "x-api-key": parts["client_id"],
                "x-gw-ims-org-id": parts["org_id"],
            },
        )
        assert r.status_code == 200 and "pageable" in r.json()
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()


def test_cli_bad_option_exits_2() -> None:
    for bad in (
        ["--rate-limit", "twelve"],
        ["--latency-ms", "5-1"],
        ["--page-shape", "xml"],
        ["--error-rate", "2"],
        ["--inline-backfills", "maybe"],
    ):
        r = subprocess.run(
            [sys.executable, "-m", "cja_source.simulator", *bad],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert r.returncode == 2, bad
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_maximal_org_generates_quickly() -> None:
    t0 = time.perf_counter()
    sim = Simulator(SimConfig(connections=1000, datasets_per_connection=100, rate_limit=None))
    elapsed = time.perf_counter() - t0
    conns = list(sim.org.conns.values())
    n_ds = sum(len(c.ds) for c in conns)
    n_bf = sum(len(d.bfs) for c in conns for d in c.ds)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nmaximal org: {len(conns)} connections, {n_ds} datasets, {n_bf} backfills in {elapsed:.2f}s, "
        f"max RSS {rss:.0f} MB"
    )
    assert len(conns) == 1000 and n_ds == 100_000 and n_bf > 400_000
    assert elapsed < 60  # sanity bound only
    # serve one full page of 1000 connections with everything, lazily rendered
    with sim:
        from .helpers import EVERYTHING, Client

        c = Client(sim)
        t0 = time.perf_counter()
        body = c.json("/data/connections", {**EVERYTHING, "limit": 1000, "page": 0})
        print(f"one 1000-connection page with all expansions: {time.perf_counter() - t0:.2f}s")
        assert body["totalElements"] == 1000 and len(body["content"]) == 1000


def test_cli_datasets_per_connection_gives_every_connection_that_many() -> None:
    import argparse

    from cja_source.simulator.cli import add_arguments, config_from_args

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    cfg, _ = config_from_args(parser.parse_args(["--connections", "4", "--datasets-per-connection", "150"]))
    assert (cfg.datasets_per_connection, cfg.max_datasets_per_connection) == (150, 150)
    default, _ = config_from_args(parser.parse_args([]))
    assert default.datasets_per_connection is None
    with pytest.raises(ValueError, match="--datasets-per-connection"):
        config_from_args(parser.parse_args(["--datasets-per-connection", "-1"]))
