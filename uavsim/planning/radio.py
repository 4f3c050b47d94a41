"""Radio line of sight from the launch point, and what a shadow decides.

A track whose shadowed share exceeds ``radio_shadow_max_frac`` (rules table) fails, unless the aircraft class
declares a lost-link procedure (``lost_link`` in aircraft.toml), which the check then flies from the start of
every shadow: "return" climbs to the autopilot's RTL height and flies straight home (above the terrain for an aircraft that
follows it, ArduCopter RTL_ALT_TYPE 1); it must clear the terrain and keep the
reserve; "continue" flies the rest of the mission, which must end on the ground (it already is checked).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from uavsim import geo
from uavsim.planning.autopilot import autopilot_for
from uavsim.planning.profile import fly, runs

if TYPE_CHECKING:
    from uavsim.aircraft import AircraftClass
    from uavsim.planning.assessed import Flight, Track
    from uavsim.planning.conditions import Limits, Wind
    from uavsim.planning.profile import Flown
    from uavsim.terrain import Terrain

LOS_MAX_SAMPLES = 600
RETURN_STEP_M = 25.0
PROCEDURES = ("return", "continue")
MAX_RETURNS_FLOWN = 20


def _fmt(lat: float, lon: float) -> str:
    return f"({lat:.5f}, {lon:.5f})"


def shadow(terrain: Terrain, ac: AircraftClass, wp: np.ndarray, tr: Track, antenna_agl_m: float
           ) -> tuple[float, list[dict[str, Any]]]:
    """(shadowed share of the airborne track, shadow segments with their cause). Unknown terrain is shadow."""
    idx = np.flatnonzero(tr.airborne)
    if idx.size == 0:
        return 0.0, []
    if idx.size > LOS_MAX_SAMPLES:
        idx = idx[np.linspace(0, idx.size - 1, LOS_MAX_SAMPLES).astype(int)]
    ground0 = tr.wp_elev[0]
    ant = (ground0 if np.isfinite(ground0) else np.nan) + antenna_agl_m
    vis = terrain.line_of_sight(wp[0, 0], wp[0, 1], ant, tr.lat[idx], tr.lon[idx], tr.alt[idx])
    rng = geo.geodesic_distance(np.full(idx.size, wp[0, 0]), np.full(idx.size, wp[0, 1]), tr.lat[idx], tr.lon[idx])
    blocked = (vis != 1) | (rng > ac.radio_range_m)
    segs = []
    for a, b in runs(blocked):
        segs.append({"from_m": float(tr.dist[idx[a]]), "to_m": float(tr.dist[idx[b]]), "lat": float(tr.lat[idx[a]]),
                     "lon": float(tr.lon[idx[a]]), "alt_msl_m": float(tr.alt[idx[a]]), "sample": int(idx[a]),
                     "cause": "range" if (rng[a:b + 1] > ac.radio_range_m).all()
                     else "unknown terrain" if (vis[a:b + 1] == -1).all() else "terrain"})
    return float(blocked.mean()), segs


def fly_return(terrain: Terrain, ac: AircraftClass, flight: Flight, seg: dict[str, Any], mass: float, wind: Wind,
               used_wh: float, limits: Limits, min_clearance: float) -> list[str]:
    """Problems of a lost-link return begun at a shadow's start: terrain on the straight way home, reserve.

    An aircraft that follows the terrain returns at RTL_ALT above it (ArduCopter RTL_ALT_TYPE 1); any other
    at RTL_ALT above home (or higher, as ModeRTL's rules say) in a straight line."""
    wp = np.asarray(flight.waypoints, float)
    lat, lon, alt = seg["lat"], seg["lon"], seg["alt_msl_m"]
    home_alt = float(wp[0, 2])
    d = float(geo.geodesic_distance(lat, lon, wp[0, 0], wp[0, 1]))
    la, lo, _ = geo.geodesic_points(lat, lon, float(wp[0, 0]), float(wp[0, 1]), RETURN_STEP_M)
    ground = terrain.elevation(la, lo)
    out = []
    if not np.isfinite(ground).all():
        return ["terrain unknown on the way home"]
    if ac.terrain_following:
        rel = autopilot_for(ac).rtl_altitude_rel(alt - float(ground[0]), d)
        height = ground + rel
        if rel < min_clearance:
            out.append(f"the return at {rel:.0f} m above the terrain is below the minimum {min_clearance:.0f} m")
    else:
        height = np.full(la.size, home_alt + autopilot_for(ac).rtl_altitude_rel(alt - home_alt, d))
        margin = height - ground
        if margin[: max(la.size - 3, 1)].min() < min_clearance:  # the last samples descend to the launch point
            out.append(f"the straight way home passes {margin[: max(la.size - 3, 1)].min():.0f} m above the "
                       f"terrain (minimum {min_clearance:.1f} m)")
    path = np.vstack([[lat, lon, alt], np.column_stack([la, lo, height]), wp[0]])
    need = fly(ac, path, mass, None, wind, None, None, flight.crs).energy_wh
    if used_wh + need > ac.battery_wh * (1 - limits.reserve_frac):
        out.append(f"the return needs {need:.0f} Wh after {used_wh:.0f} Wh used, below the reserve")
    return out


def radio_decision(flight: Flight, terrain: Terrain, ac: AircraftClass, tr: Track, limits: Limits, wind: Wind,
                   warnings: list[str], flown: Flown, mass) -> tuple[list[str], dict[str, Any]]:
    wp = np.asarray(flight.waypoints, float)
    frac, segs = shadow(terrain, ac, wp, tr, limits.antenna_agl_m)
    extra: dict[str, Any] = {"shadowed_fraction": frac,
                             "shadow_segments": [{k: v for k, v in s.items() if k != "sample"} for s in segs]}
    if not segs:
        return [], extra
    where = "; ".join(f"{s['from_m'] / 1000:.2f}-{s['to_m'] / 1000:.2f} km from {_fmt(s['lat'], s['lon'])} "
                      f"({s['cause']})" for s in segs[:5]) + (f" and {len(segs) - 5} more" if len(segs) > 5 else "")
    text = f"radio link to the launch point lost for {frac:.0%} of the track: {where}"
    limit = limits.max_shadowed_frac
    if limit is None or frac <= limit:
        warnings.append(text)
        return [], extra
    proc = ac.lost_link
    if proc not in PROCEDURES:
        return [f"{text}; more than the {limit:.0%} allowed and the {ac.id} declares no lost-link procedure"], extra
    extra["lost_link"] = proc
    if proc == "continue":
        warnings.append(f"{text}; the {ac.id} continues its mission on link loss (declared), and the mission "
                        "ends on the ground")
        return [], extra
    cum = np.concatenate([[0.0], np.cumsum(flown.leg_wh)])
    leg_mass = np.broadcast_to(np.asarray(mass, float), (len(wp) - 1,))
    problems = []
    for s in segs[:: max(1, len(segs) // MAX_RETURNS_FLOWN)]:  # spread over the track on a long, broken link
        leg = int(tr.leg[s["sample"]])
        got = fly_return(terrain, ac, flight, s, float(leg_mass[leg]), wind, float(cum[leg]), limits,
                         limits.clearance_for(ac))
        problems += [f"lost-link return from {_fmt(s['lat'], s['lon'])} ({s['from_m'] / 1000:.2f} km): {p}" for p in got]
    warnings.append(f"{text}; the {ac.id} returns home on link loss (declared): flown from each shadow's start")
    return problems[:8], extra
