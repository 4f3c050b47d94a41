"""Forecast speed (issue 15): 1,000 replications on 2 worker processes (target <= 60 s), and the one-replication
time of ``simulate``'s default year with the new dynamics (must stay well under 10 s).

- record: the campaign simulated up to ``--as-of`` (2026-12-01 by default), the forecast's flown record;
  not timed.
- forecast: ``run_forecast`` end to end from the record (calibration, ``--exposure-runs`` engine runs of the
  remaining days on the workers, the outcome table, the hazard worlds of every replication, the link-loss
  and stress variants, the fan series), planning excluded (it is shared with simulate and cached).
- reference in the same process: one ``run_campaign`` of the full default year (what simulate does for one
  replication), best of ``--repeat``; the forecast's time per replication is reported as a ratio to it.

    .venv/bin/python benchmarks/bench_forecast.py [--replications 1000] [--workers 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from uavsim.sim.campaign import plan_campaign, run_campaign  # noqa: E402
from uavsim.sim.forecast import run_forecast  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--replications", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--exposure-runs", type=int, default=None)
    ap.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 12, 1))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    t = time.perf_counter()
    plan = plan_campaign()
    planning_s = time.perf_counter() - t
    run_campaign(plan, seed=0, days=3)  # warm-up
    year = []
    for k in range(a.repeat):
        t = time.perf_counter()
        r = run_campaign(plan, seed=100 + k)
        year.append(time.perf_counter() - t)
    days = (a.as_of - plan.campaign.start).days + 1
    record = run_campaign(plan, seed=7, days=days).flights

    t, c = time.perf_counter(), time.process_time()
    doc = run_forecast(record, plan, as_of=a.as_of, replications=a.replications, workers=a.workers, seed=1,
                       exposure_runs=a.exposure_runs)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    out = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_1min": os.getloadavg()[0]},
        "planning_s": planning_s,
        "simulate_one_year_s": min(year), "simulate_one_year_flights": len(r.flights),
        "forecast": {"replications": a.replications, "workers": a.workers, "exposure_runs": doc["exposure_runs"],
                     "as_of": doc["as_of"], "flown": doc["flown"]["flights"], "remaining_days": doc["remaining_days"],
                     "wall_s": wall, "parent_cpu_s": cpu, "ms_per_replication": 1000.0 * wall / a.replications,
                     "p_meets_target": doc["p_meets_target"]},
        "ratio_forecast_replication_to_one_year": (wall / a.replications) / min(year),
        "target_forecast_s": 60.0, "meets_target": wall <= 60.0,
    }
    if a.json:
        print(json.dumps(out, indent=2))
        return
    print(f"simulate, one replication of the default year: {min(year):.2f} s ({len(r.flights)} flights; target well under 10 s)")
    f = out["forecast"]
    print(f"forecast, {f['replications']} replications on {f['workers']} workers ({f['exposure_runs']} exposure runs of "
          f"{f['remaining_days']} days, {f['flown']} flights flown): {wall:.1f} s wall ({f['ms_per_replication']:.1f} ms "
          f"per replication, {out['ratio_forecast_replication_to_one_year']:.3f} of one simulated year); target <= 60 s: "
          f"{'met' if out['meets_target'] else 'NOT met'}")
    print(f"planning (shared, cached): {planning_s:.1f} s; load average {out['machine']['load_1min']:.1f}")


if __name__ == "__main__":
    main()
