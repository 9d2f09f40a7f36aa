"""Any exception as one line that says what failed and what to do about it."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from cja_source.errors import CJAError, ConfigurationError

from .text import cut

# Python module -> the extra of ours that installs it
DRIVER_EXTRAS = {"psycopg2": "postgres"}
MESSAGE_COLUMNS = 600


class WarehouseUnavailable(CJAError):
    """The warehouse exists (or should) but cannot be opened: a different cause from "no sync yet"."""


class WarehouseBusy(WarehouseUnavailable):
    """A sync holds the DuckDB file longer than a reader waits for it."""


class NoSuccessfulSync(CJAError):
    """The warehouse opens but holds no successful sync."""


def one_line(exc: BaseException) -> str:
    """Every line of the message joined (dlt puts the useful part, e.g. a TOML line and column,
    after a colon and a newline), control characters escaped, the length bounded."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = " ".join(lines) or type(exc).__name__
    return cut(text, MESSAGE_COLUMNS)


def chain(exc: BaseException) -> list[BaseException]:
    """`exc` and what caused it, outermost first (dlt's PipelineStepFailed keeps the cause in
    `exception`)."""
    seen: set[int] = set()
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        out.append(current)
        nxt = getattr(current, "exception", None)  # dlt's PipelineStepFailed keeps the cause there
        current = nxt if isinstance(nxt, BaseException) else (current.__cause__ or current.__context__)
    return out


def innermost(exc: BaseException) -> BaseException:
    """The root cause under dlt's wrappers (their own text adds advice that is often wrong here)."""
    return chain(exc)[-1]


def missing_driver(exc: BaseException) -> ConfigurationError | None:
    """A destination driver that is not installed, named with the install command that adds it."""
    from dlt.common.exceptions import MissingDependencyException

    for link in chain(exc):
        module = (getattr(link, "name", None) or "").split(".")[0]
        if isinstance(link, ModuleNotFoundError) and module in DRIVER_EXTRAS:
            return _driver_error(DRIVER_EXTRAS[module], module)
        if isinstance(link, MissingDependencyException):
            said = " ".join([str(link.caller), *map(str, link.dependencies)])
            found = next(((m, e) for m, e in DRIVER_EXTRAS.items() if m in said or e in said), None)
            if found:
                return _driver_error(found[1], found[0])
            deps = " ".join(f"'{d}'" for d in link.dependencies)
            return ConfigurationError(
                f"{link.caller} needs packages that are not installed: pip install {deps}"
            )
    return None


# what a connection string looks like, per destination that takes one
DSN_EXAMPLES = {"postgres": "postgresql://user:password@host:5432/database"}


def destination_credentials(exc: BaseException) -> ConfigurationError | None:
    """Missing or unparsable destination credentials as the one setting to fix and an example
    (dlt's own text is ~640 characters of lookup keys, or SQLAlchemy's "Could not parse ...").
    The value is never repeated: it may hold a password."""
    from dlt.common.configuration.exceptions import ConfigFieldMissingException, InvalidNativeValue

    for link in chain(exc):
        if isinstance(link, InvalidNativeValue):
            destination, problem = _destination_of(link.spec), "is not a connection string"
        elif isinstance(link, ConfigFieldMissingException) and "credentials" in link.fields:
            destination = _destination_of(type(link.config))
            # dlt keeps, per missing field, the lookups it tried: for the credentials, the
            # LookupTraces of their own fields (a string that names a host but no password)
            found = link.traces.get("credentials")
            nested = (
                next((t for t in found if hasattr(t, "traces")), None) if isinstance(found, list) else None
            )
            lacking = sorted(getattr(nested, "traces", None) or {})
            given = bool(getattr(nested, "resolved_fields_set", None))
            problem = "is not set"
            if lacking and (given or _setting(destination) in os.environ):
                problem = f"lacks {', '.join(lacking)}"
        else:
            continue
        if destination is None:
            continue
        setting = _setting(destination)
        example = DSN_EXAMPLES.get(destination)
        like = f"e.g. {example}" if example else f"see dlt's documentation of the {destination} destination"
        return ConfigurationError(
            f"{setting} {problem}: set it ({like}) or [destination.{destination}] credentials in "
            ".dlt/secrets.toml"
        )
    return None


def _setting(destination: str | None) -> str:
    return f"DESTINATION__{(destination or '').upper()}__CREDENTIALS"


def _destination_of(spec: type) -> str | None:
    """`postgres` for dlt's dlt.destinations.impl.postgres.configuration.PostgresCredentials."""
    parts = spec.__module__.split(".")
    return parts[3] if parts[:3] == ["dlt", "destinations", "impl"] and len(parts) > 3 else None


def setup_error(exc: BaseException) -> ConfigurationError | None:
    """What the user must install or set before a destination can work at all (exit 2)."""
    return missing_driver(exc) or destination_credentials(exc)


def _driver_error(extra: str, what: str) -> ConfigurationError:
    return ConfigurationError(
        f"the {extra} destination needs {what}, which is not installed: pip install 'cja-sync[{extra}]'"
    )


def as_cja_error(exc: BaseException, doing: str = "sync", where: str | None = None) -> CJAError:
    """The CJAError behind dlt's wrappers, or a one-line description of the innermost failure;
    `doing` names what failed when nothing more specific is known (`report failed: ...`), `where`
    the directory to name when a full disk does not say which file it refused."""
    import duckdb
    from dlt.common.configuration.exceptions import ConfigurationException
    from dlt.common.configuration.providers.toml import TomlProviderReadException

    links = chain(exc)
    for link in links:
        if isinstance(link, CJAError):
            return link
        if isinstance(link, OSError) and link.errno == errno.ENOSPC:
            # not "interrupted", not a dlt wrapper's text: the path that could not be written
            path = link.filename or where or "the pipelines directory"
            return CJAError(
                f"no space left on device: could not write {cut(str(path), 300)}; free space there"
            )
    if isinstance(exc, KeyboardInterrupt):
        return CJAError("interrupted")
    setup = setup_error(exc)
    if setup is not None:
        return setup
    innermost = links[-1]
    if "No space left on device" in str(innermost):  # DuckDB's own IO errors name the file in their text
        return CJAError(f"no space left on device: {one_line(innermost)}")
    for link in links:
        if isinstance(link, TomlProviderReadException):
            return ConfigurationError(f"{one_line(link)}: fix that file")
    if isinstance(innermost, duckdb.IOException):
        return CJAError(
            f"cannot open the DuckDB warehouse: {one_line(innermost)}; check --duckdb-path "
            "(the folder must exist and be writable)"
        )
    if isinstance(innermost, ConfigurationException):
        return ConfigurationError(f"destination configuration: {one_line(innermost)}")
    return CJAError(f"{doing} failed: {type(innermost).__name__}: {one_line(innermost)}")


def check_settings_files() -> None:
    """dlt skips a `secrets.toml` or `config.toml` that is not a regular file without a word, and
    the run then fails for a missing setting: name the real cause instead."""
    import dlt

    context = dlt.current.run_context()
    for folder in {context.settings_dir, context.global_dir}:
        for name in ("secrets.toml", "config.toml"):
            path = Path(folder) / name
            if path.exists() and not path.is_file():
                raise ConfigurationError(
                    f"{cut(str(path), 200)} is not a file (a directory?): dlt cannot read settings from it; "
                    "replace it with a TOML file or remove it"
                )
