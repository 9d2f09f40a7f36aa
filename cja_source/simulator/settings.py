"""Settings pointing at a simulator: one definition for the tests, the benchmark and `cja-sync demo`.

The simulator may know the source's settings; the source never imports the simulator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cja_source.configuration import CJASourceConfiguration, load_settings

from .core import Simulator

CREDENTIAL_KEYS = ("client_id", "client_secret", "org_id")


@dataclass(frozen=True)
class SimAddress:
    """Where a simulator listens and the credential it accepts: enough to point settings at it,
    whether it runs in this process or in another (`cja-sync simulate` prints it as one line)."""

    base_url: str
    token_url: str
    client_id: str
    client_secret: str
    org_id: str

    @classmethod
    def of(cls, sim: Simulator) -> SimAddress:
        cfg = sim.cfg
        return cls(sim.base_url, sim.token_url, cfg.client_id, cfg.client_secret, cfg.org_id)

    @classmethod
    def from_line(cls, line: str) -> SimAddress:
        """Parse `cja-sync simulate`'s first line: `base_url=... token_url=... client_id=...`."""
        parts = dict(p.split("=", 1) for p in line.split() if "=" in p)
        return cls(*(parts[k] for k in ("base_url", "token_url", *CREDENTIAL_KEYS)))

    def line(self) -> str:
        return " ".join(f"{k}={getattr(self, k)}" for k in ("base_url", "token_url", *CREDENTIAL_KEYS))

    @property
    def credentials(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in CREDENTIAL_KEYS}


def settings_values(sim: Simulator | SimAddress, **overrides: Any) -> dict[str, Any]:
    """The explicit `[sources.cja]` values for `sim`; `credentials` in overrides is merged into the
    simulator's credential (a test replacing only org_id keeps the rest valid)."""
    address = sim if isinstance(sim, SimAddress) else SimAddress.of(sim)
    credentials = {**address.credentials, **(overrides.pop("credentials", None) or {})}
    return {
        "base_url": address.base_url,
        "token_url": address.token_url,
        **overrides,
        "credentials": credentials,
    }


def settings_for(sim: Simulator | SimAddress, **overrides: Any) -> CJASourceConfiguration:
    """Validated settings for `sim`; anything not overridden comes from dlt's providers as usual."""
    return load_settings(settings_values(sim, **overrides))
