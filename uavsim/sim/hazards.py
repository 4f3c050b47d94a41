"""Failures in flight and the aircraft's contingency logic, turned into events, a track and a verdict.

Each failure mode has a rate per flight hour (campaign.toml [hazards]); the radio link also has a rate per
hour flown in terrain radio shadow. The first failure of a flight (competing exponential risks) goes through
the contingency logic: return to launch, land now where it is, or crash. The result is a cut-short replay of
the template whose events and track go through the shared classification like any flown log.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from uavsim.records import Event
from uavsim.safety.rules import Rules
from uavsim.sim.config import CONTINGENCIES, HOUR_S, Hazard
from uavsim.sim.missions import DENSE_DT_S, Template

# Event kinds of each failure mode, in the order they are raised (the first is the failure itself).
MODE_EVENTS = {
    "motor_esc": ("MOTOR_FAILURE",),
    "battery": ("FAILSAFE_BATTERY",),
    "gps": ("GPS_DEGRADED", "FAILSAFE_GPS"),
    "radio_link": ("LINK_LOSS", "FAILSAFE_RADIO"),
    "bird": ("BIRD_STRIKE",),
    "weather": ("WEATHER",),
}
_HAS_CRASH_LEVEL = ("MOTOR_FAILURE", "BIRD_STRIKE")  # rules.toml grades these "crash" when they end in impact
FALL_S = 4.0  # seconds from loss of control to ground impact (assumption)
_RECALL_DETAIL = {
    "": "sortie recalled: its crew was pre-empted by a medical request; returned to launch",
    "wind": "sortie recalled: the wind rose above the aircraft's limit during the flight; returned to launch",
    "wind_energy": "sortie recalled: in the wind met in flight the plan would have eaten into the battery reserve; "
                   "returned to launch",
}
MODE_AUTO, MODE_RTL, MODE_LAND, MODE_CRASH = 0, 1, 2, 3


@dataclass(frozen=True)
class Failure:
    mode: str
    t_s: float
    action: str  # rtl | land | crash | continue (flies on) | abort (a recall, not a failure)
    cause: str = ""  # of a recall: "" (a medical request took the crew), "wind", "wind_energy"


def draw_failure(tpl: Template, hazards: tuple[Hazard, ...], rng: np.random.Generator,
                 base: np.ndarray | None = None, shadow: np.ndarray | None = None,
                 link_continue: float = 0.0) -> Failure | None:
    """The first failure during a replay of ``tpl``, or None. Always draws the same count of numbers.

    ``base`` and ``shadow`` are this airframe's rates per flight hour (default: the campaign's); a link loss
    flies on as planned with probability ``link_continue``, else takes the radio hazard's contingency."""
    hours = tpl.duration_s / HOUR_S
    base = np.array([h.per_fh for h in hazards]) if base is None else base
    shadow = np.array([h.shadow_per_fh for h in hazards]) if shadow is None else shadow
    rates = base + shadow * tpl.shadowed_fraction
    u = rng.random(3)
    total = float(rates.sum())
    if total <= 0.0:
        return None
    t_h = -math.log1p(-u[0]) / total
    if t_h >= hours:
        return None
    i = int(np.searchsorted(np.cumsum(rates) / total, u[1], side="right"))
    h = hazards[min(i, len(hazards) - 1)]
    u2 = u[2]
    if h.mode == "radio_link" and link_continue > 0.0:
        if u2 < link_continue:
            return Failure(h.mode, t_h * HOUR_S, "continue")
        u2 = (u2 - link_continue) / (1.0 - link_continue) if link_continue < 1.0 else 0.0
    j = int(np.searchsorted(np.cumsum(h.p), u2, side="right"))
    return Failure(h.mode, t_h * HOUR_S, CONTINGENCIES[min(j, 2)])


@dataclass
class Replay:
    t_s: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    alt_msl_m: np.ndarray
    gs_mps: np.ndarray
    mode: np.ndarray
    events: list[Event]
    duration_s: float
    distance_m: float
    energy_wh: float
    battery_end_pct: float
    cut: int = -1  # index of the failure sample; -1 when the template was flown as planned


def nominal(tpl: Template) -> Replay:
    end = 100.0 * (1.0 - tpl.energy_wh / tpl.battery_wh) if tpl.battery_wh > 0 else math.nan
    return Replay(tpl.t_s, tpl.lat, tpl.lon, tpl.alt_msl_m, tpl.gs_mps, np.zeros(tpl.t_s.size, np.int16),
                  [], tpl.duration_s, tpl.distance_m, tpl.energy_wh, end)


def _local_m(lat0: float, lon0: float, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Small-area equirectangular metres from (lat0, lon0): ample for a few-km return leg."""
    k = 111_320.0
    return (lon - lon0) * k * math.cos(math.radians(lat0)), (lat - lat0) * k


def replay(tpl: Template, f: Failure, rules: Rules, evidence: str = "") -> Replay:
    """The template flown until the failure, then the contingency: its track, events and measures."""
    tf = min(max(f.t_s, 0.0), tpl.duration_s)
    if f.action == "continue":  # the link came back or the mission went on: the plan, with the event
        rp = nominal(tpl)
        i = int(np.searchsorted(tpl.t_s, tf))
        where = (float(tpl.lat[min(i, tpl.t_s.size - 1)]), float(tpl.lon[min(i, tpl.t_s.size - 1)]),
                 float(tpl.alt_msl_m[min(i, tpl.t_s.size - 1)]))
        rp.events = _events(f, tf, *where, rules, tpl, evidence)
        return rp
    keep = tpl.t_s < tf
    la_f, lo_f, al_f = (float(np.interp(tf, tpl.t_s, c)) for c in (tpl.lat, tpl.lon, tpl.alt_msl_m))
    ground0 = float(tpl.alt_msl_m[0])
    g = float(np.interp(tf, tpl.t_s, tpl.ground_m)) if tpl.ground_m is not None else math.nan
    ground_here = g if math.isfinite(g) else al_f  # unknown terrain: come down to where it is (classify flags it)
    # knots of the contingency, from the failure point on: (t, lat, lon, alt MSL)
    if f.action in ("rtl", "abort"):
        # climb to the return height, fly straight home, land (ArduPilot RTL: RTL_ALT above home)
        ret_alt = max(al_f, ground0 + float(np.max(tpl.rel_alt_m)))
        x, y = _local_m(la_f, lo_f, np.array([tpl.launch[0]]), np.array([tpl.launch[1]]))
        dist_after = float(math.hypot(x[0], y[0]))
        t1 = tf + (ret_alt - al_f) / tpl.climb_mps
        t2 = t1 + dist_after / tpl.cruise_mps
        knots = [(tf, la_f, lo_f, al_f), (t1, la_f, lo_f, ret_alt), (t2, *tpl.launch, ret_alt),
                 (t2 + (ret_alt - ground0) / tpl.descent_mps, *tpl.launch, ground0)]
        mode_after = MODE_RTL
    elif f.action == "land":
        knots = [(tf, la_f, lo_f, al_f), (tf + max(al_f - ground_here, 0.0) / tpl.descent_mps, la_f, lo_f, ground_here)]
        mode_after, dist_after = MODE_LAND, 0.0
    else:  # crash
        knots = [(tf, la_f, lo_f, al_f), (tf + FALL_S, la_f, lo_f, ground_here)]
        mode_after, dist_after = MODE_CRASH, 0.0
    k = np.array(knots)
    ts = np.arange(tf, k[-1, 0], DENSE_DT_S)
    ts = np.append(ts, k[-1, 0]) if ts.size == 0 or ts[-1] < k[-1, 0] else ts
    la, lo, al = (np.interp(ts, k[:, 0], k[:, j]) for j in (1, 2, 3))
    t_all = np.concatenate([tpl.t_s[keep], ts])
    lat = np.concatenate([tpl.lat[keep], la])
    lon = np.concatenate([tpl.lon[keep], lo])
    alt = np.concatenate([tpl.alt_msl_m[keep], al])
    cut = int(keep.sum())  # index of the failure sample
    gsa = np.concatenate([tpl.gs_mps[keep], _speed(ts, la, lo, float(np.interp(tf, tpl.t_s, tpl.gs_mps)))])
    mode = np.concatenate([np.zeros(cut + 1, np.int16), np.full(ts.size - 1, mode_after, np.int16)])
    duration = float(t_all[-1])
    flown = float(np.interp(tf, tpl.t_s, np.concatenate([[0.0], np.cumsum(_seg(tpl))]))) + dist_after
    power = tpl.energy_wh / tpl.duration_s if tpl.duration_s > 0 else 0.0
    energy = power * duration
    end = 100.0 * (1.0 - energy / tpl.battery_wh) if tpl.battery_wh > 0 else math.nan
    if f.mode == "battery" and f.action == "crash":
        end = 0.0
    events = _events(f, tf, la_f, lo_f, al_f, rules, tpl, evidence)
    return Replay(t_all, lat, lon, alt, gsa, mode, events, duration, flown, energy, end, cut)


def _speed(ts: np.ndarray, lat: np.ndarray, lon: np.ndarray, first: float) -> np.ndarray:
    """Ground speed along a resampled leg (the first sample keeps the speed at the failure)."""
    x, y = _local_m(float(lat[0]), float(lon[0]), lat, lon)
    gs = np.empty(ts.size)
    gs[0] = first
    if ts.size > 1:
        gs[1:] = np.hypot(np.diff(x), np.diff(y)) / np.maximum(np.diff(ts), 1e-9)
    return gs


def _seg(tpl: Template) -> np.ndarray:
    x, y = _local_m(float(tpl.lat[0]), float(tpl.lon[0]), tpl.lat, tpl.lon)
    return np.hypot(np.diff(x), np.diff(y)) * (tpl.distance_m / max(float(np.sum(np.hypot(np.diff(x), np.diff(y)))), 1e-9))


def _events(f: Failure, tf: float, lat: float, lon: float, alt: float, rules: Rules, tpl: Template,
            evidence: str) -> list[Event]:
    where = {"lat": lat, "lon": lon, "alt": alt}
    ev = f"simulated: {evidence or f.mode} at t={tf:.1f}s"
    out: list[Event] = []
    if f.action == "abort":
        return [rules.make_event("MISSION_ABORTED", tf, **where, detail=_RECALL_DETAIL[f.cause], evidence=ev)]
    if f.action == "continue":
        return [rules.make_event(MODE_EVENTS[f.mode][0], tf, **where,
                                 detail=f"{f.mode} failure, contingency: none (flew on as planned)", evidence=ev)]
    for k in MODE_EVENTS[f.mode]:
        level = "crash" if f.action == "crash" and k in _HAS_CRASH_LEVEL else "fail"
        out.append(rules.make_event(k, tf, **where, detail=f"{f.mode} failure, contingency: {f.action}", evidence=ev))
        if level == "crash":
            out[-1] = rules.make_event(k, tf, level="crash", **where, detail=f"{f.mode} failure ended in ground impact",
                                       evidence=ev)
    # "land" adds no event here: a landing away from every site is found from the track by the shared
    # classification (EMERGENCY_LANDING), as for a flown log.
    if f.action == "crash":
        out.append(rules.make_event("CRASH", tf + FALL_S, **where, detail=f"ground impact after {f.mode} failure",
                                    evidence=ev))
    return out
