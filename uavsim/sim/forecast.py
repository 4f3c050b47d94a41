"""``forecast``: with what has been flown so far, how will the campaign end, and what would stop it (issue 15)?

The campaign's flights recorded up to ``as_of`` (default: the last recorded local date, or the eve of the
campaign when the record ends before it) are fact. The hazard rates are the posterior of every dated flight up
to ``as_of`` (trial flights before the campaign included) (``uavsim.sim.calibrate``; or a calibration overlay). The remaining days are
simulated in two layers (``uavsim.sim.forecast_layers``): engine runs for the exposure, then one hazard world
per replication drawn from the posterior. Both parts are combined to the campaign's end with
``uavsim.safety.stats``. The same seed gives the same answer, whatever the number of workers.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from uavsim.errors import InputError
from uavsim.records import MISSION_TYPES, Flight
from uavsim.safety import stats
from uavsim.sim import forecast_layers as fl
from uavsim.sim.calibrate import apply_overlay, calibrate, posterior_campaign, select_since
from uavsim.sim.dynamics import Dynamics, load_dynamics
from uavsim.sim.engine import unit_ids

STRESS_SCALES = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)  # rate multipliers of the "what would stop us" stress test
HAZARD_STREAM = 15  # second entropy word of the hazard layer's seeds (the exposure runs use the seed alone)


def last_flight_date(flights: list[Flight], utc_offset_h: float) -> date:
    days = [d for d in (stats.local_date(f.start_utc, utc_offset_h) for f in flights) if d]
    if not days:
        raise InputError("no dated flights in the store: give --as-of")
    return date.fromisoformat(max(days))


def rates_for(flown: list[Flight], campaign: Any, dyn: Dynamics, calibration: str | Path | None) -> tuple[Any, Dynamics, dict]:
    """The campaign and dynamics whose rates the forecast draws from, and where they came from."""
    if calibration is not None:
        camp, d = apply_overlay(campaign, dyn, calibration)
        return camp, d, {"calibration": str(calibration)}
    cal = calibrate(flown, campaign.hazards, dyn.rate_prior_fh, dynamics=dyn)
    camp, d = posterior_campaign(campaign, dyn, cal)
    return camp, d, {"calibration": "fitted from the flown flights", **cal.to_dict()}


def drivers(draws: fl.Draws, model: fl.HazardModel, n_rep: int) -> dict[str, list[dict[str, Any]]]:
    """Hazards (with their contingency) and mission types that make the forecast's unsafe flights."""
    total = max(float(draws.unsafe.sum()), 1e-300)
    hz = [{"hazard": m, "contingency": fl.ACTIONS[a], "unsafe_per_replication": draws.by_cause[i, a] / n_rep,
           "share": draws.by_cause[i, a] / total}
          for i, m in enumerate(model.modes) for a in range(len(fl.ACTIONS)) if draws.by_cause[i, a] > 0]
    if draws.fixed > 0:
        hz.append({"hazard": "plan", "contingency": "none", "unsafe_per_replication": draws.fixed / n_rep,
                   "share": draws.fixed / total})
    missions = sorted(MISSION_TYPES)
    st = [{"mission_type": missions[i], "unsafe_per_replication": float(v) / n_rep, "share": float(v) / total}
          for i, v in enumerate(draws.by_mission) if v > 0]
    key = lambda d: -d["unsafe_per_replication"]  # noqa: E731
    return {"hazards": sorted(hz, key=key), "strata": sorted(st, key=key)}


def _final(n: np.ndarray, u: np.ndarray, target: float, confidence: float) -> dict[str, Any]:
    lb = fl.lower_bounds(n, u, confidence)
    values, counts = np.unique(np.asarray(u, np.int64), return_counts=True)
    return {"p_meets_target": float(np.mean(lb > target)), "final_lower_bound_quantiles": fl._quantiles(lb),
            "final_unsafe_quantiles": fl._quantiles(u), "final_unsafe_mean": float(np.mean(u)),
            "final_unsafe_histogram": [[int(v), int(c)] for v, c in zip(values, counts, strict=True)]}


def _variants(exps: list[fl.Exposure], variants: list[tuple[dict[str, float], fl.HazardModel]], table: np.ndarray,
              seeds: list, n_units: int, days: int, n0: int, u0: int, target: float,
              confidence: float) -> list[dict[str, Any]]:
    """p_meets_target and the final unsafe count under each (label, hazard model), with the same random numbers,
    so that the differences are the variant's alone."""
    out = []
    for label, variant in variants:
        d = fl.draw_all(exps, variant, table, seeds, n_units, len(MISSION_TYPES), days)
        res = _final(n0 + d.flights, u0 + d.unsafe, target, confidence)
        out.append({**label, "p_meets_target": res["p_meets_target"], "final_unsafe_mean": res["final_unsafe_mean"]})
    return out


def stress(exps: list[fl.Exposure], model: fl.HazardModel, table: np.ndarray, seeds: list, n_units: int, days: int,
           n0: int, u0: int, scales: tuple[float, ...], target: float, confidence: float) -> list[dict[str, Any]]:
    """What would stop us: p_meets_target if every rate ran ``k`` times its posterior (same random numbers)."""
    return _variants(exps, [({"rate_scale": k}, model.scaled(k)) for k in scales], table, seeds, n_units, days,
                     n0, u0, target, confidence)


def link_loss_sensitivity(exps: list[fl.Exposure], model: fl.HazardModel, table: np.ndarray, seeds: list,
                          n_units: int, days: int, n0: int, u0: int, shares: tuple[float, ...], target: float,
                          confidence: float) -> list[dict[str, Any]]:
    """p_meets_target and the final unsafe count for other land-in-place shares of a link loss."""
    return _variants(exps, [({"land_share": land}, model.with_link_land(land)) for land in shares], table, seeds,
                     n_units, days, n0, u0, target, confidence)


def run_forecast(flights: list[Flight], plan: Any, as_of: date | None = None, replications: int = 1000,
                 workers: int = 1, seed: int | None = None, calibration: str | Path | None = None,
                 dynamics: Dynamics | None = None, exposure_runs: int | None = None,
                 utc_offset_h: float | None = None) -> dict[str, Any]:
    """The forecast document (``uavsim forecast --json``) from a store's ``flights`` and a campaign plan."""
    c = plan.campaign
    if replications < 1:
        raise InputError(f"replications must be at least 1, got {replications}")
    off = c.utc_offset_s / 3600.0 if utc_offset_h is None else utc_offset_h
    # a record that ends before the campaign (trial flights) informs the rates; the campaign itself is all ahead
    as_of = as_of or max(last_flight_date(flights, off), c.start - timedelta(days=1))
    if as_of < c.start - timedelta(days=1):
        raise InputError(f"--as-of {as_of} is before the campaign starts ({c.start})")
    dyn = dynamics or plan.dynamics or load_dynamics(c.path)
    seed = c.seed if seed is None else int(seed)
    evidence = select_since(flights, None, as_of, off)  # the rates learn from every dated flight up to as_of
    flown = select_since(evidence, c.start, None, off)  # the campaign's own count starts with the campaign
    n0, u0 = len(flown), sum(f.outcome == "unsafe" for f in flown)
    camp, dyn_post, origin = rates_for(evidence, c, dyn, calibration)
    rem = fl.remaining_campaign(camp, as_of)
    days = 0 if rem is None else rem.days
    rep_seeds = np.random.SeedSequence([seed, HAZARD_STREAM]).spawn(replications)  # exposures use seed itself
    doc: dict[str, Any] = {
        "as_of": as_of.isoformat(), "campaign_end": c.end.isoformat(),
        "flown": {"flights": n0, "unsafe": u0, "lower_bound": stats.clopper_pearson_lower(n0 - u0, n0, c.confidence)},
        "remaining_days": days, "replications": replications, "seed": seed, "target": c.target,
        "confidence": c.confidence, "rates": origin, "flights_before_campaign": len(evidence) - n0,
        "undated_flights_ignored": sum(stats.local_date(f.start_utc, off) is None for f in flights),
    }
    if days == 0:
        u, n = np.full(replications, u0), np.full(replications, n0)
        doc.update(expected_remaining_flights=0.0, **_final(n, u, c.target, c.confidence), drivers={"hazards": [], "strata": []})
        doc["unsafe_budget"] = stats.max_unsafe_for_target(n0, c.target, c.confidence) - u0
        return doc
    k = min(replications, exposure_runs or fl.DEFAULT_EXPOSURE_RUNS)
    templates = [t for ts in plan.templates.values() for t in ts]
    units = unit_ids(rem)
    exps = fl.exposures(replace(plan, campaign=rem, dynamics=dyn_post), k, workers, seed, [t.key for t in templates],
                        units, sorted(MISSION_TYPES))
    table = fl.outcome_table(plan, templates)
    model = fl.HazardModel.of(camp.hazards, dyn_post)
    draws = fl.draw_all(exps, model, table, rep_seeds, len(units), len(MISSION_TYPES), days)
    n_final, u_final = n0 + draws.flights, u0 + draws.unsafe
    doc.update(expected_remaining_flights=float(draws.flights.mean()), **_final(n_final, u_final, c.target, c.confidence))
    doc["unsafe_budget"] = stats.max_unsafe_for_target(int(np.median(n_final)), c.target, c.confidence) - u0
    doc["remaining_unsafe_quantiles"] = fl._quantiles(draws.unsafe)
    doc["drivers"] = drivers(draws, model, replications)
    doc["link_loss_sensitivity"] = link_loss_sensitivity(exps, model, table, rep_seeds, len(units), days, n0, u0,
                                                         dyn.link_loss_land_shares, c.target, c.confidence)
    doc["stress"] = stress(exps, model, table, rep_seeds, len(units), days, n0, u0, STRESS_SCALES, c.target,
                           c.confidence)
    doc["exposure_runs"] = k
    doc["fan"] = {"flown": fl.flown_series(flown, c.start, as_of, c.confidence, off),
                  "forecast": fl.fan_series(draws, n0, u0, as_of, c.confidence)}
    return doc


def forecast_store(db: str | Path, scenario_dir: str | Path | None = None, source: str | None = "log",
                   dem: str | Path | None = None, **kw: Any) -> dict[str, Any]:
    """:func:`run_forecast` on the flights of an existing store (``source`` log, sim, or None for all)."""
    from uavsim.sim.calibrate import file_sha256
    from uavsim.sim.campaign import plan_campaign

    flights = stats.load_flights(db, source=source)
    doc = run_forecast(flights, plan_campaign(scenario_dir, dem), **kw)
    doc.update(db=str(db), source=source, store_sha256=file_sha256(db))
    return doc
