"""What the engine returns and reports: the typed record of one org's run, of a fleet, and the
listener through which a run tells its caller how the extract goes (the CLI draws a progress line
from it; Dagster and the benchmark pass none)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from cja_source.client import CJAClient

SUCCEEDED, FAILED, RUNNING = "succeeded", "failed", "running"


@dataclass
class RunSummary:
    """One org's run; `as_dict()` is the `--json` object and the source of its `sync_runs` row."""

    run_id: str
    org_id: str
    status: str
    started_at: str  # ISO 8601, UTC
    destination: str = ""
    dataset: str = ""
    pipeline: str | None = None
    full: bool | None = None
    # set once the snapshot of the warehouse was read (so: the run got as far as its extract)
    first_sync: bool | None = None
    finished_at: str | None = None
    duration_seconds: float | None = None
    rows: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    http_statuses: dict[str, int] = field(default_factory=dict)
    backfill_pairs: dict[str, int] = field(default_factory=dict)
    reconciled: dict[str, int] = field(default_factory=dict)
    repaired: dict[str, int] = field(default_factory=dict)
    views: list[str] = field(default_factory=list)
    # DuckDB: {"seconds", "bytes"} of publishing the file readers open
    published: dict[str, Any] | None = None
    notice: str | None = None
    error: str | None = None
    # the configured name of the org in a fleet
    org: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCEEDED

    def as_dict(self) -> dict[str, Any]:
        """Plain values; what a run did not get to (None) is left out."""
        return {k: v for k, v in asdict(self).items() if v is not None and v != ""}

    @classmethod
    def refused(cls, org: str, org_id: str, error: str) -> RunSummary:
        """The record of a fleet's org whose run gave no summary: another run held its lock, or the
        run raised (its own `sync_runs` row, when it got that far, says the rest)."""
        return cls(run_id="", org_id=org_id, status=FAILED, started_at="", error=error, org=org)


@dataclass
class FleetSummary:
    """A fleet run: each org's record by configured name, and the names that failed."""

    status: str
    started_at: str
    finished_at: str
    destination: str
    dataset: str
    orgs: dict[str, RunSummary]
    published: dict[str, Any] | None = None
    notice: str | None = None

    @property
    def failed(self) -> list[str]:
        return [name for name, s in self.orgs.items() if not s.succeeded]

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if v is not None and k != "orgs"}
        out["orgs"] = {name: s.as_dict() for name, s in self.orgs.items()}
        out["failed"] = self.failed
        return out


class RunListener(Protocol):
    """Told when the API-bound extract of a run starts and stops; `stats` fills as it goes."""

    def extract_started(self, client: CJAClient, stats: dict[str, int]) -> None: ...

    def extract_stopped(self) -> None: ...
