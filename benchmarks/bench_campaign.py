"""Campaign simulator speed: seconds per replication of the default scenario, replications per minute on
2 worker processes, and the extrapolated time of 1,000 replications (targets: <= 10 s per replication,
1,000 replications <= 10 min on 2 cores).

- planning: ``prepare`` (the planner makes every route and field template once); not part of a replication.
- per replication: ``run_campaign`` of the full default year in this process (engine, flight records,
  classification, summary), best and mean of ``--repeat``; sizes of 30 and 120 days show how time grows.
- throughput: ``replicate`` of ``--replications`` full years on ``--workers`` processes, pool start-up (one
  transfer of the templates per worker) included; 1,000 replications are extrapolated from that rate.

    .venv/bin/python benchmarks/bench_campaign.py [--quick] [--json] [--replications 20] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from uavsim.sim.campaign import plan_campaign, run_campaign  # noqa: E402
from uavsim.sim.replicate import replicate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 timed year, 4 replications on the workers")
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--replications", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    repeat, reps = (1, 4) if a.quick else (a.repeat, a.replications)

    t0 = time.perf_counter()
    prep = plan_campaign()
    planning_s = time.perf_counter() - t0
    run_campaign(prep, seed=0, days=3)  # warm-up: imports, numba caches

    sizes = []
    for days in ([30] if a.quick else [30, 120]):
        t = time.perf_counter()
        r = run_campaign(prep, seed=1, days=days)
        sizes.append({"days": days, "flights": len(r.flights), "seconds": time.perf_counter() - t})
    times, flights = [], []
    for k in range(repeat):
        t = time.perf_counter()
        r = run_campaign(prep, seed=100 + k)
        times.append(time.perf_counter() - t)
        flights.append(len(r.flights))
    sizes.append({"days": prep.campaign.days, "flights": flights[0], "seconds": min(times)})

    t = time.perf_counter()
    done: list[float] = []
    out = replicate(prep, reps, workers=a.workers, seed=7, progress=lambda _n: done.append(time.perf_counter()))
    wall = time.perf_counter() - t
    per_min = reps / wall * 60.0
    # steady state: after each worker's first result (pool start-up, imports, template transfer) is behind
    w = min(a.workers, reps - 1)
    steady_per_min = (reps - w) / (done[-1] - done[w - 1]) * 60.0 if reps > w and done[-1] > done[w - 1] else per_min
    startup_s = max(0.0, done[w - 1] - t - w / (steady_per_min / 60.0) / a.workers) if reps > w else 0.0
    cpu = [r["cpu_s"] for r in out.runs]
    doc = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "planning_s": round(planning_s, 3),
        "replication_s_best": round(min(times), 3),
        "replication_s_mean": round(sum(times) / len(times), 3),
        "flights_per_replication": flights,
        "flights_per_s": round(flights[0] / min(times), 1),
        "sizes": sizes,
        "workers": a.workers,
        "replications": reps,
        "replications_wall_s": round(wall, 3),
        "replications_per_min": round(per_min, 2),
        "steady_replications_per_min": round(steady_per_min, 2),
        "pool_startup_s": round(startup_s, 2),
        "worker_cpu_s_per_replication": round(sum(cpu) / len(cpu), 3),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "extrapolated_1000_replications_min": round((startup_s + 1000.0 / (steady_per_min / 60.0)) / 60.0, 2),
        "cpu_bound_1000_replications_min": round(1000.0 * sum(cpu) / len(cpu) / a.workers / 60.0, 2),
        "targets": {"replication_s": 10.0, "1000_replications_min": 10.0},
        "meets": {"replication_s": min(times) <= 10.0,
                  "1000_replications_min": (startup_s + 1000.0 / (steady_per_min / 60.0)) / 60.0 <= 10.0},
        "p_meets_target": out.summary()["p_meets_target"],
    }
    if a.json:
        print(json.dumps(doc, indent=2))
        return
    print(f"planning (once per scenario): {planning_s:.2f} s")
    for s in sizes:
        print(f"  {s['days']:>4} days: {s['flights']:>5} flights in {s['seconds']:.2f} s")
    print(f"one replication of the default year: best {min(times):.2f} s, mean {doc['replication_s_mean']:.2f} s "
          f"({flights[0]} flights, {doc['flights_per_s']:.0f} flights/s)  target <= 10 s")
    print(f"{reps} replications on {a.workers} workers: {wall:.1f} s ({per_min:.1f} per minute with pool start-up "
          f"~{startup_s:.1f} s; steady {steady_per_min:.1f} per minute; worker CPU {doc['worker_cpu_s_per_replication']:.2f} s "
          f"per replication; load average {doc['load_average_1min']})")
    print(f"1,000 replications ~ {doc['extrapolated_1000_replications_min']:.1f} min at the measured rate "
          f"({doc['cpu_bound_1000_replications_min']:.1f} min if the {a.workers} cores were free)  target <= 10 min")


if __name__ == "__main__":
    main()
