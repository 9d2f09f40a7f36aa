"""Every example in README.md and docs/*.md runs, or says why it cannot (issue 24).

Fenced blocks are checked by their info string (docs/development.md, "Docs that run"): `cja-sync`
command lines parse with the real parser and the reading ones run against a demo warehouse; a
script that starts a simulator runs whole; Python runs against a simulator; TOML keys are real
settings; SQL runs on DuckDB, and on Postgres when marked so. Also: the README's length, every
relative link and anchor, every option documented, and docs/cli.md generated from the parser.

Regenerate docs/cli.md: .venv/bin/python -m tests.test_docs
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import io
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tomllib
import types
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import pytest

from .helpers import DEMO_CONNECTIONS, PG_URL, SETTINGS_PREFIXES, DemoRun, quiet_main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CLI_DOC = ROOT / "docs" / "cli.md"
DOC_FILES = [README, *sorted((ROOT / "docs").glob("*.md"))]
BIN = Path(sys.executable).parent
QUICKSTART = (
    "python3.11 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/cja-sync demo",
    "bash scripts/test.sh",
)
README_MAX_LINES = 330

# info strings of the blocks this file checks; `text` and unlabeled blocks are output, not examples
SHELL = {"bash", "sh", "cron", "yaml", "ini"}
CHECKED = SHELL | {"python", "toml", "sql"}
OUTPUT = {"", "text"}

# shell words that end one command and start another; redirections and the word they take
SEPARATORS = {"&&", "||", ";", "|", "&", "(", ")", "{", "}", ";;", "|&"}
REDIRECTS = {">", ">>", "<", ">&", "&>", "<&", ">|", "&>>", "<<"}
# commands that read a warehouse (or make the demo's): they run; the others only parse
RUNNABLE = {"demo", "health", "report"}

# sections outside cja-sync's own that the docs set, and their keys (dlt's settings)
DLT_KEYS = {
    ("normalize", "parquet_normalizer"): {"add_dlt_id", "add_dlt_load_id"},
    ("extract",): {"next_item_mode"},
    ("sources", "data_writer"): {"buffer_max_items"},
    ("normalize", "data_writer"): {"buffer_max_items"},
    ("destination", "postgres"): {"credentials"},
}


# ----- reading the docs -----


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    info: str
    text: str

    @property
    def lang(self) -> str:
        words = self.info.split()
        return words[0].lower() if words else ""

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")


def fenced_blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence = m["indent"], m["fence"]
        body, j = [], i + 1
        while j < len(lines):
            stripped = lines[j].strip()
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                break
            body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j].lstrip())
            j += 1
        blocks.append(Block(path, i + 1, m["info"].strip(), "\n".join(body) + "\n"))
        i = j + 1
    return blocks


def prose(path: Path) -> str:
    """The page without its fenced blocks (links and headings in code do not count)."""
    out, inside = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = FENCE.match(line)
        if m and (inside is None or m["fence"].startswith(inside)):
            inside = None if inside else m["fence"]
            continue
        if inside is None:
            out.append(line)
    return "\n".join(out)


BLOCKS = [b for p in DOC_FILES for b in fenced_blocks(p)]


def blocks_of(*langs: str) -> list[Block]:
    return [b for b in BLOCKS if b.lang in langs]


def shell_texts(block: Block) -> list[str]:
    """The shell command lines a block holds: a script, a crontab's commands, a workflow's `run:`
    steps, a unit file's Exec lines."""
    if block.lang == "yaml":
        import yaml

        runs: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for key, value in node.items():
                    if key == "run" and isinstance(value, str):
                        runs.append(value)
                    walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(yaml.safe_load(block.text))
        return runs
    if block.lang == "ini":
        return [m[1] for m in re.finditer(r"^Exec\w*=(.*)$", block.text, re.M)]
    if block.lang == "cron":
        entries = []
        for line in block.text.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                fields = line.split(None, 1 if line.startswith("@") else 5)
                entries.append(fields[-1])
        return entries
    return [block.text.replace("\\\n", " ")]


def is_cja_sync(word: str) -> bool:
    return os.path.basename(word.rsplit("=", 1)[-1]) == "cja-sync"


def without_comment(line: str) -> str:
    """The line up to a `#` that starts a word outside quotes (a shell comment)."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def cja_sync_commands(text: str) -> list[list[str]]:
    """The arguments of every `cja-sync` command in shell text, without redirections."""
    commands = []
    for line in text.splitlines():
        # `2>&1`, `2>/dev/null`: a number touching a redirection is a file descriptor, not an argument
        line = re.sub(r"(?<![\w-])\d+(?:>>?|<)(?:&\d+|\s*[^\s;&|]+)", " ", without_comment(line))
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split, lexer.commenters = True, ""
        words = list(lexer)
        i = 0
        while i < len(words):
            if not is_cja_sync(words[i]):
                i += 1
                continue
            args, i = [], i + 1
            while i < len(words) and words[i] not in SEPARATORS:
                if words[i] in REDIRECTS:
                    i += 2
                else:
                    args.append(words[i])
                    i += 1
            commands.append(args)
    return commands


def is_script(block: Block) -> bool:
    """A bash block that starts a simulator in the background runs whole, as a script."""
    return block.lang in ("bash", "sh") and bool(re.search(r"cja-sync simulate\b.*&\s*$", block.text, re.M))


@dataclass(frozen=True)
class Command:
    block: Block
    args: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.block.where} {' '.join(self.args)}"[:120]


COMMANDS = [
    Command(b, tuple(args))
    for b in blocks_of(*SHELL)
    for text in shell_texts(b)
    for args in cja_sync_commands(text)
]


# ----- the parser -----


def parse(args: list[str] | tuple[str, ...]) -> argparse.Namespace | None:
    """The namespace the real parser makes of `args`; None for --version/--help. A refusal fails the
    test with the parser's own line."""
    from cja_sync.commands.cli import build_parser

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            return build_parser().parse_args(list(args))
    except SystemExit as exc:
        if exc.code == 0 and {"--version", "--help", "-h"} & set(args):
            return None
        raise AssertionError(f"cja-sync {' '.join(args)}: {err.getvalue().strip()}") from None


def refusal(ns: argparse.Namespace) -> str | None:
    """What the command would refuse after parsing (exit 2), for the values the parser lets through."""
    from cja_sync.commands.health import CONDITIONS

    duckdb = getattr(ns, "destination", None) == "duckdb"
    if duckdb and Path(ns.duckdb_path).stem.lower() == ns.dataset_name.lower():
        return f"the DuckDB file {ns.duckdb_path} is named like the dataset {ns.dataset_name}"
    if ns.command == "health":
        unknown = [c for c in (ns.fail_on or "").split(",") if c.strip() and c.strip() not in CONDITIONS]
        if unknown:
            return f"unknown --fail-on condition {unknown[0]}"
        if ns.limit is not None and ns.limit < 1:
            return "--limit must be at least 1"
    if ns.command == "simulate":
        from cja_source.simulator.cli import config_from_args

        try:
            config_from_args(ns)
        except ValueError as exc:
            return str(exc)
    return None


# ----- fixtures: a demo warehouse, a simulator, a synced Postgres schema -----


def _clean_environ(mp: pytest.MonkeyPatch) -> None:
    """No settings of the machine running the tests reach the examples."""
    for name in list(os.environ):
        if name.startswith(SETTINGS_PREFIXES):
            mp.delenv(name)


@pytest.fixture
def demo_home(demo_run: DemoRun) -> Path:
    """A directory where `cja-sync demo --connections 40` wrote ./cja_demo.duckdb (conftest.py)."""
    return demo_run.home


@pytest.fixture(scope="module")
def simulator() -> Iterator[Any]:
    from cja_source.simulator import SimConfig, Simulator

    with Simulator(SimConfig(seed=1, connections=int(DEMO_CONNECTIONS), rate_limit=None)) as sim:
        yield sim


def _postgres() -> Any:
    import psycopg2

    try:
        return psycopg2.connect(PG_URL, connect_timeout=3)
    except psycopg2.Error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is not reachable at {PG_URL} (CI=true: Postgres tests must run)")
        pytest.skip("PostgreSQL is not reachable")


@pytest.fixture(scope="module")
def pg_schema(simulator: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Postgres schema synced from the simulator; dropped afterwards."""
    from cja_sync.run.sync import RunOptions, run_sync

    from .helpers import fast_settings

    _postgres().close()
    name = f"cja_docs_{uuid.uuid4().hex[:10]}"
    try:
        with pytest.MonkeyPatch.context() as mp:
            _clean_environ(mp)
            mp.setenv("DESTINATION__POSTGRES__CREDENTIALS", PG_URL)
            pipelines = tmp_path_factory.mktemp("pg_pipelines")
            run_sync(
                fast_settings(simulator),
                RunOptions(destination="postgres", dataset_name=name, pipelines_dir=str(pipelines)),
            )
        yield name
    finally:
        conn = _postgres()
        conn.autocommit = True
        with conn.cursor() as cur:
            for schema in (name, f"{name}_staging"):
                cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.close()


def subprocess_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_PREFIXES)}
    env["DLT_DATA_DIR"] = str(home / "dlt")  # the pipelines directory, out of ~/.dlt
    return {**env, **extra}


def simulator_env(sim: Any) -> dict[str, str]:
    from cja_source.simulator.settings import settings_values

    from .helpers import env_for

    return env_for(settings_values(sim))


# ----- shell: every cja-sync command parses; the reading ones run -----


def test_the_readme_keeps_the_two_quickstart_commands() -> None:
    quickstart = [b for b in fenced_blocks(README) if b.lang == "bash"][0]
    for command in QUICKSTART:
        assert command in quickstart.text, f"README's first bash block lost `{command}`"
    assert (ROOT / "scripts" / "test.sh").is_file()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.id)
def test_every_cja_sync_command_parses(command: Command) -> None:
    ns = parse(command.args)
    problem = ns and refusal(ns)
    assert not problem, f"{command.block.where}: cja-sync {' '.join(command.args)}: {problem}"


def test_every_module_named_with_dash_m_imports() -> None:
    named = {
        m[1]
        for b in blocks_of(*SHELL)
        for text in shell_texts(b)
        for m in re.finditer(r"-m\s+(cja_[\w.]+)", text)
    }
    assert named, "no `-m cja_...` in the docs: the Dagster and simulator examples are gone"
    for module in sorted(named):
        importlib.import_module(module)


def _runnable(command: Command) -> bool:
    if is_script(command.block):
        return False  # runs whole, in test_scripts_that_start_a_simulator_run
    try:
        ns = parse(command.args)
    except AssertionError:
        return False  # test_every_cja_sync_command_parses says why
    return bool(
        ns is not None
        and ns.command in RUNNABLE
        and ns.destination in ("duckdb", "postgres")
        and not getattr(ns, "org", None)
    )


RUNNABLE_COMMANDS = [c for c in COMMANDS if _runnable(c)]


def _option(args: list[str], name: str) -> int | None:
    return args.index(name) if name in args else None


@pytest.mark.parametrize("command", RUNNABLE_COMMANDS, ids=lambda c: c.id)
def test_documented_demo_health_and_report_commands_run(
    command: Command,
    demo_run: DemoRun,
    demo_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: Any,
) -> None:
    ns = parse(command.args)
    assert ns is not None
    args = list(command.args)
    _clean_environ(monkeypatch)
    monkeypatch.chdir(tmp_path)
    if ns.destination == "postgres":
        schema = request.getfixturevalue("pg_schema")
        monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", PG_URL)
        at = _option(args, "--dataset-name")
        args = args[:at] + args[at + 2 :] if at is not None else args
        args += ["--dataset-name", schema]
    elif ns.command == "demo":
        if _option(args, "--connections") is None:
            args += ["--connections", DEMO_CONNECTIONS]
        if args == list(demo_run.args[: len(args)]):
            # the very command the demo_run fixture ran (eight syncs, ~20 s): its outcome, not a rerun
            assert demo_run.code == 0 and demo_run.file.is_file(), demo_run.err
            assert Path(ns.duckdb_path).name == demo_run.file.name
            return
    else:
        # the file the command names is a copy of the demo warehouse here, under the same name
        name = Path(ns.duckdb_path).name
        shutil.copyfile(demo_home / "cja_demo.duckdb", tmp_path / name)
        at = _option(args, "--duckdb-path")
        if at is not None:
            args[at + 1] = name
    at = _option(args, "--out")
    if at is not None:
        args[at + 1] = Path(args[at + 1]).name
    args += ["--pipelines-dir", str(tmp_path / "pipelines")]
    code, out, err = quiet_main(args)
    allowed = {0, 3} if getattr(ns, "fail_on", "") else {0}
    assert code in allowed, f"{command.block.where}: cja-sync {' '.join(args)} exited {code}: {err}"
    if ns.json:
        json.loads(out)
    if ns.command == "report":
        assert Path(ns.out).name in out
        assert (tmp_path / Path(ns.out).name).stat().st_size > 100_000
    if ns.command == "demo":
        assert (tmp_path / Path(ns.duckdb_path).name).is_file()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SCRIPTS = [b for b in blocks_of("bash", "sh") if is_script(b)]


@pytest.mark.parametrize("block", SCRIPTS, ids=lambda b: b.where)
def test_scripts_that_start_a_simulator_run(block: Block, tmp_path: Path) -> None:
    if not shutil.which("curl"):
        pytest.skip("the script uses curl")
    ports = set(re.findall(r"--port (\d+)", block.text))
    assert len(ports) == 1, f"{block.where}: one --port for the simulator"
    script = block.text.replace(".venv/bin/", f"{BIN}/").replace(ports.pop(), str(_free_port()))
    proc = subprocess.Popen(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=tmp_path,
        env=subprocess_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=90)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # the script's own group: its simulator too
    assert proc.returncode == 0, f"{block.where} failed ({proc.returncode}):\n{out[-3000:]}\n{err[-3000:]}"
    assert "succeeded" in out, out


# ----- Python -----


OURS = ("cja_source", "cja_sync")
# folders of the repository that no installation has as packages
REPO_ONLY = {"pipelines", "sql", "tests", "bench", "scripts"}


def _cja_imports(tree: ast.AST) -> list[tuple[str, list[str]]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in OURS:
            found.append((str(node.module), [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.split(".")[0] in OURS]
    return found


@pytest.mark.parametrize("block", blocks_of("python"), ids=lambda b: b.where)
def test_python_examples_compile_and_their_imports_exist(block: Block) -> None:
    tree = ast.parse(block.text, filename=block.where)
    compile(tree, block.where, "exec")
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        for name in names:
            assert name.split(".")[0] not in REPO_ONLY, (
                f"{block.where}: `{name}` is a folder of the repository, not an installed package "
                "(the runner installs as cja_sync)"
            )
    for module, names in _cja_imports(tree):
        imported = importlib.import_module(module)
        for name in names:
            assert hasattr(imported, name), f"{block.where}: {module} has no {name}"
    words = block.info.split()
    if len(words) > 1:
        assert words[1] == "no-run:" and len(words) > 2, f"{block.where}: write `python no-run: <reason>`"


RUN_PYTHON = [b for b in blocks_of("python") if "no-run:" not in b.info]


@pytest.mark.parametrize("block", RUN_PYTHON, ids=lambda b: b.where)
def test_python_examples_run_against_a_simulator(
    block: Block, simulator: Any, demo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copyfile(demo_home / "cja_demo.duckdb", tmp_path / "cja_demo.duckdb")
    done = subprocess.run(
        [sys.executable, "-c", block.text],
        cwd=tmp_path,
        env=subprocess_env(tmp_path, **simulator_env(simulator)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"{block.where}:\n{done.stderr[-3000:]}"
    pipeline = re.search(r"dlt\.pipeline\(\"(\w+)\"", block.text)
    if pipeline and "finish_sync(" in block.text:
        # what the README promises of a plain dlt pipeline: health reads its warehouse
        _clean_environ(monkeypatch)
        monkeypatch.chdir(tmp_path)
        file = f"{pipeline[1]}.duckdb"
        code, _, err = quiet_main(["health", "--duckdb-path", file, "--pipelines-dir", str(tmp_path / "p")])
        assert code == 0, err


# ----- TOML -----


def _unwrap(hint: Any) -> Any:
    while True:
        origin = get_origin(hint)
        if origin in (Union, types.UnionType):
            hint = next(a for a in get_args(hint) if a is not type(None))
        elif hasattr(hint, "__metadata__"):  # Annotated[str, ...], dlt's secret strings
            hint = get_args(hint)[0]
        else:
            return hint


def _fits(value: Any, hint: Any) -> bool:
    hint = _unwrap(hint)
    if get_origin(hint) is list:
        (item,) = get_args(hint)
        return isinstance(value, list) and all(_fits(v, item) for v in value)
    if hint is bool:
        return isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(hint, type) and hasattr(hint, "get_resolvable_fields"):
        return isinstance(value, dict)
    return isinstance(value, hint)


def _check_spec(
    table: dict[str, Any], spec: Any, path: str, extra: dict[str, Any] | None = None
) -> list[str]:
    fields = dict(spec.get_resolvable_fields())
    problems = []
    for key, value in table.items():
        if extra and key in extra:
            problems += extra[key](value, f"{path}.{key}")
        elif key not in fields:
            problems.append(f"[{path}] has no setting {key!r}")
        elif not _fits(value, fields[key]):
            problems.append(f"{path}.{key} = {value!r} is not a {_unwrap(fields[key])}")
        elif isinstance(value, dict):
            problems += _check_spec(value, _unwrap(fields[key]), f"{path}.{key}")
    return problems


def toml_problems(doc: dict[str, Any]) -> list[str]:
    from cja_source.configuration import CJASourceConfiguration
    from cja_sync.settings import RunnerConfiguration

    def orgs(value: Any, path: str) -> list[str]:
        problems = []
        for name, org in value.items():
            if "max_parallel_orgs" in org:
                problems.append(f"{path}.{name}.max_parallel_orgs: read from [sources.cja] only")
            problems += _check_spec(org, CJASourceConfiguration, f"{path}.{name}")
        return problems

    problems = []

    def walk(node: dict[str, Any], path: tuple[str, ...]) -> None:
        if path == ("sources", "cja"):
            problems.extend(_check_spec(node, CJASourceConfiguration, "sources.cja", {"orgs": orgs}))
            return
        if path == ("cja_sync",):
            problems.extend(_check_spec(node, RunnerConfiguration, "cja_sync"))
            return
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, (*path, key))
            elif key not in DLT_KEYS.get(path, set()):
                section = ".".join(path)
                problems.append(f"[{section}] {key}: neither a cja-sync setting nor a dlt one the docs use")

    walk(doc, ())
    return problems


@pytest.mark.parametrize("block", blocks_of("toml"), ids=lambda b: b.where)
def test_toml_examples_hold_real_settings(block: Block) -> None:
    doc = tomllib.loads(block.text)
    assert not toml_problems(doc), f"{block.where}: {toml_problems(doc)}"


def test_the_toml_check_refuses_a_setting_that_does_not_exist() -> None:
    assert toml_problems({"sources": {"cja": {"health": {"stuck_hours": 1}}}})
    assert toml_problems({"sources": {"cja": {"page_size": "many"}}})
    assert toml_problems({"cja_sync": {"storage_version": "v1.4.0"}})
    assert not toml_problems(
        {"sources": {"cja": {"orgs": {"eu": {"credentials": {"org_id": "x@AdobeOrg"}}}}}}
    )


# ----- SQL -----


DUCKDB_SQL = [b for b in blocks_of("sql") if "postgres" not in b.info]
POSTGRES_SQL = [b for b in blocks_of("sql") if "postgres" in b.info]


@pytest.mark.parametrize("block", DUCKDB_SQL, ids=lambda b: b.where)
def test_sql_examples_run_on_a_synced_duckdb_warehouse(
    block: Block, demo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb

    monkeypatch.chdir(tmp_path)
    con = duckdb.connect()
    try:
        attached = re.findall(r"ATTACH\s+'([^']+)'", block.text, re.I)
        if attached:  # the example opens the file itself: a copy of the demo under that name, here
            for name in attached:
                shutil.copyfile(demo_home / "cja_demo.duckdb", tmp_path / Path(name).name)
        else:
            con.execute(f"ATTACH '{demo_home / 'cja_demo.duckdb'}' AS docs_wh (READ_ONLY)")
            con.execute("USE docs_wh")
        text = block.text
        for name in attached:
            text = text.replace(f"'{name}'", f"'{Path(name).name}'")
        statements = con.extract_statements(text)
        assert statements, f"{block.where}: no statement"
        for statement in statements:
            con.execute(statement).fetchall()
    finally:
        con.close()


@pytest.mark.postgres
@pytest.mark.parametrize("block", POSTGRES_SQL, ids=lambda b: b.where)
def test_postgres_sql_examples_run_on_a_synced_schema(block: Block, pg_schema: str) -> None:
    suffix = uuid.uuid4().hex[:8]
    text = re.sub(r"\bcja\b", f'"{pg_schema}"', block.text)
    text = re.sub(r"\b(cja_\w*reader)\b", rf"\1_{suffix}", text)  # a role is the whole server's
    conn = _postgres()
    try:
        with conn.cursor() as cur:
            cur.execute(text)
    finally:
        conn.rollback()
        conn.close()


# ----- pages, links, length, the CLI reference -----


def test_every_fenced_block_is_checked_or_is_output() -> None:
    unknown = [f"{b.where} ```{b.info}" for b in BLOCKS if b.lang not in CHECKED | OUTPUT]
    assert not unknown, f"blocks no test checks (use one of {sorted(CHECKED)}, or text): {unknown}"


def test_readme_is_a_front_door() -> None:
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move reference content to docs/"


def slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for line in prose(path).splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*$", line)
        if m:
            base = slug(m[1])
            n = seen.get(base, 0)
            seen[base] = n + 1
            out.add(base if n == 0 else f"{base}-{n}")
    return out


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def test_every_relative_link_and_anchor_points_somewhere() -> None:
    broken = []
    for page in DOC_FILES:
        for target in LINK.findall(prose(page)):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
                continue
            file, _, anchor = target.partition("#")
            resolved = (page.parent / file).resolve() if file else page
            if not resolved.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_the_index_links_every_page() -> None:
    index = prose(ROOT / "docs" / "index.md")
    readme = prose(README)
    missing = [p.name for p in DOC_FILES[1:] if p.name != "index.md" and f"({p.name}" not in index]
    assert not missing, f"docs/index.md does not link {missing}"
    assert "(docs/index.md)" in readme


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    from cja_sync.commands.cli import build_parser

    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_option_of_every_command_is_documented_by_hand() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in DOC_FILES if p != CLI_DOC)
    missing = [
        f"{name} {option}"
        for name, sub in _subcommands().items()
        for action in sub._actions
        for option in action.option_strings
        if option not in ("-h", "--help") and not re.search(re.escape(option) + r"(?![\w-])", text)
    ]
    assert not missing, f"options no page explains: {missing}"


def render_cli_reference() -> str:
    """docs/cli.md: every command and option, from the parser."""
    from dlt.common.pipeline import get_dlt_pipelines_dir

    from cja_sync.commands.cli import build_parser

    machine_default = get_dlt_pipelines_dir()
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in action._choices_actions}

    def cell(text: str | None) -> str:
        text = (text or "").replace(machine_default, "~/.dlt/pipelines, or /var/dlt/pipelines as root")
        return text.replace("|", "\\|")

    lines = [
        "# Command reference",
        "",
        "<!-- generated from the parser (cja_sync.commands.cli.build_parser) by",
        "     `.venv/bin/python -m tests.test_docs`; tests/test_docs.py fails while they differ -->",
        "",
        f"{parser.description} `cja-sync --version` prints the version; `cja-sync <command> --help`",
        "prints a command's options. Exit codes: 0 ok, 1 the sync failed (or `health`/`report` found",
        "nothing to read), 2 bad usage or configuration, 3 a `health --fail-on` condition holds,",
        "130 and 143 interrupted by SIGINT and SIGTERM",
        "([reliability.md](reliability.md#clear-errors-and-exit-codes)).",
        "",
    ]
    lines += [f"- [`cja-sync {name}`](#cja-sync-{name}): {helps[name]}" for name in action.choices]
    for name, sub in action.choices.items():
        lines += ["", f"## `cja-sync {name}`", "", f"{helps[name][0].upper()}{helps[name][1:]}.", ""]
        lines += ["| option | value | what it does |", "|---|---|---|"]
        for option in sub._actions:
            if isinstance(option, argparse._HelpAction):
                continue
            names = ", ".join(f"`{o}`" for o in option.option_strings)
            value = "" if option.nargs == 0 else f"`{option.metavar or option.dest.upper()}`"
            lines.append(f"| {names} | {value} | {cell(option.help)} |")
        for group in sub._mutually_exclusive_groups:
            together = " and ".join(f"`{a.option_strings[0]}`" for a in group._group_actions)
            lines += ["", f"{together} exclude each other."]
    return "\n".join(lines) + "\n"


def test_the_cli_reference_is_generated_from_the_parser() -> None:
    assert CLI_DOC.exists() and CLI_DOC.read_text(encoding="utf-8") == render_cli_reference(), (
        "docs/cli.md differs from the parser: run .venv/bin/python -m tests.test_docs"
    )


if __name__ == "__main__":
    CLI_DOC.write_text(render_cli_reference(), encoding="utf-8")
    print(CLI_DOC)
