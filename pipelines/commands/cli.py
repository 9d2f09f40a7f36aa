"""`cja-sync`: run, demo, simulate, health, report, alert, dbt. Exit codes: 0 ok, 1 sync failed, 2
bad usage or configuration, 3 health condition met, 4 an alert sink could not be reached, 130 and
143 interrupted by SIGINT and SIGTERM."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from ..options import DEFAULT_DUCKDB_PATH, DEMO_DUCKDB_PATH, EXIT_OK, EXIT_USAGE, wait_seconds
from .output import drop_stdout, finish_output

# a run ended by SIGINT exits 128 + 2, like a shell's job (signals.RunInterrupted: 143 for SIGTERM)
EXIT_SIGINT = 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse's own exit code is already 2; keep it one line
        self.exit(EXIT_USAGE, f"cja-sync: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from cja_source.version import __version__

    parser = _Parser(prog="cja-sync", description="Keep Adobe CJA connection metadata in a SQL warehouse.")
    parser.add_argument("--version", action="version", version=f"cja-sync {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(
        p: argparse.ArgumentParser,
        duckdb_default: str = DEFAULT_DUCKDB_PATH,
        json_help: str = "print one JSON object instead of text",
    ) -> None:
        p.add_argument(
            "--destination", default="duckdb", help="duckdb (default), postgres or any dlt destination"
        )
        p.add_argument(
            "--duckdb-path", default=duckdb_default, help=f"DuckDB file (default ./{duckdb_default})"
        )
        p.add_argument("--dataset-name", default="cja", help="dataset/schema name (default cja)")
        p.add_argument(
            "--pipelines-dir",
            default=None,
            help=f"dlt's working directory (default {_pipelines_dir_default()})",
        )
        p.add_argument("--json", action="store_true", help=json_help)
        p.add_argument("--debug", action="store_true", help="show dlt's log and tracebacks")

    run = sub.add_parser("run", help="sync the configured CJA org into the destination")
    common(run)
    run.add_argument("--full", action="store_true", help="refetch every backfill list (reconcile)")
    run.add_argument("--allow-empty", action="store_true", help="accept a listing with no connections")
    run.add_argument(
        "--convert-storage",
        action="store_true",
        help="DuckDB: rewrite the file in [cja_sync] duckdb_storage_version (DuckDB 1.4 readers open it)",
    )
    run.add_argument(
        "--org",
        action="append",
        metavar="NAME",
        help="sync only this [sources.cja.orgs.NAME] org (repeatable; default: every configured org)",
    )
    run.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress line on stderr (default: when stderr is a terminal)",
    )
    run.add_argument(
        "--wait",
        type=wait_seconds,
        default=None,
        metavar="SECONDS",
        help="wait up to SECONDS for another run of the org or of the warehouse (default: exit at once)",
    )
    run.add_argument(
        "--alert",
        action="store_true",
        help="then send the alert sinks what is new, or the failed sync's reason (exit 4: a sink failed)",
    )

    demo = sub.add_parser("demo", help=f"sync the built-in simulated org into ./{DEMO_DUCKDB_PATH}")
    common(demo, DEMO_DUCKDB_PATH)
    demo.add_argument("--full", action="store_true", help="refetch every backfill list (reconcile)")
    demo.add_argument("--connections", type=int, default=573, help="size of the simulated org (default 573)")
    demo.add_argument("--seed", type=int, default=42, help="seed of the simulated org (default 42)")

    from cja_source.simulator.cli import add_arguments as simulate_arguments

    simulate = sub.add_parser("simulate", help="serve a simulated CJA org and IMS token endpoint on loopback")
    simulate_arguments(simulate)

    health = sub.add_parser("health", help="print backfill/dataset/connection health from the views")
    common(health, json_help="print the whole report (every row) as one JSON object")
    health.add_argument(
        "--fail-on",
        default="",
        help="comma list of failed,stuck,stale,validation,drop,sync_stale: exit 3 if present",
    )
    health.add_argument(
        "--new",
        action="store_true",
        help="only conditions that did not hold at the previous successful sync (--fail-on alerts on those)",
    )
    health.add_argument(
        "--org", default=None, metavar="ORG", help="one org of a fleet: its IMS org id or configured name"
    )
    shown = health.add_mutually_exclusive_group()
    shown.add_argument(
        "--limit", type=int, default=None, metavar="N", help="show the N worst datasets (default 25)"
    )
    shown.add_argument(
        "--all", action="store_true", help="show every stuck, failed, stale or running dataset"
    )

    dbt = sub.add_parser(
        "dbt", help="build the dbt package's models and run its tests on the warehouse (needs cja-sync[dbt])"
    )
    common(dbt)
    dbt.add_argument(
        "--fresh-hours",
        type=float,
        default=None,
        metavar="HOURS",
        help="sync_freshness fails for an org whose newest successful sync is older (default 26)",
    )
    dbt.add_argument(
        "--wait",
        type=wait_seconds,
        default=None,
        metavar="SECONDS",
        help="wait up to SECONDS for a sync that holds the warehouse (default: exit at once)",
    )

    alert = sub.add_parser(
        "alert", help="send what is new and resolved since the last delivered alert to [cja_sync.alerts]"
    )
    common(alert, json_help="print what was sent to which sink as one JSON object")
    alert.add_argument(
        "--org", default=None, metavar="ORG", help="one org of a fleet: its IMS org id or configured name"
    )
    alert.add_argument(
        "--wait",
        type=wait_seconds,
        default=None,
        metavar="SECONDS",
        help="wait up to SECONDS for a sync that holds the warehouse (default: exit at once)",
    )

    report = sub.add_parser("report", help="write a self-contained HTML health dashboard")
    common(report, json_help="print {path, bytes, counts} as one JSON object instead of the path")
    report.add_argument("--out", default="health.html", help="HTML file to write (default ./health.html)")
    return parser


class _VisibleFormatter(logging.Formatter):
    """Log lines quote server answers and names: their control characters are shown, not obeyed
    (a traceback, with --debug, keeps its line breaks)."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        from ..text import visible

        return visible(super().formatMessage(record))


def _pipelines_dir_default() -> str:
    # dlt's own answer: ~/.dlt/pipelines, or /var/dlt/pipelines when running as root
    from dlt.common.pipeline import get_dlt_pipelines_dir

    try:
        return get_dlt_pipelines_dir()
    except Exception:  # noqa: BLE001 - a broken .dlt/*.toml: the command itself will report it
        return "dlt's pipelines dir"


def main(argv: Sequence[str] | None = None) -> int:
    # before the parser: its --pipelines-dir help asks dlt, which sets up its logging on first use
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    # dlt logs every schema inference warning; a scheduled job wants one line per failure
    # (even its ERROR lines carry tracebacks: our own one-line message says what failed)
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING" if debug else "CRITICAL")
    args = build_parser().parse_args(argv)
    handler = logging.StreamHandler()
    handler.setFormatter(_VisibleFormatter("cja-sync: %(message)s"))
    logging.basicConfig(level=logging.INFO if debug else logging.WARNING, handlers=[handler])
    try:
        code = _dispatch(args)
    except BrokenPipeError:
        # the reader went away before the command decided its code (`cja-sync report --json |
        # head`): not a failure of ours. A command that decides one (health --fail-on) keeps it
        # whatever happens to its output (output.reader_may_leave).
        drop_stdout()
        return EXIT_OK
    except KeyboardInterrupt:  # Ctrl-C in a command without a run (health, report, simulate)
        print("cja-sync: interrupted by SIGINT", file=sys.stderr)
        return EXIT_SIGINT
    except Exception as exc:  # noqa: BLE001 - every failure ends in one line and an exit code
        from cja_source.errors import CJAError

        from ..errors import as_cja_error
        from ..text import visible

        doing = {"run": "sync", "demo": "demo sync"}.get(args.command, args.command)
        error = exc if isinstance(exc, CJAError) else as_cja_error(exc, doing)
        if debug:
            traceback.print_exception(exc)
        # messages quote names, paths and server answers: nothing in them may steer the terminal
        print(f"cja-sync: {visible(error.message)}", file=sys.stderr)
        if getattr(error, "signum", 0):
            from ..run.signals import exit_now, received

            if received():  # our handler took the signal (never in a test calling main())
                exit_now(error.exit_code)
        return error.exit_code
    finish_output()
    return code


def _dispatch(args: argparse.Namespace) -> int:
    # commands are imported when chosen: `--version` and `--help` skip the warehouse and HTTP code
    if args.command != "simulate":
        from ..errors import check_settings_files

        check_settings_files()
    if args.command == "simulate":
        from cja_source.simulator.cli import run as simulate

        return simulate(args)
    if args.command in ("run", "demo"):
        from ..run.signals import signals_end_the_run

        with signals_end_the_run():
            if args.command == "run":
                from .run import run_command

                return run_command(args)
            from .demo import run_demo

            return run_demo(args)
    if args.command == "health":
        from .health import run_health

        return run_health(args)
    if args.command == "report":
        from .report import run_report

        return run_report(args)
    if args.command == "alert":
        from .alert import run_alert

        return run_alert(args)
    if args.command == "dbt":
        from .dbt import run_dbt_command

        return run_dbt_command(args)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
