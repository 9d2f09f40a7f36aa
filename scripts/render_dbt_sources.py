"""Write dbt_cja_sync/models/sources.yml from sql/dictionary.toml and the contract's keys
(tests/dbt/test_dbt_package.py fails while they differ).

Run from the repository root: .venv/bin/python scripts/render_dbt_sources.py"""

from __future__ import annotations

from pathlib import Path

from cja_sync.warehouse.dbt_sources import SOURCES_PATH, render_sources

if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / SOURCES_PATH
    target.write_text(render_sources(), encoding="utf-8")
    print(target)
