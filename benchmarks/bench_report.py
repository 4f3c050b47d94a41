"""Report benchmark: time `build_report` on stores of 10 / 100 / 1,000 / 6,000 synthetic flights.

Each store holds seeded flights (uavsim.report.sample) with telemetry tracks of ``--points`` samples, from both
sources, so every figure (the map and simulated-vs-real included) is drawn. Target (DESIGN.md): the report for
6,000 flights, both languages, HTML and PDF, in at most 30 s.

Reference twin: the map's track layer drawn as one LineCollection (what the report does) against one
``Axes.plot`` call per track (the obvious way), same tracks, rendered to PNG; the ratio is printed.

    .venv/bin/python benchmarks/bench_report.py            # 10, 100, 1000, 6000 flights
    .venv/bin/python benchmarks/bench_report.py --quick    # 10, 100 flights
    .venv/bin/python benchmarks/bench_report.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from uavsim.report import build_report
from uavsim.report.data import gather
from uavsim.report.figures import to_png
from uavsim.report.sample import sample_flights
from uavsim.store import Store

TARGET_S = 30.0


def make_store(path: Path, n: int, seed: int, points: int) -> float:
    t0 = time.perf_counter()
    flights = sample_flights(n, seed=seed, points=points)
    with Store(path) as s:
        s.add_run(f"bench-{n}", [f for f in flights if f.source == "sim"], scenario="bench", seed=seed)
        logs = [f for f in flights if f.source == "log"]
        if logs:
            s.add_file(f"{n:064x}", "bench.tlog", logs)
    return time.perf_counter() - t0


def map_layer_twin(db: Path, limit: int) -> dict[str, float]:
    """One LineCollection vs one plot() per track, same (subsampled) tracks, PNG at 100 dpi."""
    tr = gather(db, n_boot=10, terrain=False, max_tracks=limit).tracks

    def collection() -> None:
        fig = Figure(figsize=(10, 8))
        ax = fig.add_subplot()
        ax.add_collection(LineCollection([np.column_stack(p) for p in zip(tr.lon, tr.lat, strict=True)], lw=0.5))
        ax.autoscale_view()
        to_png(fig)

    def per_track() -> None:
        fig = Figure(figsize=(10, 8))
        ax = fig.add_subplot()
        for lo, la in zip(tr.lon, tr.lat, strict=True):
            ax.plot(lo, la, lw=0.5, color="C0")
        to_png(fig)

    out = {"tracks": len(tr)}
    for name, fn in (("collection_s", collection), ("per_track_s", per_track)):
        t0 = time.perf_counter()
        fn()
        out[name] = time.perf_counter() - t0
    out["ratio"] = out["per_track_s"] / out["collection_s"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=None, help="store sizes (flights)")
    ap.add_argument("--quick", action="store_true", help="only 10 and 100 flights")
    ap.add_argument("--points", type=int, default=300, help="telemetry samples per flight")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    args = ap.parse_args()
    sizes = args.sizes or ([10, 100] if args.quick else [10, 100, 1000, 6000])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            db = Path(tmp) / f"s{n}.db"
            build_s = make_store(db, n, args.seed, args.points)
            cpu0 = time.process_time()
            res = build_report(db, Path(tmp) / f"out{n}", generated="benchmark")
            cpu = time.process_time() - cpu0  # CPU time: honest when other work shares the cores
            row = {"flights": n, "store_build_s": build_s, **{k: round(v, 3) for k, v in res["timings"].items()},
                   "cpu_s": round(cpu, 3), "load_avg_1min": round(os.getloadavg()[0], 2),
                   "bytes": {Path(f).name: Path(f).stat().st_size for f in res["files"]},
                   "tracks": res["tracks"], "meets_30s": res["timings"]["total_s"] <= TARGET_S}
            row["map_twin"] = map_layer_twin(db, n)
            rows.append(row)
            if not args.json:
                tw = row["map_twin"]
                print(f"{n:>6} flights: report {row['total_s']:6.2f} s wall, {cpu:6.2f} s CPU, "
                      f"load {row['load_avg_1min']:.1f} (gather {row['gather_s']:.2f}, "
                      f"html {row['html_vi_s'] + row['html_en_s']:.2f}, pdf {row['pdf_vi_s'] + row['pdf_en_s']:.2f}) "
                      f"| map layer {tw['tracks']} tracks: collection {tw['collection_s']:.2f} s vs per-track "
                      f"{tw['per_track_s']:.2f} s = {tw['ratio']:.1f}x | store {build_s:.1f} s")
    doc = {"benchmark": "report", "target_s_for_6000": TARGET_S, "points_per_track": args.points,
           "python": platform.python_version(), "machine": platform.machine(), "results": rows}
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        big = [r for r in rows if r["flights"] == 6000]
        if big:
            print(f"6,000 flights: {big[0]['total_s']:.1f} s wall, {big[0]['cpu_s']:.1f} s CPU "
                  f"(target <= {TARGET_S:.0f} s): "
                  f"{'PASS' if big[0]['meets_30s'] else 'FAIL'}")


if __name__ == "__main__":
    main()
