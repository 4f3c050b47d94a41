"""Coverage of the mid-campaign forecast (issue 15): does its 90 % band hold the truth about 90 % of the time?

For each seed: a "true" campaign year is simulated (its rates drawn from their uncertainty, frailty per
airframe, rain days: the engine's own world); its flights up to ``--as-of`` are handed to the forecast as the
flown record; the forecast (rates fitted from that record, the rest simulated) gives a distribution of the
final unsafe count, which is compared with the true year's count.

Unsafe counts are small integers, so a band [p5, p95] of a discrete distribution over-covers. The script
therefore reports (a) the share of seeds whose truth lies in [p5, p95] (inclusive, as a user reads the band)
and (b) the randomised probability integral transform (PIT = P(X < truth) + U * P(X = truth)), whose share in
[0.05, 0.95] is the exact 90 % coverage for a discrete forecast and whose histogram should be flat.

    .venv/bin/python analysis/forecast_coverage.py --seeds 60 --hazard-scale 10 --out coverage.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

from uavsim.errors import UavSimError
from uavsim.sim.calibrate import select_since
from uavsim.sim.campaign import plan_campaign, run_campaign
from uavsim.sim.forecast import run_forecast


def pit(histogram: list[list[int]], truth: int, u: float) -> float:
    values = np.array([v for v, _ in histogram])
    counts = np.array([c for _, c in histogram], float)
    p = counts / counts.sum()
    return float(p[values < truth].sum() + u * p[values == truth].sum())


def one_seed(plan, seed: int, as_of: date, replications: int, exposure_runs: int, rng: np.random.Generator) -> dict:
    truth = run_campaign(plan, seed=seed)
    flown = select_since(truth.flights, None, as_of)
    doc = run_forecast(flown, plan, as_of=as_of, replications=replications, seed=10_000 + seed,
                       exposure_runs=exposure_runs)
    q = doc["final_unsafe_quantiles"]
    true_u = truth.summary["unsafe"]
    return {"seed": seed, "true_unsafe": true_u, "flown_unsafe": doc["flown"]["unsafe"], "p5": q["p5"], "p95": q["p95"],
            "in_band": bool(q["p5"] <= true_u <= q["p95"]), "pit": pit(doc["final_unsafe_histogram"], true_u, rng.random()),
            "true_lower_bound": truth.summary["lower_bound"], "p_meets_target": doc["p_meets_target"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=60)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 30))
    ap.add_argument("--hazard-scale", type=float, default=10.0,
                    help="rates of the true years and of the prior (10: counts large enough to test a band)")
    ap.add_argument("--replications", type=int, default=300)
    ap.add_argument("--exposure-runs", type=int, default=10)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    try:
        plan = plan_campaign().with_hazard_scale(a.hazard_scale)
        rng = np.random.default_rng(a.first_seed)
        rows, t0 = [], time.perf_counter()
        for s in range(a.first_seed, a.first_seed + a.seeds):
            rows.append(one_seed(plan, s, a.as_of, a.replications, a.exposure_runs, rng))
            r = rows[-1]
            print(f"seed {s}: truth {r['true_unsafe']}, band [{r['p5']:.0f}, {r['p95']:.0f}], PIT {r['pit']:.2f}",
                  file=sys.stderr)
    except UavSimError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    p = np.array([r["pit"] for r in rows])
    doc = {"seeds": len(rows), "as_of": a.as_of.isoformat(), "hazard_scale": a.hazard_scale,
           "replications": a.replications, "exposure_runs": a.exposure_runs,
           "band_coverage_inclusive": float(np.mean([r["in_band"] for r in rows])),
           "pit_coverage_90": float(np.mean((p >= 0.05) & (p <= 0.95))),
           "pit_below_5": float(np.mean(p < 0.05)), "pit_above_95": float(np.mean(p > 0.95)),
           "pit_histogram_tenths": np.histogram(p, bins=10, range=(0, 1))[0].tolist(),
           "mean_true_unsafe": float(np.mean([r["true_unsafe"] for r in rows])),
           "wall_s": time.perf_counter() - t0, "rows": rows}
    text = json.dumps(doc, indent=2)
    if a.out:
        a.out.write_text(text, encoding="utf-8")
    print(text if not a.out else json.dumps({k: v for k, v in doc.items() if k != "rows"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
