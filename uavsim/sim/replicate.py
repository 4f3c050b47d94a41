"""Monte Carlo replications of a campaign in separate processes (ProcessPoolExecutor).

The templates are planned once in the parent and shipped to each worker once (pool initializer). Each
replication k runs with child k of ``SeedSequence(seed).spawn(n)``, so that the result of a replication
depends on (seed, k) only, never on the number of workers or on scheduling.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing as mp
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from uavsim.sim.campaign import CampaignResult, Prepared, run_prepared

log = logging.getLogger(__name__)
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
_PREP: Prepared | None = None  # the worker's copy of the templates (set by the pool initializer)
_KEEP = ("flights", "unsafe", "safety_rate", "lower_bound", "meets_target", "flight_hours", "weather_groundings",
         "medical_wait_min", "flights_by_type")


@dataclass
class Replications:
    seed: int
    runs: list[dict[str, Any]]  # per replication: _KEEP figures plus run_id and index
    target: float
    first: CampaignResult | None = None  # replication 0 with its flights, when asked for

    def summary(self) -> dict[str, Any]:
        rate = np.array([r["safety_rate"] for r in self.runs], float)
        lb = np.array([r["lower_bound"] for r in self.runs], float)
        n = np.array([r["flights"] for r in self.runs], float)
        unsafe = np.array([r["unsafe"] for r in self.runs], float)

        def q(a: np.ndarray) -> dict[str, float]:
            return {f"p{int(round(p * 100)):02d}": float(np.quantile(a, p)) for p in QUANTILES}

        return {
            "replications": len(self.runs),
            "seed": self.seed,
            "flights": float(np.median(n)),
            "unsafe": float(np.median(unsafe)),
            "safety_rate": float(np.median(rate)),
            "lower_bound": float(np.median(lb)),
            "target": self.target,
            "p_meets_target": float(np.mean(lb >= self.target)),
            "safety_rate_quantiles": q(rate),
            "lower_bound_quantiles": q(lb),
            "safety_rate_mean": float(rate.mean()),
            "flights_mean": float(n.mean()),
            "unsafe_mean": float(unsafe.mean()),
            "runs": self.runs,
        }


def _init(prep: Prepared) -> None:
    global _PREP
    _PREP = prep


def _one(args: tuple[np.random.SeedSequence, str, int, int | None, bool]) -> tuple[dict[str, Any], CampaignResult | None]:
    ss, run_id, k, days, keep = args
    if _PREP is None:
        raise RuntimeError("replication worker used before its initializer ran")
    c0, w0 = time.process_time(), time.perf_counter()
    res = run_prepared(_PREP, ss, run_id, days, records=keep)
    row = {key: res.summary[key] for key in _KEEP}
    row.update(run_id=run_id, index=k, cpu_s=time.process_time() - c0, wall_s=time.perf_counter() - w0)
    if not keep:
        return row, None
    return row, res  # with its logs: the .tlog writer needs the full tracks


def replicate(prep: Prepared, n: int, workers: int = 1, seed: int | None = None, days: int | None = None,
              keep_first: bool = False, progress: Callable[[int], None] | None = None) -> Replications:
    """Run ``n`` replications on ``workers`` processes (1: in this process)."""
    seed = prep.campaign.seed if seed is None else int(seed)
    children = np.random.SeedSequence(seed).spawn(n)
    name = prep.scenario.root.name
    jobs = [(children[k], f"{name}-{seed}-r{k:04d}", k, days, keep_first and k == 0) for k in range(n)]
    rows: list[dict[str, Any] | None] = [None] * n
    first: CampaignResult | None = None
    if workers <= 1:
        _init(prep)
        results = map(_one, jobs)
        for row, res in results:
            rows[row["index"]] = row
            first = first or res
            if progress:
                progress(1)
    else:
        ctx = mp.get_context("spawn")  # no fork of a process holding numba threads and open files
        with cf.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init, initargs=(prep,)) as ex:
            for row, res in ex.map(_one, jobs, chunksize=1):
                rows[row["index"]] = row
                first = first or res
                if progress:
                    progress(1)
    return Replications(seed, [r for r in rows if r is not None], prep.campaign.target, first)
