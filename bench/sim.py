"""Serve a simulated CJA org in its own process for the benchmark.

Same options as `cja-sync simulate` (see cja_source/simulator/cli.py) plus
`--datasets-per-connection N` (every connection gets exactly N datasets: the maximal org), which
the product CLI does not expose. Prints the same first line:
`base_url=... token_url=... client_id=... client_secret=... org_id=...`, then serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
import time

from cja_source.simulator.cli import add_arguments, config_from_args
from cja_source.simulator.core import Simulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/sim.py", description=__doc__)
    add_arguments(parser)
    parser.add_argument("--datasets-per-connection", type=int, default=None)
    args = parser.parse_args(argv)
    cfg, port = config_from_args(args)
    if args.datasets_per_connection:
        cfg = dataclasses.replace(
            cfg,
            datasets_per_connection=args.datasets_per_connection,
            max_datasets_per_connection=max(cfg.max_datasets_per_connection, args.datasets_per_connection),
        )
    stop = threading.Event()
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, lambda *_: stop.set())
    t0 = time.monotonic()
    sim = Simulator(cfg)
    gen_s = time.monotonic() - t0
    sim.start(host=args.host, port=port)
    print(
        f"base_url={sim.base_url} token_url={sim.token_url} client_id={cfg.client_id} "
        f"client_secret={cfg.client_secret} org_id={cfg.org_id} generate_seconds={gen_s:.2f}",
        flush=True,
    )
    while not stop.wait(0.5):
        pass
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
