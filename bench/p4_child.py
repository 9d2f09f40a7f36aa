"""P4 worker, run in a child process so its peak RSS can be read on its own.

    p4_child.py sync  --sim-line "<simulator first line>" --workdir DIR [--inline on|off] [--concurrency N]
    p4_child.py floor --sim-line "<simulator first line>" --workdir DIR [--inline on|off] [--concurrency N]

`sync`: one first full sync through cja_sync.run.sync.run_sync (dlt, DuckDB, parquet loader files).
`floor`: the same pages fetched with plain `requests` + orjson, the same rows (connections,
datasets, backfills) turned into Arrow tables and inserted into DuckDB. No dlt.
The last stdout line is one JSON object with the timings.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")

from cja_source.simulator.settings import SimAddress, settings_for  # noqa: E402


def settings(sim: SimAddress, inline: bool, concurrency: int) -> Any:
    return settings_for(
        sim,
        page_size=1000,
        requests_per_window=1_000_000,  # the simulator enforces no limit in P4
        window_seconds=1,
        max_concurrency=concurrency,
        backfills="auto",
    )


def run_sync_child(sim: SimAddress, workdir: Path, inline: bool, concurrency: int) -> dict[str, Any]:
    import dlt

    from cja_sync.run.sync import RunOptions, run_sync

    cfg = settings(sim, inline, concurrency)
    # P6: the same sync into Postgres (DESTINATION__POSTGRES__CREDENTIALS set by the parent)
    dataset = os.environ.get("CJA_BENCH_PG_DATASET")
    opts = RunOptions(
        destination="postgres" if dataset else "duckdb",
        dataset_name=dataset or "cja",
        duckdb_path=str(workdir / "p4_sync.duckdb"),
        pipelines_dir=str(workdir / "pipelines"),
        pipeline_name="bench_p4",
    )
    t0 = time.monotonic()
    summary = run_sync(cfg, opts)
    wall = time.monotonic() - t0
    steps = {}
    p = dlt.attach(pipeline_name="bench_p4", pipelines_dir=opts.pipelines_dir)
    trace = p.last_trace
    if trace is not None:
        for s in trace.steps:
            if s.started_at and s.finished_at:
                steps[s.step] = round((s.finished_at - s.started_at).total_seconds(), 2)
    return {
        "wall_seconds": round(wall, 2),
        "steps": steps,
        "requests": summary.requests,
        "rows": summary.rows,
        "statuses": summary.http_statuses,
        # DuckDB: the checkpoint and copy that publish the file readers open (seconds, bytes)
        "published": summary.published,
    }


def _jsonish(v: Any) -> Any:
    import orjson

    return orjson.dumps(v).decode() if isinstance(v, (dict, list)) else v


def run_floor(sim: SimAddress, workdir: Path, inline: bool, concurrency: int) -> dict[str, Any]:
    """The least any tool must do: fetch, parse, shape, load; each step timed."""
    import requests

    cfg = settings(sim, inline, concurrency)
    t0 = time.monotonic()
    session = requests.Session()
    headers = _floor_headers(session, sim, cfg.credentials.scopes)
    conns, listing = _floor_listing(session, sim, headers, cfg, inline)
    a = time.monotonic()
    conn_rows, ds_rows, bf_rows, need = _floor_shape(conns)
    shape_s = time.monotonic() - a
    del conns
    a = time.monotonic()
    bf_rows.extend(_floor_backfills(session, sim, headers, need, concurrency))
    bf_fetch_s = time.monotonic() - a
    counts, arrow_s, insert_s = _floor_load(workdir, conn_rows, ds_rows, bf_rows)
    return {
        "wall_seconds": round(time.monotonic() - t0, 2),
        "steps": {
            "list_fetch_incl_render": round(listing["fetch_s"], 2),
            "list_json_parse": round(listing["parse_s"], 2),
            "shape_rows": round(shape_s, 2),
            "backfill_calls": round(bf_fetch_s, 2),
            "to_arrow": round(arrow_s, 2),
            "duckdb_insert": round(insert_s, 2),
        },
        "list_pages": listing["pages"],
        "list_page_mb": round(listing["bytes"] / 1e6, 1),
        "backfill_calls": len(need),
        "rows": counts,
    }


def _floor_headers(session: Any, sim: SimAddress, scopes: str) -> dict[str, str]:
    token = session.post(
        sim.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": sim.client_id,
            "client_secret": sim.client_secret,
            "scope": scopes,
        },
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}", "x-api-key": sim.client_id, "x-gw-ims-org-id": sim.org_id}


def _floor_listing(
    session: Any, sim: SimAddress, headers: dict[str, str], cfg: Any, inline: bool
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    import orjson

    from cja_source.listing import listing_params

    params = listing_params(cfg, inline)[0]
    fetch_s = parse_s = 0.0
    conns: list[dict[str, Any]] = []
    page, pages, size = 0, 1, 0
    while page < pages:
        a = time.monotonic()
        r = session.get(
            sim.base_url + "/data/connections",
            params={**params, "limit": 1000, "page": page},
            headers=headers,
        )
        b = time.monotonic()
        body = orjson.loads(r.content)
        parse_s += time.monotonic() - b
        fetch_s += b - a
        pages = int(body.get("totalPages") or 0)
        conns.extend(body["content"])
        size = len(r.content)
        page += 1
    return conns, {"fetch_s": fetch_s, "parse_s": parse_s, "pages": pages, "bytes": size}


def _floor_shape(
    conns: list[dict[str, Any]],
) -> tuple[list[Any], list[Any], list[Any], list[tuple[str, str]]]:
    conn_rows: list[Any] = []
    ds_rows: list[Any] = []
    bf_rows: list[Any] = []
    need: list[tuple[str, str]] = []
    for c in conns:
        cid = c["id"]
        for d in c.get("dataSets") or ():
            inl = d.pop("backfills", None)
            total = (d.get("backfillSummary") or {}).get("total", 0)
            if isinstance(inl, list) and len(inl) == total:
                for bf in inl:
                    bf["connectionId"] = cid
                    bf_rows.append(bf)
            elif total:
                need.append((cid, d["dataSetId"]))
            ds_rows.append({k: _jsonish(v) for k, v in d.items()} | {"connectionId": cid})
        c.pop("dataSets", None)
        conn_rows.append({k: _jsonish(v) for k, v in c.items()})
    return conn_rows, ds_rows, bf_rows, need


def _floor_backfills(
    session: Any, sim: SimAddress, headers: dict[str, str], need: list[tuple[str, str]], concurrency: int
) -> list[dict[str, Any]]:
    import orjson

    def one(pair: tuple[str, str]) -> list[dict[str, Any]]:
        cid, dsid = pair
        out: list[dict[str, Any]] = []
        pg, tp = 0, 1
        while pg < tp:
            rr = session.get(
                f"{sim.base_url}/data/connections/{cid}/datasets/{dsid}/backfills",
                params={"sortProperty": "createdDate", "sortDirection": "ASC", "limit": 1000, "page": pg},
                headers=headers,
            )
            bb = orjson.loads(rr.content)
            tp = int(bb.get("totalPages") or 0)
            for bf in bb["content"]:
                bf["connectionId"] = cid
                out.append(bf)
            pg += 1
        return out

    rows: list[dict[str, Any]] = []
    if need:
        with ThreadPoolExecutor(concurrency) as ex:
            for got in ex.map(one, need):
                rows.extend(got)
    return rows


def _floor_load(
    workdir: Path, conn_rows: list[Any], ds_rows: list[Any], bf_rows: list[Any]
) -> tuple[dict[str, int], float, float]:
    import duckdb
    import pyarrow as pa

    a = time.monotonic()
    tables = {
        "connections": pa.Table.from_pylist(conn_rows),
        "datasets": pa.Table.from_pylist(ds_rows),
        "backfills": pa.Table.from_pylist(bf_rows),
    }
    arrow_s = time.monotonic() - a
    conn_rows.clear()
    ds_rows.clear()
    bf_rows.clear()
    a = time.monotonic()
    con = duckdb.connect(str(workdir / "p4_floor.duckdb"))
    counts = {}
    for name, tbl in tables.items():
        con.register("t", tbl)
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM t")
        con.unregister("t")
        counts[name] = tbl.num_rows
    con.close()
    return counts, arrow_s, time.monotonic() - a


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("sync", "floor"))
    ap.add_argument("--sim-line", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--inline", default="on")
    ap.add_argument("--concurrency", type=int, default=8)
    a = ap.parse_args()
    sim = SimAddress.from_line(a.sim_line)
    wd = Path(a.workdir)
    wd.mkdir(parents=True, exist_ok=True)
    fn = run_sync_child if a.mode == "sync" else run_floor
    out = fn(sim, wd, a.inline == "on", a.concurrency)
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
