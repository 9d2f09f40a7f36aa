"""`cja-sync simulate`: serve a simulated org on loopback until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
from typing import Any

from .config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_ORG_ID, SimConfig
from .core import Simulator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", default="0", help="0 = any free port")
    parser.add_argument("--seed", default="42", help="seed of the generated org (default 42)")
    parser.add_argument("--connections", default="573", help="connections in the org (default 573)")
    parser.add_argument(
        "--datasets-per-connection",
        default="0",
        help="give every connection exactly N datasets (the benchmark's maximal org); 0 = varied",
    )
    parser.add_argument("--latency-ms", default="0", help="A or A-B milliseconds added to each data request")
    parser.add_argument("--rate-limit", default="12/6", help="N/SECONDS per client id, or 'off'")
    parser.add_argument("--error-rate", default="0", help="share of data requests answered 5xx (0..1)")
    parser.add_argument("--token-ttl", default="86399", help="token lifetime in seconds")
    parser.add_argument("--inline-backfills", default="on", help="on|off")
    parser.add_argument("--page-shape", default="guide", help="guide|spring")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID, help="client id IMS accepts")
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET, help="client secret IMS accepts")
    parser.add_argument("--org-id", default=DEFAULT_ORG_ID, help="IMS org id of the simulated org")


def _num(value: str, name: str, kind: type = int, lo: float = 0, hi: float | None = None) -> Any:
    try:
        v = kind(value)
    except ValueError:
        raise ValueError(f"--{name}: not a number: {value!r}") from None
    if v < lo or (hi is not None and v > hi):
        raise ValueError(f"--{name}: out of range: {value!r}")
    return v


def config_from_args(args: argparse.Namespace) -> tuple[SimConfig, int]:
    """Raises ValueError with a one-line message for any bad value."""
    port = _num(str(args.port), "port", int, 0, 65535)
    lat = str(args.latency_ms)
    lo_s, _, hi_s = lat.partition("-")
    lo = _num(lo_s, "latency-ms", float)
    hi = _num(hi_s, "latency-ms", float) if hi_s else lo
    if hi < lo:
        raise ValueError(f"--latency-ms: max below min: {lat!r}")
    rl: tuple[int, float] | None
    if str(args.rate_limit).lower() == "off":
        rl = None
    else:
        n_s, sep, w_s = str(args.rate_limit).partition("/")
        if not sep:
            raise ValueError(f"--rate-limit: expected N/SECONDS or off, got {args.rate_limit!r}")
        rl = (_num(n_s, "rate-limit", int, 1), _num(w_s, "rate-limit", float, 0.001))
    inline = str(args.inline_backfills).lower()
    if inline not in ("on", "off"):
        raise ValueError(f"--inline-backfills: expected on or off, got {args.inline_backfills!r}")
    if args.page_shape not in ("guide", "spring"):
        raise ValueError(f"--page-shape: expected guide or spring, got {args.page_shape!r}")
    per_connection = _num(str(args.datasets_per_connection), "datasets-per-connection", int, 0, 100_000)
    cfg = SimConfig(
        seed=_num(str(args.seed), "seed", int, -(2**63)),
        connections=_num(str(args.connections), "connections", int, 0, 100_000),
        client_id=args.client_id,
        client_secret=args.client_secret,
        org_id=args.org_id,
        rate_limit=rl,
        latency_ms=(lo, hi),
        error_rate=_num(str(args.error_rate), "error-rate", float, 0, 1),
        token_ttl=_num(str(args.token_ttl), "token-ttl", float, 0.001),
        inline_backfills=inline == "on",
        page_shape=args.page_shape,
    )
    if per_connection:
        cfg = dataclasses.replace(
            cfg,
            datasets_per_connection=per_connection,
            max_datasets_per_connection=max(cfg.max_datasets_per_connection, per_connection),
        )
    return cfg, port


def run(args: argparse.Namespace) -> int:
    try:
        cfg, port = config_from_args(args)
    except ValueError as e:
        print(f"cja-sync simulate: {e}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def _stop(*_: object) -> None:
        stop.set()

    old = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        sim = Simulator(cfg)
        try:
            sim.start(host=args.host, port=port)
        except OSError as e:
            print(f"cja-sync simulate: cannot listen on {args.host}:{port}: {e}", file=sys.stderr)
            return 2
        print(
            f"base_url={sim.base_url} token_url={sim.token_url} client_id={cfg.client_id} "
            f"client_secret={cfg.client_secret} org_id={cfg.org_id}",
            flush=True,
        )
        while not stop.wait(0.5):
            pass
        sim.stop()
        return 0
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cja-sync simulate", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
