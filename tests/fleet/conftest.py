"""Two simulated orgs configured as `[sources.cja.orgs.*]` blocks through the environment (dlt's
own provider, the same one `.dlt/secrets.toml` feeds)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

ORGS = {
    "emea": {"seed": 11, "org_id": "EMEA000000000000000000000@AdobeOrg", "client_id": "emea-client"},
    "us": {"seed": 12, "org_id": "US00000000000000000000000@AdobeOrg", "client_id": "us-client"},
}


@pytest.fixture
def two_orgs(make_sim: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Simulators per org name, each configured in the environment; `secret` overrides per org."""
    sims: dict[str, Any] = {}
    for name, org in ORGS.items():
        sim = make_sim(seed=org["seed"], connections=12, org_id=org["org_id"], client_id=org["client_id"])
        sims[name] = sim
        env = {
            "BASE_URL": sim.base_url,
            "TOKEN_URL": sim.token_url,
            "CREDENTIALS__CLIENT_ID": org["client_id"],
            "CREDENTIALS__CLIENT_SECRET": sim.cfg.client_secret,
            "CREDENTIALS__ORG_ID": org["org_id"],
        }
        for key, value in env.items():
            monkeypatch.setenv(f"SOURCES__CJA__ORGS__{name.upper()}__{key}", value)
    for key, value in {"PAGE_SIZE": "5", "BACKOFF_BASE": "0.02", "REQUESTS_PER_WINDOW": "10000"}.items():
        monkeypatch.setenv(f"SOURCES__CJA__{key}", value)
    monkeypatch.setenv("SOURCES__CJA__WINDOW_SECONDS", "1.0")
    return sims


def run_args(opts: Any) -> list[str]:
    """`cja-sync run` arguments for the warehouse of RunOptions `opts`."""
    args = ["run", "--destination", opts.destination, "--dataset-name", opts.dataset_name]
    args += ["--pipelines-dir", str(opts.pipelines_dir), "--no-progress"]
    if opts.destination == "duckdb":
        args += ["--duckdb-path", opts.duckdb_path]
    return args
