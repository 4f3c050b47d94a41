"""Monte Carlo replications of a campaign in separate processes (ProcessPoolExecutor).

The templates are planned once in the parent and shipped to each worker process once (pool initializer: the
plan lives only in the worker processes, never as state changed in the parent). Each
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

from uavsim.errors import InputError
from uavsim.sim.campaign import CampaignPlan, CampaignResult, run_campaign

log = logging.getLogger(__name__)
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
MAX_REPLICATIONS = 100_000  # a bound on what one command may ask for (each replication is ~1 s of CPU)
_WORKER_PLAN: dict[str, CampaignPlan] = {}  # filled by the pool initializer inside each worker process only
_KEEP = ("flights", "unsafe", "safety_rate", "lower_bound", "meets_target", "flight_hours", "weather_groundings",
         "medical_wait_min", "flights_by_type", "link_loss_sensitivity")


@dataclass
class Replications:
    seed: int
    runs: list[dict[str, Any]]  # per replication: _KEEP figures plus run_id and index
    target: float
    first: CampaignResult | None = None  # replication 0 with its flights, when asked for
    reduced: list[Any] | None = None  # per replication, what ``reduce`` made of it (in index order)

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
            "link_loss_sensitivity": _pooled_link_loss(self.runs, self.target),
            "runs": self.runs,
        }


def _pooled_link_loss(runs: list[dict[str, Any]], target: float) -> list[dict[str, float]]:
    """Per land-in-place share: the mean expected unsafe count and the share of replications meeting the target."""
    rows = [r["link_loss_sensitivity"] for r in runs if r.get("link_loss_sensitivity")]
    if not rows:
        return []
    return [{"land_share": rows[0][i]["land_share"],
             "expected_unsafe_mean": float(np.mean([r[i]["expected_unsafe"] for r in rows])),
             "p_meets_target": float(np.mean([r[i]["lower_bound"] >= target for r in rows]))}
            for i in range(len(rows[0]))]


def _init_worker(plan: CampaignPlan) -> None:
    """Pool initializer: runs in the worker process, where the plan arrives once."""
    _WORKER_PLAN["plan"] = plan


Job = tuple[np.random.SeedSequence, str, int, int | None, bool, Callable[[CampaignResult], Any] | None]


def _one_in_worker(job: Job) -> tuple[dict[str, Any], CampaignResult | None, Any]:
    return _one(_WORKER_PLAN["plan"], job)


def _one(plan: CampaignPlan, job: Job) -> tuple[dict[str, Any], CampaignResult | None, Any]:
    ss, run_id, k, days, keep, reduce = job
    c0, w0 = time.process_time(), time.perf_counter()
    res = run_campaign(plan, ss, run_id, days, records=keep)
    row = {key: res.summary[key] for key in _KEEP}
    row.update(run_id=run_id, index=k, cpu_s=time.process_time() - c0, wall_s=time.perf_counter() - w0)
    reduced = reduce(res) if reduce is not None else None
    if not keep:
        return row, None, reduced
    return row, res, reduced  # with its logs: the .tlog writer needs the full tracks


def replicate(plan: CampaignPlan, n: int, workers: int = 1, seed: int | None = None, days: int | None = None,
              keep_first: bool = False, progress: Callable[[int], None] | None = None,
              reduce: Callable[[CampaignResult], Any] | None = None) -> Replications:
    """Run ``n`` replications on ``workers`` processes (1: in this process).

    ``reduce`` (a picklable function) is applied to every replication's result in its worker, and its values
    come back in ``Replications.reduced`` (the forecast's exposure runs use it)."""
    if not 1 <= n <= MAX_REPLICATIONS:
        raise InputError(f"replications must be between 1 and {MAX_REPLICATIONS:,}, got {n}")
    seed = plan.campaign.seed if seed is None else int(seed)
    if seed < 0:
        raise InputError(f"seed must be >= 0, got {seed}")
    children = np.random.SeedSequence(seed).spawn(n)
    name = plan.scenario.root.name
    jobs = ((children[k], f"{name}-{seed}-r{k:04d}", k, days, keep_first and k == 0, reduce) for k in range(n))
    rows: list[dict[str, Any] | None] = [None] * n
    reduced: list[Any] = [None] * n
    first: CampaignResult | None = None
    if workers <= 1:
        results: Any = (_one(plan, job) for job in jobs)
        pool = None
    else:
        ctx = mp.get_context("spawn")  # no fork of a process holding numba threads and open files
        pool = cf.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(plan,))
        results = pool.map(_one_in_worker, jobs, chunksize=1)
    try:
        for row, res, red in results:
            rows[row["index"]] = row
            reduced[row["index"]] = red
            first = first or res
            if progress:
                progress(1)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return Replications(seed, [r for r in rows if r is not None], plan.campaign.target, first,
                        reduced if reduce is not None else None)
