"""One replication of a campaign: run the engine, build the flight records, classify them, summarise.

:func:`plan_campaign` plans the templates once per scenario and DEM (the slow part) into a
:class:`CampaignPlan`; :func:`run_campaign` runs one replication of a plan, so that replications reuse the same
templates. The headline statistics come from :mod:`uavsim.safety.stats`, as for every other headline.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from uavsim.context.record import simulated_context
from uavsim.records import Flight, Telemetry
from uavsim.safety.classify import Verdict
from uavsim.safety.rules import Rules, default_rules
from uavsim.safety.stats import clopper_pearson_lower
from uavsim.scenario import Scenario
from uavsim.sim.config import HOUR_S, Campaign, load_campaign
from uavsim.sim.dynamics import Dynamics, link_loss_sensitivity, load_dynamics
from uavsim.sim.engine import CampaignModel, FlightLog
from uavsim.sim.missions import MODES, Template, build_templates, classify_track, thin

log = logging.getLogger(__name__)
MINUTE_S = 60.0


@dataclass
class CampaignPlan:
    """Everything a replication needs that does not depend on the seed (picklable for worker processes)."""

    scenario: Scenario
    campaign: Campaign
    templates: dict[str, list[Template]]
    rules: Rules
    terrain: Any = None
    dynamics: Dynamics | None = None  # campaign.toml [dynamics] (issue 15); None: read from the campaign file

    def __getstate__(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["terrain"] = getattr(self.terrain, "path", None) if self.terrain is not None else None
        d["scenario"] = str(self.scenario.root)
        return d

    def __setstate__(self, d: dict[str, Any]) -> None:
        from uavsim.terrain import open_dem

        self.__dict__.update(d)
        self.scenario = Scenario.load(d["scenario"])
        path = d["terrain"]
        self.terrain = None if path is None else open_dem(path)

    def with_hazard_scale(self, k: float) -> CampaignPlan:
        """The same plan with every failure rate multiplied by ``k`` (templates shared, not re-planned)."""
        return replace(self, campaign=self.campaign.with_hazard_scale(k))

    def with_calibration(self, path: str | Path) -> CampaignPlan:
        """The same plan with the rates (and their uncertainty) of a calibration overlay (``uavsim calibrate``)."""
        from uavsim.sim.calibrate import apply_overlay

        camp, dyn = apply_overlay(self.campaign, self.dynamics or load_dynamics(self.campaign.path), path)
        return replace(self, campaign=camp, dynamics=dyn)


@dataclass
class CampaignResult:
    run_id: str
    seed: int | None
    flights: list[Flight]
    summary: dict[str, Any]
    logs: list[FlightLog] = field(default_factory=list, repr=False)

    def dense_telemetry(self, i: int) -> Telemetry:
        """Flight ``i``'s full 1 Hz track (the one it was classified on), e.g. for writing a .tlog."""
        return telemetry_of(self.logs[i])

    def track_of(self, flight: Flight) -> Telemetry:
        """The full 1 Hz track of one of this run's flights (by its source_ref "run_id:index")."""
        return self.dense_telemetry(int(flight.source_ref.rsplit(":", 1)[1]))


def plan_campaign(scenario: Scenario | str | Path | None = None, terrain: Any = None,
                  rules: Rules | None = None) -> CampaignPlan:
    """Plan the templates of ``scenario`` over ``terrain`` (default: the embedded DEM).

    Planning is the slow part, so a plan over a DEM file with the default rules is made once per (scenario
    folder, DEM file) in a process and shared: change a copy (``dataclasses.replace``), never the plan itself."""
    from uavsim.scenario import DEFAULT_SCENARIO

    if rules is None and (terrain is None or _file_of(terrain) is not None):
        if isinstance(scenario, Scenario):
            root = scenario.root
        else:
            root = Path(scenario if scenario is not None else DEFAULT_SCENARIO)
        # One key for every spelling of the same DEM (None, "synthetic", a path, a URL): what --dem resolves to.
        from uavsim.terrain import resolve_dem

        return _cached_plan(str(Path(root).resolve()), resolve_dem(_file_of(terrain)))
    return _plan(scenario, terrain, rules or default_rules())


def _file_of(terrain: Any) -> str | None:
    """What names the DEM behind ``terrain`` (a --dem spelling, or an opened DEM's file or URL), else None."""
    if terrain is None:
        return None
    if isinstance(terrain, str | Path):
        return str(terrain)
    path = getattr(terrain, "path", None)
    if path is not None and (Path(path).is_file() or str(path).startswith(("http://", "https://"))):
        return str(path)
    return None


@lru_cache(maxsize=4)
def _cached_plan(root: str, terrain_path: str) -> CampaignPlan:
    from uavsim.terrain import open_dem

    return _plan(root, open_dem(terrain_path), default_rules())


def _plan(scenario: Scenario | str | Path | None, terrain: Any, rules: Rules) -> CampaignPlan:
    sc = scenario if isinstance(scenario, Scenario) else Scenario.load(scenario)
    if terrain is None:
        from uavsim.terrain import open_dem

        terrain = open_dem()
    camp = load_campaign(sc)
    return CampaignPlan(sc, camp, build_templates(sc, camp, terrain, rules), rules, terrain, load_dynamics(camp.path))


def run_campaign(plan: CampaignPlan, seed: int | np.random.SeedSequence | None = None, run_id: str | None = None,
                 days: int | None = None, records: bool = True) -> CampaignResult:
    """One replication of ``plan``. Without ``records`` no Flight objects are built (replications need only
    the verdicts and the summary); the classification is the same either way."""
    c = plan.campaign
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(c.seed if seed is None else seed)
    seed_int = int(seed) if isinstance(seed, int) else (c.seed if seed is None else None)
    run_id = run_id or f"{plan.scenario.root.name}-{seed_int if seed_int is not None else ss.entropy}"
    with _one_numba_thread():
        model = CampaignModel(c, plan.scenario, plan.templates, ss, plan.rules, plan.terrain, days, plan.dynamics)
        model.run()
        logs = sorted(model.logs, key=lambda f: (f.launch_s, f.unit))
        verdicts = [_verdict(fl, plan) for fl in logs]
        flights = [_flight(run_id, i, fl, v, c) for i, (fl, v) in enumerate(zip(logs, verdicts, strict=True))] \
            if records else []
    summary = run_summary(logs, verdicts, model, c)
    summary.update(run_id=run_id, seed=seed_int, days=model.days)
    return CampaignResult(run_id, seed_int, flights, summary, logs)


@contextmanager
def _one_numba_thread() -> Iterator[None]:
    """The engine queries the terrain for a few dozen points at a time: waking a thread team for each call
    costs milliseconds on a loaded machine, so run the kernels on the calling thread (replications are
    parallel across processes instead)."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _verdict(fl: FlightLog, plan: CampaignPlan) -> Verdict:
    tpl, rp = fl.template, fl.replay
    if fl.failure is None and tpl.nominal is not None:
        return tpl.nominal  # same inputs as the template's own classification
    return classify_track(tpl, rp.events, plan.terrain, plan.scenario.airspace, plan.rules,
                          rp.t_s, rp.lat, rp.lon, rp.alt_msl_m)


def telemetry_of(fl: FlightLog, idx: np.ndarray | None = None) -> Telemetry:
    """The flight's track as Telemetry: every 1 Hz sample, or only the samples ``idx`` (for the store)."""
    rp, tpl = fl.replay, fl.template
    sel = slice(None) if idx is None else idx
    t = rp.t_s[sel]
    bat = 100.0 + (rp.battery_end_pct - 100.0) * (t / rp.duration_s if rp.duration_s > 0 else 0.0 * t)
    return Telemetry(t, rp.lat[sel], rp.lon[sel], rp.alt_msl_m[sel], rp.alt_msl_m[sel] - tpl.alt_msl_m[0],
                     rp.gs_mps[sel], bat, rp.mode[sel], list(MODES))


def _flight(run_id: str, i: int, fl: FlightLog, verdict: Verdict, c: Campaign) -> Flight:
    tpl, rp = fl.template, fl.replay
    start = datetime.combine(c.start, time(0), tzinfo=UTC) + timedelta(seconds=fl.launch_s - c.utc_offset_s)
    tel = telemetry_of(fl, thin(rp.t_s.size, must=(rp.cut, rp.cut + 1)))
    extra = {"demand": fl.demand, "template": tpl.key,
             "wait_s": round(fl.wait_s, 1), "shadowed_fraction": round(tpl.shadowed_fraction, 4)}
    if fl.failure is not None:
        extra.update(failure=fl.failure.mode, contingency=fl.failure.action)
    return Flight(
        id=f"sim-{run_id}-{i:05d}", source="sim", source_ref=f"{run_id}:{i}", mission_type=tpl.mission_type,
        site=tpl.site, aircraft_id=fl.unit, start_utc=start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        duration_s=rp.duration_s, distance_m=rp.distance_m, max_agl_m=verdict.max_agl_m,
        min_terrain_clearance_m=verdict.min_terrain_clearance_m, energy_used_wh=rp.energy_wh,
        battery_end_pct=rp.battery_end_pct, outcome=verdict.outcome, severity=verdict.severity,
        events=list(verdict.events), telemetry=tel, extra=extra,
        # Airborne by construction: the simulated flight runs from lift-off to touch-down.
        kind="flight", takeoff_s=0.0, landing_s=rp.duration_s, log_clock="sim",
        airborne_evidence={"decided_by": "simulated: airborne from launch to landing by construction"},
        context=simulated_context(tpl.key, tpl.site, tpl.mission_type, fl.unit))


def run_summary(logs: list[FlightLog], verdicts: list[Verdict], model: CampaignModel, c: Campaign) -> dict[str, Any]:
    """One replication's figures as a plain dict (the ``simulate --json`` document)."""
    n = len(logs)
    unsafe = sum(v.outcome == "unsafe" for v in verdicts)
    lb = clopper_pearson_lower(n - unsafe, n, c.confidence)
    by_type: dict[str, int] = {}
    sev: dict[str, int] = {}
    fail: dict[str, int] = {}
    for fl, v in zip(logs, verdicts, strict=True):
        mt = fl.template.mission_type
        by_type[mt] = by_type.get(mt, 0) + 1
        sev[v.severity] = sev.get(v.severity, 0) + 1
        if fl.failure is not None:
            k = f"{fl.failure.mode}:{fl.failure.action}"
            fail[k] = fail.get(k, 0) + 1
    waits = np.asarray(model.t.medical_wait_s) / MINUTE_S
    return {
        "flights": n,
        "unsafe": unsafe,
        "safety_rate": (n - unsafe) / n if n else None,
        "lower_bound": lb,
        "confidence": c.confidence,
        "target": c.target,
        "meets_target": bool(n and lb >= c.target),
        "flight_hours": sum(fl.replay.duration_s for fl in logs) / HOUR_S,
        "flights_by_type": dict(sorted(by_type.items())),
        "severity": dict(sorted(sev.items())),
        "failures": dict(sorted(fail.items())),
        "weather_groundings": dict(model.t.groundings),
        "weather_grounded_hours": {k: dict(v) for k, v in sorted(model.t.grounded_hours.items())},
        "medical_wait_min": {
            "n": int(waits.size),
            "median": float(np.median(waits)) if waits.size else None,
            "p95": float(np.percentile(waits, 95)) if waits.size else None,
        },
        "preempted_before_launch": model.t.preempted_before_launch,
        "recalled_in_flight": model.t.recalled_in_flight,
        "rejected": dict(sorted(model.t.rejected.items())),
        "unflown": model.t.unflown,
        "wind_recalls": model.t.wind_recalls,
        "wind_energy_holds": model.t.wind_energy_holds,
        "out_of_service_days": model.t.out_of_service_days,
        "link_loss_sensitivity": link_loss_sensitivity(logs, verdicts, model.dyn.link_loss_land_shares, c.confidence),
    }
