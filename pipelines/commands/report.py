"""`cja-sync report --out health.html`: the dashboard written, its path (or {path, bytes, counts})
printed."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..options import EXIT_OK, options_from_args
from ..report import counts, read_report_data, render_html, write_page
from ..warehouse.reading import open_for_reading


def run_report(args: argparse.Namespace) -> int:
    data = read_report_data(open_for_reading(options_from_args(args, pipeline_name="cja")))
    out = Path(args.out or "health.html").resolve()
    page = render_html(data)
    write_page(out, page)
    if args.json:
        print(json.dumps({"path": str(out), "bytes": len(page.encode("utf-8")), "counts": counts(data)}))
    else:
        print(out)
    return EXIT_OK
