"""``simulate``: the one workflow behind ``uavsim simulate`` and the demo.

Plan the campaign once, run one replication or many, store the run (replication 0 with replications), and
optionally write the flights as MAVLink .tlog files. Arguments are checked here, so that every caller gets the
same one-line errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from uavsim.errors import InputError
from uavsim.scenario import Scenario
from uavsim.sim.campaign import CampaignResult, plan_campaign, run_campaign
from uavsim.sim.replicate import MAX_REPLICATIONS, replicate


@dataclass
class Simulation:
    """The ``simulate --json`` document and, when flights were kept, the run they came from."""

    doc: dict[str, Any]
    run: CampaignResult | None


def check_arguments(seed: int | None, replications: int, workers: int, hazard_scale: float) -> None:
    """Reject arguments that would run nonsense or unbounded work, with one clear line."""
    if seed is not None and seed < 0:
        raise InputError(f"seed must be >= 0, got {seed}")
    if not 1 <= replications <= MAX_REPLICATIONS:
        raise InputError(f"replications must be between 1 and {MAX_REPLICATIONS:,}, got {replications}")
    if workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}")
    if not (math.isfinite(hazard_scale) and hazard_scale >= 0):
        raise InputError(f"hazard scale must be a finite number >= 0, got {hazard_scale}")


def simulate(scenario: Scenario | str | Path | None = None, terrain: Any = None, *, seed: int | None = None,
             replications: int = 1, workers: int = 1, days: int | None = None, hazard_scale: float = 1.0,
             store: Any = None, keep_flights: bool = True, write_logs: str | Path | None = None,
             max_logs: int | None = None, progress: Callable[[int], None] | None = None,
             calibration: str | Path | None = None) -> Simulation:
    """Simulate the campaign of ``scenario`` over ``terrain`` (a DEM path, an opened DEM, or None).

    With ``replications`` > 1 the figures are medians over the replications, with quantiles and
    ``p_meets_target``; replication 0 keeps its flights when ``keep_flights``, a ``store`` or ``write_logs``
    asks for them. ``calibration``: a calibration overlay (``uavsim calibrate``) whose rates replace the scenario's."""
    check_arguments(seed, replications, workers, hazard_scale)
    plan = plan_campaign(scenario, terrain)
    if calibration is not None:
        plan = plan.with_calibration(calibration)
    if hazard_scale != 1.0:
        plan = plan.with_hazard_scale(hazard_scale)
    if replications == 1:
        run: CampaignResult | None = run_campaign(plan, seed, None, days)
        doc = dict(run.summary)
    else:
        keep = keep_flights or store is not None or write_logs is not None
        reps = replicate(plan, replications, workers, seed, days, keep_first=keep, progress=progress)
        doc, run = reps.summary(), reps.first
        if run is not None:
            doc["run_id"] = run.run_id
    doc["hazard_scale"] = hazard_scale
    if calibration is not None:
        doc["calibration"] = str(calibration)
    doc["dem"] = plan.terrain.summary()  # source, resolution, synthetic or not, vertical datum
    if store is not None and run is not None:
        store.add_run(run.run_id, run.flights, scenario=str(plan.scenario.root), seed=run.seed, summary=run.summary)
    if write_logs is not None and run is not None:
        from uavsim.sim.tlog_writer import write_logs as write

        paths = write(run.flights, write_logs, max_logs, run.dense_telemetry if run.logs else None)
        doc["logs_written"] = len(paths)
        doc["logs_dir"] = str(write_logs)
    return Simulation(doc, run)
