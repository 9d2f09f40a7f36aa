"""Summarise a py-spy speedscope file: top functions by self and inclusive samples, per process.

.venv/bin/python bench/profile_summary.py bench/out/p4.speedscope.json [--top 25]
"""

from __future__ import annotations

import argparse
import collections
import json


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--match", default="", help="only stacks containing this substring")
    a = ap.parse_args()
    with open(a.path) as fh:
        doc = json.load(fh)
    frames = doc["shared"]["frames"]
    names = [f"{f['name']} ({_short(f.get('file'))}:{f.get('line', '')})" for f in frames]
    self_c: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    total = 0
    for prof in doc["profiles"]:
        for stack, w in zip(prof.get("samples", []), prof.get("weights", []), strict=False):
            labels = [names[i] for i in stack]
            if a.match and not any(a.match in x for x in labels):
                continue
            total += w
            if labels:
                self_c[labels[-1]] += w
            for lab in set(labels):
                incl[lab] += w
    print(f"samples: {total}")
    for title, c in (("self", self_c), ("inclusive", incl)):
        print(f"\n== top {a.top} by {title} ==")
        for lab, n in c.most_common(a.top):
            print(f"{100 * n / max(total, 1):5.1f}%  {lab}")


def _short(path: str | None) -> str:
    return (path or "").split("site-packages/")[-1].split("/work/main/")[-1]


if __name__ == "__main__":
    main()
