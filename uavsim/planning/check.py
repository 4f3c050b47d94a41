"""The pre-flight check of an operator's mission file, flown as its autopilot flies it.

The file is read into the mission model (:mod:`uavsim.planning.mission`), its legs are flown along the
autopilot's trajectory (:mod:`uavsim.planning.trajectory`: terrain following, ArduCopter's slowing down) and
the result goes through the same assessment as every plan (:func:`uavsim.planning.assess.assess`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from uavsim.aircraft import AircraftClass, get_aircraft
from uavsim.planning.assess import Conditions, Flight, assess, height_limits
from uavsim.planning.autopilot import autopilot_for
from uavsim.planning.conditions import Limits, Wind
from uavsim.planning.items import DEFAULT_CHECK_AIRCRAFT, read_items
from uavsim.planning.missionfile import read_mission
from uavsim.planning.profile import legs_utm, local_crs
from uavsim.planning.trajectory import autopilot_trajectory

if TYPE_CHECKING:
    from uavsim.planning.plan import Plan
    from uavsim.scenario import Scenario
    from uavsim.terrain import Terrain

__all__ = ["Conditions", "Flight", "assess", "check_mission", "height_limits", "mass_schedule"]


def mass_schedule(ac: AircraftClass, waypoints: np.ndarray, payload_kg: float | None = None,
                  release_index: int | None = None, spray_on: int | None = None, spray_off: int | None = None,
                  *, spray: list[tuple[int, int | None]] | None = None, crs: str | None = None) -> np.ndarray:
    """Mass (kg) on each leg: the payload until it is released (winch/gripper) at ``release_index``, or, while the
    sprayer runs (``spray`` pairs of waypoint indices, or one ``spray_on`` .. ``spray_off``), falling evenly with
    the distance sprayed."""
    n = len(waypoints)
    payload = ac.payload_kg if payload_kg is None else payload_kg
    full = ac.mass_kg(payload)
    mass = np.full(max(n - 1, 0), full)
    if release_index is not None:
        mass[release_index:] = ac.operating_kg
    pairs = spray if spray else ([(spray_on, spray_off)] if spray_on is not None else [])
    if not pairs:
        return mass
    h, _, _, _ = legs_utm(waypoints, crs) if crs else legs_utm(waypoints)
    spraying = np.zeros(max(n - 1, 0), bool)
    for on, off in pairs:
        spraying[on:(n - 1 if off is None else off)] = True
    sprayed = np.where(spraying, h, 0.0)
    total = float(sprayed.sum())
    before = np.concatenate([[0.0], np.cumsum(sprayed)[:-1]])
    share = before / total if total > 0 else np.zeros_like(before)
    mass = ac.operating_kg + (full - ac.operating_kg) * (1 - share)
    last_off = pairs[-1][1]
    mass[(n - 1 if last_off is None else last_off):] = ac.operating_kg
    if release_index is not None:
        mass[release_index:] = ac.operating_kg
    return mass


def check_mission(path: str | Path, scenario: Scenario | None = None, terrain: Terrain | None = None,
                  aircraft_id: str | None = None, *, wind: Wind | None = None, limits: Limits | None = None,
                  min_clearance_m: float | None = None, params: dict[str, float] | None = None) -> Plan:
    """Read a QGC .plan or WPL 110 .waypoints file, fly it as its autopilot would and assess it (kind "mission").

    ``params`` are autopilot parameters (:func:`uavsim.planning.autopilot.read_params`) over the class's."""
    from uavsim.scenario import Scenario
    from uavsim.terrain import open_dem

    sc = scenario if scenario is not None else Scenario.load()
    t = terrain if terrain is not None else open_dem()
    _, _, _, meta = read_items(path)
    ac_id = aircraft_id or meta.get("aircraft_id") or DEFAULT_CHECK_AIRCRAFT
    ac = get_aircraft(sc, str(ac_id))
    m = read_mission(path, t, ac, params)
    ap = autopilot_for(ac, params, m.meta.get("stack"))
    ac = replace(ac, climb_mps=ap.climb_mps, descent_mps=ap.descent_mps)  # the legs are timed at its limits
    crs = local_crs(float(np.mean(m.waypoints[:, 0])), float(np.mean(m.waypoints[:, 1])))
    traj = autopilot_trajectory(m, t, ac, ap, crs)
    payload = m.meta.get("payload_kg")
    mass = mass_schedule(ac, traj.waypoints, float(payload) if isinstance(payload, int | float) else None,
                         traj.index(m.release_index), spray=[(traj.index(a), traj.index(b)) for a, b in m.spray],
                         crs=crs)
    extra: dict[str, Any] = {
        "file": str(path), "format": m.format, "frames": sorted(m.frames), "release_index": traj.index(m.release_index),
        "spray_on_index": traj.index(m.spray_on), "spray_off_index": traj.index(m.spray_off), "payload_kg": payload,
        "aircraft_assumed": aircraft_id is None and "aircraft_id" not in m.meta, "autopilot": ap.describe(),
        "landings": int(m.on_ground[1:].sum()), "payload_events": m.payload_events, "crs": crs,
        "mission_waypoints": len(m.waypoints), "ground_wait_s": m.ground_wait_s}
    flight = Flight("mission", traj.waypoints, str(m.meta.get("mission_type", "unknown")), m.meta.get("site"),
                    mass, traj.speed_mps, traj.hold_s, traj.labels, traj.on_ground, crs=crs, extra=extra)
    cond = Conditions(limits or Limits.from_rules(), wind or Wind(), min_clearance_m)
    plan = assess(flight, sc, t, ac, cond)
    plan.duration_s += m.ground_wait_s
    plan.extra["warnings"] = m.warnings + traj.notes + plan.extra.get("warnings", [])
    return plan
