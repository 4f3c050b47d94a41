"""The one assessment every plan goes through, planned here or read from an operator's file.

Checks: wind limit and mass; terrain clearance of every waypoint and along every leg (unknown terrain is
never clear); zones against the permits (airspace.violations) and the height limits (ALT-120, a permit's own
ceiling); energy, the reserve at landing and a return home from the end of every leg against the wind; radio
line of sight from the launch point (a decision: see :mod:`uavsim.planning.radio`). Limits come from the
rules table through :class:`~uavsim.planning.conditions.Limits`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from uavsim import geo
from uavsim.planning.assessed import Conditions, Flight, Track
from uavsim.planning.plan import Plan
from uavsim.planning.profile import VERTICAL_LEG_M, fly, legs_utm, runs
from uavsim.planning.radio import radio_decision
from uavsim.planning.reserve import reserve_reasons

if TYPE_CHECKING:
    from uavsim.aircraft import AircraftClass
    from uavsim.scenario import Scenario
    from uavsim.terrain import Terrain

MAX_REASONS_PER_KIND = 8


def _fmt(lat: float, lon: float) -> str:
    return f"({lat:.5f}, {lon:.5f})"


def limited(msgs: list[str], what: str) -> list[str]:
    if len(msgs) <= MAX_REASONS_PER_KIND:
        return msgs
    return msgs[:MAX_REASONS_PER_KIND] + [f"... and {len(msgs) - MAX_REASONS_PER_KIND} more {what}"]


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


def ground_legs(h: np.ndarray, on_ground: np.ndarray) -> np.ndarray:
    """Vertical legs chained to a waypoint on the ground (take-offs and landings, mid-mission ones too)."""
    n = h.size
    g = np.zeros(n, bool)
    vertical = h < VERTICAL_LEG_M
    for start in np.flatnonzero(on_ground):
        i = start
        while i < n and vertical[i]:  # climbing out
            g[i] = True
            i += 1
        j = start - 1
        while j >= 0 and vertical[j]:  # descending in
            g[j] = True
            j -= 1
    return g


def _near(lat: np.ndarray, lon: np.ndarray, points: np.ndarray, radius_m: float, crs: str) -> np.ndarray:
    x, y = geo.to_utm(lat, lon, crs)
    px, py = geo.to_utm(points[:, 0], points[:, 1], crs)
    d2 = (np.asarray(x)[:, None] - np.asarray(px)[None, :]) ** 2 + (np.asarray(y)[:, None] - np.asarray(py)[None, :]) ** 2
    return np.any(d2 <= radius_m * radius_m, axis=1)


def sample(flight: Flight, terrain: Terrain, h: np.ndarray, on_ground: np.ndarray, terminal_m: float) -> Track:
    """Points every ~step_m along each leg, and the terrain under them and under the waypoints (one kernel call)."""
    wp = np.asarray(flight.waypoints, float)
    x, y = geo.to_utm(wp[:, 0], wp[:, 1], flight.crs)
    xs, ys, zs, legs, ds = [], [], [], [], []
    d0 = 0.0
    for i in range(len(wp) - 1):
        k = max(int(np.ceil(max(h[i], abs(wp[i + 1, 2] - wp[i, 2])) / flight.step_m)), 1)
        f = np.arange(0, k + 1) / k if i == 0 else np.arange(1, k + 1) / k
        xs.append(x[i] + f * (x[i + 1] - x[i]))
        ys.append(y[i] + f * (y[i + 1] - y[i]))
        zs.append(wp[i, 2] + f * (wp[i + 1, 2] - wp[i, 2]))
        legs.append(np.full(f.size, i))
        ds.append(d0 + f * h[i])
        d0 += h[i]
    lat, lon = (np.asarray(v) for v in geo.from_utm(np.concatenate(xs), np.concatenate(ys), flight.crs))
    both = terrain.elevation(np.concatenate([lat, wp[:, 0]]), np.concatenate([lon, wp[:, 1]]))
    leg = np.concatenate(legs)
    airborne = ~ground_legs(h, on_ground)[leg]
    wp_index = np.concatenate([[0], np.cumsum([max(int(np.ceil(max(h[i], abs(wp[i + 1, 2] - wp[i, 2]))
                                                                    / flight.step_m)), 1)
                                                for i in range(len(wp) - 1)])])
    airborne[wp_index[on_ground]] = False  # the touch-down and take-off points themselves
    ends = wp[on_ground]
    return Track(lat, lon, np.concatenate(zs), leg, np.concatenate(ds), both[: lat.size], both[lat.size:], airborne,
                 _near(lat, lon, ends, terminal_m, flight.crs), _near(wp[:, 0], wp[:, 1], ends, terminal_m, flight.crs))


def terrain_reasons(flight: Flight, tr: Track, labels: list[str], min_clearance: float) -> list[str]:
    wp = np.asarray(flight.waypoints, float)
    reasons = []
    unknown = ~np.isfinite(tr.elev)
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        reasons.append(f"terrain unknown (outside the DEM or nodata) for {unknown.mean():.1%} of the track, first at "
                       f"{tr.dist[i] / 1000:.2f} km {_fmt(tr.lat[i], tr.lon[i])} on the leg after "
                       f"{labels[tr.leg[i]]}: unknown is never clear")
    on_ground = flight.on_ground
    msgs = []
    for i in range(1, len(wp) - 1):
        c = wp[i, 2] - tr.wp_elev[i]
        if on_ground is not None and on_ground[i]:
            continue
        need = 0.0 if tr.wp_terminal[i] else min_clearance  # near a take-off or landing only the ground itself
        if np.isfinite(c) and c < need - 1e-6:
            rel = f"{-c:.1f} m below the terrain" if c < 0 else f"only {c:.1f} m above the terrain"
            msgs.append(f"{labels[i]} at {_fmt(wp[i, 0], wp[i, 1])} is {rel} (alt {wp[i, 2]:.1f} m MSL, terrain "
                        f"{tr.wp_elev[i]:.1f} m; minimum clearance {need:.1f} m)")
    reasons += limited(msgs, "waypoints too low")
    agl = tr.agl
    need = np.where(tr.terminal, 0.0, min_clearance)
    low = tr.airborne & np.isfinite(agl) & (agl < need - 1e-6)
    msgs = []
    for a, b in runs(low):
        j = a + int(np.argmin(agl[a:b + 1]))
        li = int(tr.leg[j])
        msgs.append(f"leg {labels[li]} -> {labels[li + 1]}: clearance {agl[j]:.1f} m, below the minimum "
                    f"{need[j]:.1f} m from {tr.dist[a] / 1000:.2f} to {tr.dist[b] / 1000:.2f} km, lowest at "
                    f"{_fmt(tr.lat[j], tr.lon[j])}")
    return reasons + limited(msgs, "low sections")


def _zone_text(rule: str, a: int, b: int, agl: np.ndarray, cap: np.ndarray, over_cap: np.ndarray,
               max_agl_m: float) -> str:
    unknown_h = not np.isfinite(agl[a:b + 1]).any()
    if rule == "PERMIT":
        if bool(over_cap[a:b + 1].all()):
            return f"above the permit's ceiling of {float(np.min(cap[a:b + 1])):.0f} m AGL"
        return "outside every permit area for this aircraft"
    if rule == "ALT-120":
        if unknown_h:
            return "height above the ground unknown (unknown terrain), counted as above the limit"
        return (f"above {max_agl_m:.0f} m AGL (exception: the terrain falls away faster than the aircraft may "
                "descend, or the plan flies high)")
    return f"inside {rule}"


def zone_reasons(scenario: Scenario, ac: AircraftClass, tr: Track, labels: list[str]
                 ) -> tuple[list[str], list[str], list[dict[str, Any]]]:
    """(reasons, zones, sections) of the zones and height limits along the track."""
    agl = tr.agl
    viol = scenario.airspace.violations(tr.lat, tr.lon, np.where(np.isfinite(agl), agl, np.nan), aircraft=ac.id)
    alt120, cap = height_limits(scenario, tr.lat, tr.lon, ac.id)
    over = tr.airborne & ~(agl <= alt120)  # unknown height counts as too high: unknown is never clear
    if over.any():
        viol["ALT-120"] = over
    over_cap = tr.airborne & ~(agl <= cap) & ~over
    if over_cap.any():
        viol["PERMIT"] = viol.get("PERMIT", np.zeros(tr.lat.shape, bool)) | over_cap
    reasons, sections = [], []
    for rule, mask in sorted(viol.items()):
        for a, b in runs(mask)[:MAX_REASONS_PER_KIND]:
            sections.append({"rule": rule, "from_m": float(tr.dist[a]), "to_m": float(tr.dist[b]),
                             "lat": float(tr.lat[a]), "lon": float(tr.lon[a]),
                             "max_agl_m": float(np.nanmax(agl[a:b + 1])) if np.isfinite(agl[a:b + 1]).any() else None})
            what = _zone_text(rule, a, b, agl, cap, over_cap, scenario.airspace.max_agl_m)
            reasons.append(f"{rule}: {what} from {tr.dist[a] / 1000:.2f} to {tr.dist[b] / 1000:.2f} km, starting "
                           f"{_fmt(tr.lat[a], tr.lon[a])} on the leg after {labels[tr.leg[a]]}")
    return reasons, sorted(viol), sections


def assess(flight: Flight, scenario: Scenario, terrain: Terrain, ac: AircraftClass,
           conditions: Conditions | None = None) -> Plan:
    """Assess a flight; the verdict carries its reasons and its evidence (extras)."""
    cond = conditions or Conditions()
    lim, wind = cond.limits, cond.wind
    wp = np.asarray(flight.waypoints, float)
    n = len(wp)
    reasons, extra = list(flight.reasons), dict(flight.extra)
    labels = flight.labels or [f"waypoint {i}" for i in range(n)]
    min_clear = cond.min_clearance_m if cond.min_clearance_m is not None else lim.clearance_for(ac)
    mass = ac.mass_kg() if flight.mass_kg is None else flight.mass_kg
    if n < 2:
        reasons.append("fewer than two waypoints: nothing to fly")
        return Plan(flight.kind, flight.mission_type, flight.site, ac.id, False, reasons, wp.reshape(-1, 3), 0.0, 0.0,
                    0.0, float("nan"), None, None, [], extra=extra)
    if wind.max_speed_mps > ac.wind_limit_mps:
        reasons.append(f"wind {wind.max_speed_mps:.1f} m/s exceeds the {ac.id} limit of {ac.wind_limit_mps:.1f} m/s")
    if float(np.max(mass)) > ac.max_takeoff_kg + 1e-6:
        reasons.append(f"mass {float(np.max(mass)):.1f} kg exceeds the maximum take-off mass {ac.max_takeoff_kg:.1f} kg")
    on_ground = np.zeros(n, bool) if flight.on_ground is None else np.asarray(flight.on_ground, bool).copy()
    on_ground[[0, -1]] = True
    flight.on_ground = on_ground
    h, _, _, _ = legs_utm(wp, flight.crs)
    tr = sample(flight, terrain, h, on_ground, lim.terminal_radius_m)
    reasons += terrain_reasons(flight, tr, labels, min_clear)
    zr, zones, extra["zone_sections"] = zone_reasons(scenario, ac, tr, labels)
    reasons += zr
    flown = fly(ac, wp, mass, flight.speed_mps, wind, flight.hold_s, labels, flight.crs)
    reasons += flown.reasons
    energy = flown.energy_wh
    duration = flown.time_s + (float(np.sum(flight.hold_s)) if flight.hold_s is not None else 0.0)
    reserve_pct = 100.0 * (ac.battery_wh - energy) / ac.battery_wh
    reasons += reserve_reasons(ac, flight, flown, mass, wind, lim.reserve_frac, labels, reserve_pct)
    warnings: list[str] = []
    radio_reasons, radio_extra = radio_decision(flight, terrain, ac, tr, lim, wind, warnings, flown, mass)
    reasons += radio_reasons
    extra.update(radio_extra)
    extra["warnings"] = warnings + extra.get("warnings", [])
    extra.setdefault("min_clearance_required_m", min_clear)
    extra.setdefault("wind", wind.describe())
    known = tr.airborne & ~tr.terminal & np.isfinite(tr.agl)
    speeds = np.broadcast_to(np.asarray(ac.cruise_mps if flight.speed_mps is None else flight.speed_mps, float),
                             (n - 1,)).copy()
    return Plan(flight.kind, flight.mission_type, flight.site, ac.id, not reasons, reasons, wp, float(np.sum(h)),
                duration, energy, reserve_pct, float(np.min(tr.agl[known])) if known.any() else None,
                float(np.max(tr.agl[np.isfinite(tr.agl)])) if np.isfinite(tr.agl).any() else None, zones,
                extra=extra, leg_times_s=flown.leg_t_s,
                hold_s=np.zeros(n) if flight.hold_s is None else np.asarray(flight.hold_s, float),
                leg_speed_mps=speeds)
