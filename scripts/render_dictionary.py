"""Write docs/dictionary.md from sql/dictionary.toml (tests/test_dictionary.py fails while they differ).

Run from the repository root: .venv/bin/python scripts/render_dictionary.py"""

from __future__ import annotations

from pathlib import Path

from cja_sync.warehouse.dictionary import DOCS_PATH, render_markdown

if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / DOCS_PATH
    target.write_text(render_markdown(), encoding="utf-8")
    print(target)
