"""`cja-sync`: run, demo, simulate, health, report. Exit codes: 0 ok, 1 sync failed, 2 bad usage
or configuration, 3 health condition met."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_HEALTH = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own exit code is already 2; keep it one line
        self.exit(EXIT_USAGE, f"cja-sync: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cja-sync", description="Keep Adobe CJA connection metadata in a SQL warehouse.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(p: argparse.ArgumentParser, duckdb_default: str = "cja_sync.duckdb") -> None:
        p.add_argument(
            "--destination", default="duckdb", help="duckdb (default), postgres or any dlt destination"
        )
        p.add_argument(
            "--duckdb-path", default=duckdb_default, help=f"DuckDB file (default ./{duckdb_default})"
        )
        p.add_argument("--dataset-name", default="cja", help="dataset/schema name (default cja)")
        p.add_argument(
            "--pipelines-dir", default=None, help="dlt's working directory (default ~/.dlt/pipelines)"
        )
        p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
        p.add_argument("--debug", action="store_true", help="show dlt's log and tracebacks")

    run = sub.add_parser("run", help="sync the configured CJA org into the destination")
    common(run)
    run.add_argument("--full", action="store_true", help="refetch every backfill list (reconcile)")
    run.add_argument("--allow-empty", action="store_true", help="accept a listing with no connections")
    run.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress line on stderr (default: when stderr is a terminal)",
    )

    demo = sub.add_parser("demo", help="sync the built-in simulated org into ./cja_demo.duckdb")
    common(demo, "cja_demo.duckdb")
    demo.add_argument("--full", action="store_true")
    demo.add_argument("--connections", type=int, default=573, help="size of the simulated org (default 573)")
    demo.add_argument("--seed", type=int, default=42)

    from cja_source.simulator.cli import add_arguments as simulate_arguments

    simulate = sub.add_parser("simulate", help="serve a simulated CJA org and IMS token endpoint on loopback")
    simulate_arguments(simulate)

    health = sub.add_parser("health", help="print backfill/dataset/connection health from the views")
    common(health)
    health.add_argument(
        "--fail-on", default="", help="comma list of failed,stuck,stale,validation: exit 3 if present"
    )

    report = sub.add_parser("report", help="write a self-contained HTML health dashboard")
    common(report)
    report.add_argument("--out", default="health.html")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    # dlt logs every schema inference warning; a scheduled job wants one line per failure
    # (even its ERROR lines carry tracebacks: our own one-line message says what failed)
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING" if debug else "CRITICAL")
    logging.basicConfig(level=logging.INFO if debug else logging.WARNING, format="cja-sync: %(message)s")
    try:
        return _dispatch(args)
    except BrokenPipeError:
        # the reader went away (`cja-sync health | head`): not a failure of ours; silence the
        # interpreter's own complaint when it flushes stdout at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("cja-sync: interrupted", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - every failure ends in one line and an exit code
        from cja_source.errors import CJAError

        from .sync import as_cja_error

        error = exc if isinstance(exc, CJAError) else as_cja_error(exc)
        if debug:
            traceback.print_exception(exc)
        print(f"cja-sync: {error.message}", file=sys.stderr)
        return error.exit_code


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "simulate":
        from cja_source.simulator.cli import run as simulate

        return simulate(args)
    if args.command == "run":
        return _run(args)
    if args.command == "demo":
        from .demo import run_demo

        return run_demo(args)
    if args.command == "health":
        from .health_cli import run_health

        return run_health(args)
    if args.command == "report":
        from .report import run_report

        return run_report(args)
    raise AssertionError(args.command)


def options_from_args(args: argparse.Namespace, pipeline_name: str | None = None) -> Any:
    from .sync import RunOptions

    return RunOptions(
        destination=args.destination,
        duckdb_path=args.duckdb_path,
        dataset_name=args.dataset_name,
        pipeline_name=pipeline_name,
        pipelines_dir=args.pipelines_dir,
        full=bool(getattr(args, "full", False)),
        allow_empty=bool(getattr(args, "allow_empty", False)),
        progress=bool(
            getattr(args, "progress", None)
            if getattr(args, "progress", None) is not None
            else sys.stderr.isatty()
        ),
    )


def _run(args: argparse.Namespace) -> int:
    from cja_source.config import load_settings

    from .sync import run_sync

    cfg = load_settings()
    summary = run_sync(cfg, options_from_args(args))
    print_summary(summary, args.json)
    return EXIT_OK


def print_summary(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, default=str, sort_keys=True))
        return
    rows = ", ".join(f"{t} {n}" for t, n in summary.get("rows", {}).items())
    requests = ", ".join(f"{e} {n}" for e, n in sorted(summary.get("requests", {}).items()))
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(summary.get("http_statuses", {}).items()))
    pairs = summary.get("backfill_pairs", {})
    print(
        f"cja-sync: {summary['status']} in {summary.get('duration_seconds', 0):.1f} s "
        f"(org {summary['org_id']} -> {summary['destination']} dataset {summary['dataset']}"
        f"{', full' if summary.get('full') else ''}, pipeline {summary.get('pipeline')})"
    )
    print(f"  rows written:   {rows}")
    print(f"  API requests:   {requests} (HTTP {statuses})")
    print(
        f"  backfill lists: {pairs.get('fetch', 0)} fetched, {pairs.get('inline', 0)} inline, "
        f"{pairs.get('skip', 0)} unchanged or empty"
    )
    deleted = summary.get("reconciled", {})
    if deleted.get("connections_deleted") or deleted.get("datasets_deleted"):
        print(
            f"  deleted in source: {deleted.get('connections_deleted', 0)} connections, "
            f"{deleted.get('datasets_deleted', 0)} datasets"
        )


if __name__ == "__main__":
    sys.exit(main())
