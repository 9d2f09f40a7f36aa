"""The orgs of a fleet: `[sources.cja.orgs.<name>]` blocks, each resolved like `[sources.cja]`
(which it overrides setting by setting) and each with its own credentials."""

from __future__ import annotations

import os
import re
from typing import Any

from dlt.common.configuration.container import Container
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

from .configuration import CJASourceConfiguration, load_settings
from .errors import ConfigurationError

ORG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
DEFAULT_ORG = "default"


def configured_org_names() -> list[str]:
    """Names of the `[sources.cja.orgs.*]` blocks in every provider (config and secrets files each
    hold part of a block; the environment names orgs by SOURCES__CJA__ORGS__<NAME>__...)."""
    names: set[str] = set()
    for provider in Container()[PluggableRunContext].providers.providers:
        try:
            value, _ = provider.get_value("orgs", Any, None, "sources", "cja")
        except Exception:  # noqa: BLE001 - a provider that cannot answer holds no orgs
            continue
        if isinstance(value, dict):
            names.update(str(k) for k in value)
    prefix = "SOURCES__CJA__ORGS__"
    for key in os.environ:
        if key.startswith(prefix) and "__" in key[len(prefix) :]:
            names.add(key[len(prefix) :].split("__", 1)[0].lower())
    return sorted(names)


def configured_org_ids() -> dict[str, str]:
    """{IMS org id: name} of the `[sources.cja.orgs.<name>]` blocks that set one, for a reader to
    label orgs with. A block whose settings cannot be read is left out: labelling is no place to
    judge it (a sync does)."""
    names: dict[str, str] = {}
    for name in configured_org_names():
        try:
            cfg = load_settings(need_credentials=False, sections=("sources", "cja", "orgs", name))
        except ConfigurationError:
            continue
        org_id = getattr(cfg.credentials, "org_id", None)
        if org_id:
            names.setdefault(str(org_id), name)
    return names


def load_fleet(
    only: list[str] | None = None, explicit: dict[str, dict[str, Any]] | None = None
) -> dict[str, CJASourceConfiguration]:
    """Settings per org name, in name order. Without org blocks the fleet is today's single org
    (`[sources.cja]`), named "default". `explicit` (tests, the orchestrator) adds or overrides
    org blocks. Raises ConfigurationError naming the org whose settings are wrong."""
    explicit = explicit or {}
    names = sorted(set(configured_org_names()) | set(explicit))
    if not names:
        if only and only != [DEFAULT_ORG]:
            raise ConfigurationError(
                f"no org named {only[0]!r}: no [sources.cja.orgs.<name>] block is configured"
            )
        return {DEFAULT_ORG: load_settings()}
    for name in only or []:
        if name not in names:
            raise ConfigurationError(f"no org named {name!r}: configured orgs are {', '.join(names)}")
    fleet: dict[str, CJASourceConfiguration] = {}
    for name in [n for n in names if not only or n in only]:
        if not ORG_NAME.match(name):
            raise ConfigurationError(f"sources.cja.orgs: invalid org name {name[:60]!r}")
        try:
            fleet[name] = load_settings(explicit.get(name), sections=("sources", "cja", "orgs", name))
        except ConfigurationError as exc:
            raise ConfigurationError(f"org {name}: {exc.message}") from None
    seen: dict[str, str] = {}
    for name, cfg in fleet.items():
        org_id = str(cfg.credentials.org_id)
        if org_id in seen:
            raise ConfigurationError(
                f"orgs {seen[org_id]} and {name} both sync IMS org {org_id}: "
                "give each org its own credentials"
            )
        seen[org_id] = name
    return fleet
