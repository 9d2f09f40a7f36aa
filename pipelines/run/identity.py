"""Which warehouse a run writes, and the dlt pipeline name that belongs to it.

dlt keeps pending load packages and state per pipeline *name* inside the pipelines directory. A
name shared by two warehouses (or two orgs) lets one run load what another left behind, so the
name is derived from everything that makes a target distinct: destination, the DuckDB file or the
Postgres server and database, the dataset and the org. `cja_<8 hex>`; `dlt pipeline <name> info`
works with the name the run summary prints."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Target:
    destination: str
    location: str  # resolved DuckDB path, or host:port/database
    dataset: str

    def label(self) -> str:
        """How messages name the target: `duckdb /srv/cja.duckdb dataset cja`."""
        return f"{self.destination} {self.location} dataset {self.dataset}"


def target_of(opts: Any) -> Target:
    """The warehouse of RunOptions `opts`, resolving Postgres credentials the way dlt will."""
    if opts.destination == "duckdb":
        return Target("duckdb", str(Path(opts.duckdb_path).resolve()), opts.dataset_name)
    return Target(opts.destination, _server_location(opts.destination, opts.dataset_name), opts.dataset_name)


def pipeline_name_for(target: Target, org_id: str, prefix: str = "cja") -> str:
    key = "\x1f".join((target.destination, target.location, target.dataset, org_id))
    return f"{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def _server_location(destination: str, dataset: str) -> str:
    """host:port/database of a SQL destination, or '' when dlt cannot tell yet (the run itself will
    then fail on the missing credentials with dlt's own message). Never the password."""
    from dlt.common.destination.reference import Destination

    try:
        dest = Destination.from_reference(destination)
        if dest is None:
            return ""
        spec: Any = dest.spec()  # _bind_dataset_name: how dlt itself gives a spec its dataset
        config = dest.configuration(spec._bind_dataset_name(dataset_name=dataset), accept_partial=True)
    except Exception:  # noqa: BLE001 - identity must not mask the configuration error dlt reports
        return ""
    creds = getattr(config, "credentials", None)
    host = getattr(creds, "host", None) or ""
    port = getattr(creds, "port", None) or ""
    database = getattr(creds, "database", None) or ""
    return f"{host}:{port}/{database}"
