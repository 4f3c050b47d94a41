"""The two layers of the mid-campaign forecast (issue 15; the orchestration is ``uavsim.sim.forecast``): the flights flown up to ``as_of`` are fact; the rest of the campaign is
simulated with calibrated rates whose uncertainty is in the answer.

How a replication is made (two layers, so that 1,000 replications fit in a minute on two cores):

1. **Exposure.** ``K`` engine runs of the remaining days (the SimPy campaign from ``as_of + 1`` to the end:
   demand, weather, crews, batteries, wind holds and recalls) give the flights that will be flown: template,
   airframe, duration, radio-shadow share, rain day, day. They are run in worker processes.
2. **Hazards.** Each of the ``N`` replications takes exposure run ``r mod K`` and draws its own world: each
   hazard's rate from its posterior Gamma (``uavsim.sim.calibrate``), a frailty per airframe, the rain-day
   factor; then, per flight, the first failure (competing risks), its contingency (the campaign's shares)
   and its outcome. The outcome of a return or landing at each point of a template comes from the shared
   classification of the replayed track, computed once per template at ``TIME_BINS`` points.

Final figures combine the flown count with each replication's remaining count through
``uavsim.safety.stats`` (Clopper–Pearson). A replication's result depends on (seed, index) only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import partial
from typing import Any

import numpy as np

from uavsim.records import Flight
from uavsim.safety import stats
from uavsim.sim.config import CONTINGENCIES, DAY_S, HOUR_S
from uavsim.sim.hazards import Failure, replay
from uavsim.sim.missions import classify_track

TIME_BINS = 8  # points along a template at which a return or landing is classified
DEFAULT_EXPOSURE_RUNS = 40
ACTIONS = ("continue",) + CONTINGENCIES  # index 0: flies on; 1 rtl, 2 land, 3 crash
QUANTILES = {"p5": 0.05, "p50": 0.5, "p95": 0.95}


@dataclass
class Exposure:
    """The flights of one engine run of the remaining days, as arrays (one entry per flight)."""

    template: np.ndarray  # index into the template list
    unit: np.ndarray  # index into the airframe list
    hours: np.ndarray
    shadow: np.ndarray
    rain: np.ndarray  # bool
    day: np.ndarray  # day after as_of (0 = as_of + 1)
    fixed_unsafe: np.ndarray  # bool: unsafe whatever the hazards (the plan itself, or a recall)
    mission: np.ndarray  # index into the mission-type list


def remaining_campaign(campaign: Any, as_of: date) -> Any:
    """The campaign from the day after ``as_of`` to its end (None when nothing remains)."""
    start = as_of + timedelta(days=1)
    return None if start > campaign.end else replace(campaign, start=max(start, campaign.start))


def exposure_of(result: Any, keys: list[str], units: list[str], missions: list[str]) -> Exposure:
    """One engine run (a ``CampaignResult`` of the remaining days) reduced to its exposure. Runs in the
    replication worker (``replicate(..., reduce=...)``), so that only arrays travel back."""
    logs = result.logs
    k_of, u_of, m_of = ({k: i for i, k in enumerate(x)} for x in (keys, units, missions))

    def plan_unsafe(f: Any) -> bool:
        return f.template.nominal is not None and f.template.nominal.outcome == "unsafe"

    return Exposure(
        np.array([k_of[f.template.key] for f in logs], np.int64), np.array([u_of[f.unit] for f in logs], np.int64),
        np.array([f.template.duration_s / HOUR_S for f in logs]),
        np.array([f.template.shadowed_fraction for f in logs]),
        np.array([f.rain_day for f in logs], bool),
        np.array([int(f.launch_s // DAY_S) for f in logs], np.int64),
        np.array([plan_unsafe(f) for f in logs], bool),
        np.array([m_of[f.template.mission_type] for f in logs], np.int64))


def exposures(plan: Any, n: int, workers: int, seed: int, keys: list[str], units: list[str],
              missions: list[str]) -> list[Exposure]:
    """``n`` engine runs of ``plan``'s (remaining) campaign on the replication runner, as exposures."""
    from uavsim.sim.replicate import replicate

    reps = replicate(plan, n, workers, seed, reduce=partial(exposure_of, keys=keys, units=units, missions=missions))
    return list(reps.reduced or [])


def outcome_table(plan: Any, templates: list[Any]) -> np.ndarray:
    """unsafe[template, action, bin]: is a flight unsafe when this contingency starts in this time bin?

    Classified once per template with the shared classification of the replayed track (a return can cross a
    zone, a landing can be off site or in a field). 'continue' keeps the plan's verdict; a crash is unsafe."""
    out = np.zeros((len(templates), len(ACTIONS), TIME_BINS), bool)
    for i, tpl in enumerate(templates):
        nominal_unsafe = tpl.nominal is not None and tpl.nominal.outcome == "unsafe"
        out[i, 0, :] = nominal_unsafe
        out[i, 3, :] = True
        if not tpl.feasible:
            continue
        for a in (1, 2):
            for b in range(TIME_BINS):
                rp = replay(tpl, Failure("radio_link", (b + 0.5) / TIME_BINS * tpl.duration_s, ACTIONS[a]), plan.rules)
                v = classify_track(tpl, rp.events, plan.terrain, plan.scenario.airspace, plan.rules,
                                   rp.t_s, rp.lat, rp.lon, rp.alt_msl_m)
                out[i, a, b] = v.outcome == "unsafe"
    return out


@dataclass(frozen=True)
class HazardModel:
    """The rates a forecast draws from: per hazard, posterior mean rates and Gamma shape; contingency shares."""

    modes: tuple[str, ...]
    per_fh: np.ndarray
    shadow_per_fh: np.ndarray
    shape: np.ndarray
    shares: np.ndarray  # [hazard, action] over ACTIONS, rows sum to 1
    frailty_cv: float
    rain_factor: float

    @classmethod
    def of(cls, hazards: tuple[Any, ...], dyn: Any) -> HazardModel:
        shares = np.zeros((len(hazards), len(ACTIONS)))
        for i, h in enumerate(hazards):
            c = dyn.link_continue if h.mode == "radio_link" else 0.0
            shares[i] = [c, *(np.asarray(h.p) * (1.0 - c))]
        return cls(tuple(h.mode for h in hazards), np.array([h.per_fh for h in hazards]),
                   np.array([h.shadow_per_fh for h in hazards]), np.array([dyn.shape_of(h) for h in hazards]),
                   shares, dyn.frailty_cv, dyn.common_cause_rain_factor)

    def scaled(self, k: float) -> HazardModel:
        """Every rate multiplied by ``k`` (a stress test of the posterior)."""
        return replace(self, per_fh=self.per_fh * k, shadow_per_fh=self.shadow_per_fh * k)

    def with_link_land(self, land: float) -> HazardModel:
        """The same model with the radio link's land-in-place share set to ``land`` (rtl takes the rest)."""
        i = self.modes.index("radio_link")
        s = self.shares.copy()
        c, crash = s[i, 0], s[i, 3]
        s[i, 2] = min(land, 1.0 - c - crash)
        s[i, 1] = 1.0 - c - crash - s[i, 2]
        return replace(self, shares=s)


@dataclass
class Draws:
    """What the hazard layer makes of the exposure runs: per replication, and tallies over all of them."""

    flights: np.ndarray  # [rep] remaining flights
    unsafe: np.ndarray  # [rep] remaining unsafe flights
    daily_unsafe: np.ndarray  # [rep, day]
    daily_flights: np.ndarray  # [rep, day]
    by_cause: np.ndarray  # [hazard, action] unsafe flights summed over replications
    by_mission: np.ndarray  # [mission] unsafe flights summed over replications
    fixed: float  # unsafe flights whatever the hazards (the plan itself), summed over replications


def draw_one(exp: Exposure, model: HazardModel, table: np.ndarray, rng: np.random.Generator,
             n_units: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One replication's hazard world and failures over one exposure run: (unsafe per flight, failed flight
    indices, their hazard, their action). Draws a fixed count of numbers for a given exposure."""
    shape = np.maximum(model.shape, 1e-12)
    mult = np.where(model.shape > 0, rng.standard_gamma(shape) / shape, 1.0)
    cv2 = model.frailty_cv**2
    frailty = rng.standard_gamma(1.0 / cv2, n_units) * cv2 if cv2 > 0 else np.ones(n_units)
    u = rng.random((exp.hours.size, 4))  # failure, hazard, contingency, time in flight
    lam = frailty[exp.unit][:, None] * mult[None, :] * (model.per_fh[None, :] + model.shadow_per_fh[None, :]
                                                        * exp.shadow[:, None])
    if "weather" in model.modes:
        lam[exp.rain, model.modes.index("weather")] *= model.rain_factor
    total = lam.sum(axis=1)
    failed = np.flatnonzero(u[:, 0] < -np.expm1(-total * exp.hours))
    cum = np.cumsum(lam[failed], axis=1) / np.maximum(total[failed], 1e-300)[:, None]
    mode = np.minimum((u[failed, 1:2] > cum).sum(axis=1), lam.shape[1] - 1)
    act = np.minimum((u[failed, 2:3] > np.cumsum(model.shares[mode], axis=1)).sum(axis=1), len(ACTIONS) - 1)
    b = np.minimum((u[failed, 3] * TIME_BINS).astype(np.int64), TIME_BINS - 1)
    unsafe = exp.fixed_unsafe.copy()
    unsafe[failed] |= table[exp.template[failed], act, b]
    return unsafe, failed, mode, act


def draw_all(exps: list[Exposure], model: HazardModel, table: np.ndarray, seeds: list[np.random.SeedSequence],
             n_units: int, n_missions: int, days: int) -> Draws:
    n = len(seeds)
    d = Draws(np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros((n, days)), np.zeros((n, days)),
              np.zeros((len(model.modes), len(ACTIONS))), np.zeros(n_missions), 0.0)
    for r, ss in enumerate(seeds):
        exp = exps[r % len(exps)]
        unsafe, failed, mode, act = draw_one(exp, model, table, np.random.default_rng(ss), n_units)
        d.flights[r], d.unsafe[r] = exp.hours.size, int(unsafe.sum())
        d.daily_unsafe[r] = np.bincount(exp.day, weights=unsafe, minlength=days)[:days]
        d.daily_flights[r] = np.bincount(exp.day, minlength=days)[:days]
        hit = unsafe[failed] & ~exp.fixed_unsafe[failed]
        np.add.at(d.by_cause, (mode[hit], act[hit]), 1.0)
        d.by_mission += np.bincount(exp.mission[unsafe], minlength=n_missions)
        d.fixed += float(exp.fixed_unsafe.sum())
    return d


def lower_bounds(n: np.ndarray, unsafe: np.ndarray, confidence: float) -> np.ndarray:
    """Clopper–Pearson lower bounds (uavsim.safety.stats) of many (flights, unsafe) pairs, each distinct
    pair computed once."""
    pairs = np.stack([np.asarray(n, np.int64).ravel(), np.asarray(unsafe, np.int64).ravel()], axis=1)
    uniq, inv = np.unique(pairs, axis=0, return_inverse=True)
    lb = np.array([stats.clopper_pearson_lower(int(k - u), int(k), confidence) for k, u in uniq])
    return lb[inv.ravel()].reshape(np.shape(n))


def _quantiles(a: np.ndarray) -> dict[str, float]:
    return {k: float(np.quantile(a, q)) for k, q in QUANTILES.items()}


def flown_series(flown: list[Flight], start: date, as_of: date, confidence: float,
                 utc_offset_h: float) -> dict[str, list]:
    """The flown part of the fan chart: cumulative flights, unsafe and lower bound at the end of each day."""
    days = (as_of - start).days + 1
    n, u = np.zeros(max(days, 0), np.int64), np.zeros(max(days, 0), np.int64)
    for f in flown:
        d = stats.local_date(f.start_utc, utc_offset_h)
        i = (date.fromisoformat(d) - start).days if d else -1
        if 0 <= i < days:
            n[i] += 1
            u[i] += f.outcome == "unsafe"
    cn, cu = np.cumsum(n), np.cumsum(u)
    return {"dates": [(start + timedelta(days=i)).isoformat() for i in range(days)], "flights": cn.tolist(),
            "unsafe": cu.tolist(), "lower_bound": lower_bounds(cn, cu, confidence).tolist()}


def fan_series(d: Draws, n0: int, u0: int, as_of: date, confidence: float) -> dict[str, list]:
    """Quantiles of the cumulative lower bound at the end of each remaining day, over the replications."""
    n = n0 + np.cumsum(d.daily_flights, axis=1).astype(np.int64)
    u = u0 + np.cumsum(d.daily_unsafe, axis=1).astype(np.int64)
    lb = lower_bounds(n, u, confidence)
    out: dict[str, list] = {"dates": [(as_of + timedelta(days=i + 1)).isoformat() for i in range(lb.shape[1])]}
    for k, q in QUANTILES.items():
        out[k] = np.quantile(lb, q, axis=0).tolist() if lb.size else []
    return out
