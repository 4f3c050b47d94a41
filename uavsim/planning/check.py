"""The one assessment every plan goes through, and the pre-flight check of an operator's mission file.

Checks: wind limit and mass; terrain clearance of every waypoint and along every leg (unknown terrain is
never clear); zones against the permits (airspace.violations) and the height limits (ALT-120, a permit's own
ceiling); energy and the reserve at landing; radio line of sight from the launch point (a warning with the
shadowed fraction and where, since a mission may fly pre-programmed beyond the radio link).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from uavsim import geo
from uavsim.aircraft import AircraftClass, get_aircraft
from uavsim.planning import Plan
from uavsim.planning.profile import VERTICAL_LEG_M, fly, legs_utm, runs

if TYPE_CHECKING:
    from uavsim.scenario import Scenario
    from uavsim.terrain import Terrain

log = logging.getLogger(__name__)

ANTENNA_AGL_M = 2.0  # ground-station antenna height above the launch point (assumption)
DEFAULT_CLEARANCE_M = 10.0  # check threshold for transit flight
LOW_WORK_CLEARANCE_M = 1.0  # check threshold for aircraft that spray (they work at ~2.5 m AGL)
MAX_REASONS_PER_KIND = 8
DEFAULT_CHECK_AIRCRAFT = "delivery-2kg"  # when neither --aircraft nor the file's uavsim block names one
LOS_MAX_SAMPLES = 600


def _fmt(lat: float, lon: float) -> str:
    return f"({lat:.5f}, {lon:.5f})"


def height_limits(scenario: Scenario, lat: np.ndarray, lon: np.ndarray, aircraft: str) -> tuple[np.ndarray, np.ndarray]:
    """Per point: the ALT-120 ceiling (inf where a permit waives it) and a permit's own ceiling (inf if none)."""
    asp = scenario.airspace
    x, y = geo.to_utm(lat, lon)
    alt120 = np.full(x.shape, float(asp.max_agl_m))
    permit_cap = np.full(x.shape, np.inf)
    for p in asp.permits:
        if p.aircraft and aircraft not in p.aircraft:
            continue
        inside = shapely.contains_xy(p.geom, x, y)
        if "ALT-120" in p.waives:
            alt120[inside] = np.inf
        if p.max_agl_m is not None:
            permit_cap[inside] = np.minimum(permit_cap[inside], p.max_agl_m)
    return alt120, permit_cap


def _samples(wp: np.ndarray, h: np.ndarray, step_m: float):
    """Points every ~step_m along each leg: (lat, lon, alt, leg index, distance from start)."""
    x, y = geo.to_utm(wp[:, 0], wp[:, 1])
    xs, ys, zs, legs, ds = [], [], [], [], []
    d0 = 0.0
    for i in range(len(wp) - 1):
        k = max(int(np.ceil(max(h[i], abs(wp[i + 1, 2] - wp[i, 2])) / step_m)), 1)
        f = np.arange(0, k + 1) / k if i == 0 else np.arange(1, k + 1) / k
        xs.append(x[i] + f * (x[i + 1] - x[i]))
        ys.append(y[i] + f * (y[i + 1] - y[i]))
        zs.append(wp[i, 2] + f * (wp[i + 1, 2] - wp[i, 2]))
        legs.append(np.full(f.size, i))
        ds.append(d0 + f * h[i])
        d0 += h[i]
    lat, lon = geo.from_utm(np.concatenate(xs), np.concatenate(ys))
    return np.asarray(lat), np.asarray(lon), np.concatenate(zs), np.concatenate(legs), np.concatenate(ds)


def _ground_legs(h: np.ndarray) -> np.ndarray:
    """Vertical legs at the start (take-off) and the end (landing): the aircraft is near the ground there."""
    n = h.size
    g = np.zeros(n, bool)
    i = 0
    while i < n and h[i] < VERTICAL_LEG_M:
        g[i] = True
        i += 1
    j = n - 1
    while j >= 0 and h[j] < VERTICAL_LEG_M:
        g[j] = True
        j -= 1
    return g


def _limited(msgs: list[str], what: str) -> list[str]:
    if len(msgs) <= MAX_REASONS_PER_KIND:
        return msgs
    return msgs[:MAX_REASONS_PER_KIND] + [f"... and {len(msgs) - MAX_REASONS_PER_KIND} more {what}"]


def assess(kind: str, waypoints: np.ndarray, *, scenario: Scenario, terrain: Terrain, ac: AircraftClass,
           mission_type: str = "unknown", site: str | None = None, mass_kg: np.ndarray | float | None = None,
           speed_mps: np.ndarray | float | None = None, hold_s: np.ndarray | None = None, wind_mps: float = 0.0,
           wind_dir_deg: float = 0.0, reserve_frac: float = 0.20, min_clearance_m: float | None = None,
           labels: list[str] | None = None, step_m: float = 10.0, reasons: list[str] | None = None,
           extra: dict[str, Any] | None = None, max_shadowed_frac: float | None = None) -> Plan:
    """Assess a flight given as waypoints (lat, lon, alt MSL); the first and last are on the ground.

    Radio shadow is a warning unless ``max_shadowed_frac`` is given (then more shadow is a reason)."""
    wp = np.asarray(waypoints, float)
    reasons = list(reasons or [])
    warnings: list[str] = []
    extra = dict(extra or {})
    n = len(wp)
    labels = labels or [f"waypoint {i}" for i in range(n)]
    if min_clearance_m is None:
        min_clearance_m = LOW_WORK_CLEARANCE_M if ac.tank_l > 0 else DEFAULT_CLEARANCE_M
    mass = ac.mass_kg() if mass_kg is None else mass_kg
    if n < 2:
        reasons.append("fewer than two waypoints: nothing to fly")
        return Plan(kind, mission_type, site, ac.id, False, reasons, wp.reshape(-1, 3), 0.0, 0.0, 0.0, float("nan"),
                    None, None, [], extra=extra)
    if wind_mps > ac.wind_limit_mps:
        reasons.append(f"wind {wind_mps:.1f} m/s exceeds the {ac.id} limit of {ac.wind_limit_mps:.1f} m/s")
    if float(np.max(mass)) > ac.max_takeoff_kg + 1e-6:
        reasons.append(f"mass {float(np.max(mass)):.1f} kg exceeds the maximum take-off mass {ac.max_takeoff_kg:.1f} kg")

    h, _, _, _ = legs_utm(wp)
    lat, lon, alt, leg, dist = _samples(wp, h, step_m)
    both = terrain.elevation(np.concatenate([lat, wp[:, 0]]), np.concatenate([lon, wp[:, 1]]))  # one kernel call
    elev, wpe = both[: lat.size], both[lat.size:]
    agl = alt - elev
    ground = _ground_legs(h)[leg]
    airborne = ~ground
    airborne[0] = airborne[-1] = False  # take-off and touch-down points

    # -- terrain --------------------------------------------------------------------------------------------
    unknown = ~np.isfinite(elev)
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        reasons.append(f"terrain unknown (outside the DEM or nodata) for {unknown.mean():.1%} of the track, first at "
                       f"{dist[i] / 1000:.2f} km {_fmt(lat[i], lon[i])} on the leg after {labels[leg[i]]}: "
                       "unknown is never clear")
    msgs = []
    for i in range(1, n - 1):
        c = wp[i, 2] - wpe[i]
        if np.isfinite(c) and c < min_clearance_m:
            rel = f"{-c:.1f} m below the terrain" if c < 0 else f"only {c:.1f} m above the terrain"
            msgs.append(f"{labels[i]} at {_fmt(wp[i, 0], wp[i, 1])} is {rel} (alt {wp[i, 2]:.1f} m MSL, terrain "
                        f"{wpe[i]:.1f} m; minimum clearance {min_clearance_m:.1f} m)")
    reasons += _limited(msgs, "waypoints too low")
    low = airborne & np.isfinite(agl) & (agl < min_clearance_m)
    msgs = []
    for a, b in runs(low):
        j = a + int(np.argmin(agl[a:b + 1]))
        li = int(leg[j])
        msgs.append(f"leg {labels[li]} -> {labels[li + 1]}: clearance {agl[j]:.1f} m, below the minimum "
                    f"{min_clearance_m:.1f} m from {dist[a] / 1000:.2f} to {dist[b] / 1000:.2f} km, lowest at {_fmt(lat[j], lon[j])}")
    reasons += _limited(msgs, "low sections")
    known_air = airborne & np.isfinite(agl)
    min_clear = float(np.min(agl[known_air])) if known_air.any() else None
    max_agl = float(np.max(agl[np.isfinite(agl)])) if np.isfinite(agl).any() else None

    # -- zones and height limits ------------------------------------------------------------------------------
    viol = scenario.airspace.violations(lat, lon, np.where(np.isfinite(agl), agl, np.nan), aircraft=ac.id)
    alt120, cap = height_limits(scenario, lat, lon, ac.id)
    # Unknown height counts as too high: unknown is never clear.
    over = airborne & ~(agl <= alt120)
    if over.any():
        viol["ALT-120"] = over
    over_cap = airborne & ~(agl <= cap) & ~over
    if over_cap.any():
        viol["PERMIT"] = viol.get("PERMIT", np.zeros(lat.shape, bool)) | over_cap
    sections = []
    for rule, mask in sorted(viol.items()):
        for a, b in runs(mask)[:MAX_REASONS_PER_KIND]:
            unknown_h = not np.isfinite(agl[a:b + 1]).any()
            capped = rule == "PERMIT" and bool(over_cap[a:b + 1].all())
            what = (f"above the permit's ceiling of {float(np.min(cap[a:b + 1])):.0f} m AGL" if capped
                    else "outside every permit area for this aircraft" if rule == "PERMIT"
                    else "height above the ground unknown (unknown terrain), counted as above the limit"
                    if unknown_h and rule == "ALT-120"
                    else f"above {scenario.airspace.max_agl_m:.0f} m AGL (exception: the terrain falls away faster "
                         "than the aircraft may descend, or the plan flies high)" if rule == "ALT-120"
                    else f"inside {rule}")
            sections.append({"rule": rule, "from_m": float(dist[a]), "to_m": float(dist[b]), "lat": float(lat[a]),
                             "lon": float(lon[a]), "max_agl_m": float(np.nanmax(agl[a:b + 1]))
                             if np.isfinite(agl[a:b + 1]).any() else None})
            reasons.append(f"{rule}: {what} from {dist[a] / 1000:.2f} to {dist[b] / 1000:.2f} km, starting "
                           f"{_fmt(lat[a], lon[a])} on the leg after {labels[leg[a]]}")
    zones = sorted(viol)
    extra["zone_sections"] = sections

    # -- energy and reserve -----------------------------------------------------------------------------------
    flown = fly(ac, wp, mass, speed_mps, wind_mps, wind_dir_deg, hold_s, labels)
    reasons += flown.reasons
    energy = flown.energy_wh
    duration = flown.time_s + (float(np.sum(hold_s)) if hold_s is not None else 0.0)
    reserve_pct = 100.0 * (ac.battery_wh - energy) / ac.battery_wh
    if not np.isfinite(energy):
        reasons.append("energy and time unknown: waypoint altitudes depend on unknown terrain")
    elif reserve_pct < 100.0 * reserve_frac:
        why = ""
        if ac.kind == "vtol" and flown.time_s > 0:  # say why: a VTOL that must follow steep terrain hovers
            slow = flown.leg_airspeed_mps < ac.transition_mps
            why = (f" (in hover mode for {np.sum(flown.leg_t_s[slow]) / flown.time_s:.0%} of the flight time, "
                   f"using {np.sum(flown.leg_wh[slow]):.0f} Wh: the terrain is steeper than it climbs on its wing)")
        reasons.append(f"energy {energy:.0f} Wh leaves {reserve_pct:.1f} % of the {ac.battery_wh:.0f} Wh battery at "
                       f"landing, below the {100 * reserve_frac:.0f} % reserve{why}")

    # -- radio line of sight from the launch point --------------------------------------------------------------
    extra.update(_radio(terrain, ac, wp, lat, lon, alt, dist, airborne, wpe[0], warnings))
    if max_shadowed_frac is not None and extra["shadowed_fraction"] > max_shadowed_frac:
        reasons.append(f"radio link to the launch point lost for {extra['shadowed_fraction']:.0%} of the track, "
                       f"more than the {max_shadowed_frac:.0%} allowed: " + warnings[-1].split(": ", 1)[-1])
    extra["warnings"] = warnings + extra.get("warnings", [])
    extra.setdefault("min_clearance_required_m", min_clearance_m)
    return Plan(kind, mission_type, site, ac.id, not reasons, reasons, wp, float(np.sum(h)), duration, energy,
                reserve_pct, min_clear, max_agl, zones, extra=extra, leg_times_s=flown.leg_t_s,
                hold_s=np.zeros(n) if hold_s is None else np.asarray(hold_s, float),
                leg_speed_mps=np.broadcast_to(np.asarray(ac.cruise_mps if speed_mps is None else speed_mps, float),
                                              (n - 1,)).copy())


def _radio(terrain: Terrain, ac: AircraftClass, wp: np.ndarray, lat, lon, alt, dist, airborne, ground0: float,
           warnings: list[str]) -> dict[str, Any]:
    idx = np.flatnonzero(airborne)
    if idx.size == 0:
        return {"shadowed_fraction": 0.0, "shadow_segments": []}
    if idx.size > LOS_MAX_SAMPLES:
        idx = idx[np.linspace(0, idx.size - 1, LOS_MAX_SAMPLES).astype(int)]
    ant = (ground0 if np.isfinite(ground0) else np.nan) + ANTENNA_AGL_M
    vis = terrain.line_of_sight(wp[0, 0], wp[0, 1], ant, lat[idx], lon[idx], alt[idx])
    rng = geo.geodesic_distance(np.full(idx.size, wp[0, 0]), np.full(idx.size, wp[0, 1]), lat[idx], lon[idx])
    shadow = (vis != 1) | (rng > ac.radio_range_m)  # unknown terrain counts as shadow
    segs = []
    for a, b in runs(shadow):
        segs.append({"from_m": float(dist[idx[a]]), "to_m": float(dist[idx[b]]), "lat": float(lat[idx[a]]),
                     "lon": float(lon[idx[a]]), "cause": "range" if (rng[a:b + 1] > ac.radio_range_m).all()
                     else "unknown terrain" if (vis[a:b + 1] == -1).all() else "terrain"})
    frac = float(shadow.mean())
    if segs:
        where = "; ".join(f"{s['from_m'] / 1000:.2f}-{s['to_m'] / 1000:.2f} km from {_fmt(s['lat'], s['lon'])} ({s['cause']})"
                          for s in segs[:5])
        warnings.append(f"radio link to the launch point lost for {frac:.0%} of the track: {where}"
                        + (f" and {len(segs) - 5} more" if len(segs) > 5 else ""))
    return {"shadowed_fraction": frac, "shadow_segments": segs}


def mass_schedule(ac: AircraftClass, waypoints: np.ndarray, payload_kg: float | None = None,
                  release_index: int | None = None, spray_on: int | None = None, spray_off: int | None = None
                  ) -> np.ndarray:
    """Mass (kg) on each leg: the payload until it is released (winch/gripper) at ``release_index``, or, while the
    sprayer runs from waypoint ``spray_on`` to ``spray_off``, falling evenly with the distance flown."""
    n = len(waypoints)
    payload = ac.payload_kg if payload_kg is None else payload_kg
    full = ac.mass_kg(payload)
    mass = np.full(max(n - 1, 0), full)
    if release_index is not None:
        mass[release_index:] = ac.operating_kg
    if spray_on is not None:
        off = n - 1 if spray_off is None else spray_off
        h, _, _, _ = legs_utm(waypoints)
        cum = np.concatenate([[0.0], np.cumsum(h)])
        span = cum[off] - cum[spray_on]
        for i in range(spray_on, min(off, n - 1)):
            mass[i] = ac.operating_kg + (full - ac.operating_kg) * (1 - (cum[i] - cum[spray_on]) / span if span > 0 else 0)
        mass[off:] = ac.operating_kg
    return mass


def check_mission(path: str | Path, scenario: Scenario | None = None, terrain: Terrain | None = None,
                  aircraft_id: str | None = None, wind_mps: float = 0.0, wind_dir_deg: float = 0.0,
                  reserve_frac: float = 0.20, min_clearance_m: float | None = None,
                  max_shadowed_frac: float | None = None) -> Plan:
    """Read a QGC .plan or WPL 110 .waypoints file and assess it (kind "mission")."""
    from uavsim.planning.missionfile import read_mission
    from uavsim.scenario import Scenario
    from uavsim.terrain import open_dem

    sc = scenario if scenario is not None else Scenario.load()
    t = terrain if terrain is not None else open_dem()
    m = read_mission(path, t)
    ac_id = aircraft_id or m.meta.get("aircraft_id") or DEFAULT_CHECK_AIRCRAFT
    ac = get_aircraft(sc, ac_id)
    payload = m.meta.get("payload_kg")
    mass = mass_schedule(ac, m.waypoints, float(payload) if isinstance(payload, int | float) else None,
                         m.release_index, m.spray_on, m.spray_off)
    speed = None if m.speed_mps is None else np.where(np.isfinite(m.speed_mps), m.speed_mps, ac.cruise_mps)
    plan = assess("mission", m.waypoints, scenario=sc, terrain=t, ac=ac,
                  mission_type=str(m.meta.get("mission_type", "unknown")), site=m.meta.get("site"), mass_kg=mass,
                  speed_mps=speed, hold_s=m.hold_s, wind_mps=wind_mps, wind_dir_deg=wind_dir_deg,
                  reserve_frac=reserve_frac, min_clearance_m=min_clearance_m, labels=m.labels,
                  max_shadowed_frac=max_shadowed_frac,
                  extra={"file": str(path), "format": m.format, "frames": sorted(m.frames),
                         "release_index": m.release_index, "spray_on_index": m.spray_on,
                         "spray_off_index": m.spray_off, "payload_kg": payload,
                         "aircraft_assumed": aircraft_id is None and "aircraft_id" not in m.meta})
    plan.extra["warnings"] = m.warnings + plan.extra.get("warnings", [])
    return plan

