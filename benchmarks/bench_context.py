"""Cost of a flight's context at import (issue 14): ``apply_context`` (inference, plan matching, conformance)
beside the rest of the analysis of the same .tlog in the same process (read, segment, detect, classify), as a
ratio. Plans are made once per process and reported apart.

    .venv/bin/python benchmarks/bench_context.py [--flights 30] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from uavsim.context import ContextModel, apply_context  # noqa: E402
from uavsim.logs.ingest import analyse, read_log, sha256_of  # noqa: E402
from uavsim.sim.campaign import plan_campaign, run_campaign  # noqa: E402
from uavsim.sim.tlog_writer import write_tlog  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--flights", type=int, default=30)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    plan = plan_campaign()
    run = run_campaign(plan, seed=5, days=3)
    model = ContextModel.load(None, plan.terrain)
    t = time.perf_counter()
    model.plans  # noqa: B018 - the one-off planning
    planning_s = time.perf_counter() - t
    analysis_s = context_s = 0.0
    n = 0
    with tempfile.TemporaryDirectory() as d:
        for f in run.flights[: a.flights]:
            path = write_tlog(f, Path(d) / f"{f.id}.tlog", run.track_of(f))
            t0 = time.perf_counter()
            flights, _ = analyse(read_log(path), sha256_of(path), plan.terrain, plan.scenario.airspace)
            t1 = time.perf_counter()
            for g in flights:
                apply_context(g, None, model, None)
                n += 1
            t2 = time.perf_counter()
            analysis_s += t1 - t0
            context_s += t2 - t1
    doc = {"flights": n, "planning_once_s": round(planning_s, 2), "analysis_ms_per_flight": round(1e3 * analysis_s / n, 1),
           "context_ms_per_flight": round(1e3 * context_s / n, 1), "context_over_analysis": round(context_s / analysis_s, 3)}
    print(json.dumps(doc) if a.json else "\n".join(f"{k:>24}: {v}" for k, v in doc.items()))


if __name__ == "__main__":
    main()
