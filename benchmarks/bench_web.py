"""Workbench benchmark: server time of the dashboard over a simulated campaign store (~6,000 flights) and of a
flight page for a one-hour log. Targets (issue 16): at most 1 s each.

- The store is filled by the simulator (the campaign year of missions/dienbien, as ``uavsim simulate --db``).
- The one-hour log is a .tlog written by the simulator's tlog writer from a one-hour survey track over the
  sandbox's terrain (1 Hz), and imported by ``uavsim.logs.ingest`` with terrain checks: a real import path.
- Server time is measured in process through Starlette's test client (no network), median of ``--repeat``
  requests after one warm-up. The reference beside it, same process: what ``uavsim stats --json`` and
  ``uavsim flights`` do for the dashboard (load + summarize), and ``Store.flight`` + JSON for the flight page,
  so the ratio shows what the page adds.

    .venv/bin/python benchmarks/bench_web.py [--repeat 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from uavsim.records import Flight, Telemetry
from uavsim.safety import stats
from uavsim.store import Store
from uavsim.web.app import WebConfig, create_app

TARGET_S = 1.0
HOUR_S = 3600


def fill_campaign(db: Path) -> tuple[int, float]:
    from uavsim.sim.campaign import plan_campaign, run_campaign

    t0 = time.perf_counter()
    res = run_campaign(plan_campaign())
    with Store(db) as s:
        s.add_run(res.run_id, res.flights, scenario="missions/dienbien", seed=res.seed, summary=res.summary)
    return len(res.flights), time.perf_counter() - t0


def hour_log(path: Path) -> Path:
    """A one-hour survey flight as a .tlog: lawnmower lanes at 8 m/s, 80 m above the launch point."""
    from uavsim.sim.tlog_writer import write_tlog
    from uavsim.terrain import open_dem

    t = np.arange(0.0, HOUR_S + 1.0)
    lat0, lon0 = 21.5197, 103.2174  # the first site of missions/dienbien/sites.toml
    lane = (t // 120).astype(int)
    along = (t % 120) / 120.0
    along = np.where(lane % 2 == 0, along, 1.0 - along)
    lat = lat0 + 0.008 * along
    lon = lon0 + 0.0006 * lane
    ground = open_dem().elevation(lat, lon)
    ground = np.where(np.isfinite(ground), ground, np.nanmean(ground))
    rel = np.clip(np.minimum(t, HOUR_S - t) * 2.0, 0.0, 80.0)
    tel = Telemetry(t, lat, lon, ground[0] + rel, rel, np.full(t.shape, 8.0), 100.0 - 70.0 * t / HOUR_S,
                    np.zeros(t.shape, np.int16), ["AUTO"])
    f = Flight(id="bench-hour", source="sim", source_ref="bench", mission_type="survey", start_utc="2026-03-02T01:00:00Z",
               duration_s=float(HOUR_S), outcome="safe", telemetry=tel)
    return write_tlog(f, path)


def timed(fn, repeat: int) -> float:
    fn()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

    from uavsim.logs.ingest import ingest
    from uavsim.scenario import DEFAULT_SCENARIO

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "campaign.db"
        n, fill_s = fill_campaign(db)
        log = hour_log(Path(tmp) / "hour.tlog")
        with Store(db) as s:
            (res,) = ingest([log], s, scenario=str(DEFAULT_SCENARIO), use_terrain=True)
        fid = res.flights[0].id
        with Store(db) as s:
            points = len(s.telemetry(fid))
        c = TestClient(create_app(WebConfig(db=db)), client=("127.0.0.1", 1))

        def get(path: str) -> None:
            assert c.get(path).status_code == 200

        def dashboard_reference() -> None:
            stats.summarize(stats.load_flights(db)).to_dict()

        def flight_reference() -> None:
            with Store(db) as s:
                json.dumps(s.flight(fid).to_dict(telemetry=True), default=float)

        out = {
            "flights": n, "fill_store_s": fill_s, "hour_log_points": points,
            "dashboard_s": timed(lambda: get("/"), args.repeat),
            "dashboard_reference_s": timed(dashboard_reference, args.repeat),
            "flight_page_s": timed(lambda: get(f"/flights/{fid}"), args.repeat),
            "flight_reference_s": timed(flight_reference, args.repeat),
            "flights_page_s": timed(lambda: get("/flights"), args.repeat),
            "api_stats_s": timed(lambda: get("/api/stats"), args.repeat),
            "target_s": TARGET_S, "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
        }
    out["dashboard_ratio"] = out["dashboard_s"] / out["dashboard_reference_s"]
    out["flight_page_ratio"] = out["flight_page_s"] / out["flight_reference_s"]
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"store: {n} simulated flights (filled in {fill_s:.1f} s) + a one-hour log ({points} stored points)")
    for key, ref, what in (("dashboard_s", "dashboard_reference_s", "dashboard /"),
                           ("flight_page_s", "flight_reference_s", "flight page, one-hour log")):
        ok = "meets" if out[key] <= TARGET_S else "MISSES"
        print(f"{what:<28} {out[key]:.3f} s  (reference {out[ref]:.3f} s, x{out[key] / out[ref]:.1f}) "
              f"-> {ok} the {TARGET_S:.0f} s target")
    print(f"{'flights list /flights':<28} {out['flights_page_s']:.3f} s")
    print(f"{'GET /api/stats':<28} {out['api_stats_s']:.3f} s")


if __name__ == "__main__":
    main()
