"""Mission files: read a QGroundControl ``.plan`` or ``QGC WPL 110`` ``.waypoints`` into the mission model, write
plans as either.

Reading (:mod:`uavsim.planning.items`) gives the file's items; :func:`read_mission` flies them as the aircraft's
autopilot would (:mod:`uavsim.planning.mission`). Writing emits TAKEOFF, WAYPOINT with hold time, DO_GRIPPER
release, DO_SPRAYER on and off at each lane, DO_CHANGE_SPEED and LAND, in the absolute, relative or terrain
frame, so that export -> import -> check round-trips.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from uavsim import geo
from uavsim.aircraft import get_aircraft, still_air_range_m
from uavsim.errors import MissionFileError, ScenarioError
from uavsim.planning import mavcmd as mc
from uavsim.planning.autopilot import autopilot_for
from uavsim.planning.items import DEFAULT_CHECK_AIRCRAFT, SAME_POINT_M, WPL_HEADER, Item, read_items
from uavsim.planning.mission import Mission, walk

if TYPE_CHECKING:
    from uavsim.aircraft import AircraftClass
    from uavsim.planning.plan import Plan
    from uavsim.terrain import Terrain

__all__ = ["Item", "Mission", "export_plan", "read_items", "read_mission", "write_qgc_plan", "write_wpl"]

CMD_WAYPOINT, CMD_LAND, CMD_TAKEOFF = mc.NAV_WAYPOINT, mc.NAV_LAND, mc.NAV_TAKEOFF
CMD_CHANGE_SPEED, CMD_GRIPPER, CMD_SPRAYER = mc.DO_CHANGE_SPEED, mc.DO_GRIPPER, mc.DO_SPRAYER
FRAME_MSL, FRAME_REL, FRAME_TERRAIN = mc.FRAME_GLOBAL, mc.FRAME_RELATIVE, mc.FRAME_TERRAIN


def read_mission(path: str | Path, terrain: Terrain | None = None, ac: AircraftClass | None = None,
                 params: dict[str, float] | None = None) -> Mission:
    """Read a .plan or .waypoints file and fly its items as the aircraft's autopilot would (altitudes MSL).

    ``ac`` defaults to the file's uavsim block's aircraft, else the check's default class."""
    p = Path(path)
    fmt, items, home, meta = read_items(p)
    if ac is None:
        named = str(meta.get("aircraft_id") or DEFAULT_CHECK_AIRCRAFT)
        try:
            ac = get_aircraft(None, named)
        except ScenarioError as exc:  # the file names an aircraft the catalogue lacks: the file's problem
            raise MissionFileError(p, f"its uavsim block names an unknown aircraft ({exc.problem})") from exc
    return walk(p, fmt, items, home, meta, terrain, autopilot_for(ac, params, meta.get("stack")), ac.kind == "multirotor",
                still_air_range_m(ac))


# -- writing ------------------------------------------------------------------------------------------------
def _items(plan: Plan, frame: int, terrain: Terrain | None = None
           ) -> tuple[list[tuple[int, int, list[float]]], tuple[float, float, float]]:
    """(command, frame, [p1..p4, lat, lon, alt]) rows for a plan; home is its first waypoint. In the terrain
    frame the waypoints carry their height above the DEM; take-off and landing stay relative to home."""
    wp = np.asarray(plan.waypoints, float)
    if len(wp) < 3:
        raise MissionFileError("<export>", f"a {plan.kind} plan needs at least 3 waypoints to export")
    home = tuple(float(v) for v in wp[0])
    hold = plan.hold_s if plan.hold_s.size == len(wp) else np.zeros(len(wp))
    speeds = plan.leg_speed_mps if plan.leg_speed_mps.size == len(wp) - 1 else None
    release = plan.extra.get("release_index")
    pairs = plan.extra.get("spray_pairs") or ([(plan.extra["spray_on_index"], plan.extra.get("spray_off_index"))]
                                              if plan.extra.get("spray_on_index") is not None else [])
    spray_on = {a for a, _ in pairs}
    spray_off = {b for _, b in pairs if b is not None}

    ground = terrain.elevation(wp[:, 0], wp[:, 1]) if frame == FRAME_TERRAIN else None

    def alt(i: int) -> float:
        a = float(wp[i, 2])
        return a if frame == FRAME_MSL else a - float(ground[i]) if ground is not None else a - home[2]

    # TAKEOFF climbs at home to the first waypoint's height; if that waypoint is right above home it is the
    # take-off item itself. Each leg's speed is set after the waypoint it starts from (the reader's order).
    end_frame = FRAME_REL if frame == FRAME_TERRAIN else frame
    rows: list[tuple[int, int, list[float]]] = [(CMD_TAKEOFF, end_frame, [0, 0, 0, math.nan, home[0], home[1],
                                                                          float(wp[1, 2]) - home[2] if ground is not None
                                                                          else alt(1)])]
    vertical = float(geo.geodesic_distance(wp[0, 0], wp[0, 1], wp[1, 0], wp[1, 1])) <= SAME_POINT_M
    last = len(wp) - 1
    cur_speed = math.nan
    for i in range(1, last):
        if i >= (2 if vertical else 1):
            rows.append((CMD_WAYPOINT, frame, [float(hold[i]), 0, 0, math.nan, float(wp[i, 0]), float(wp[i, 1]),
                                               alt(i)]))
        if release is not None and i == release:
            rows.append((CMD_GRIPPER, 2, [1, 0, 0, 0, 0, 0, 0]))
        if i in spray_off:  # the sprayer goes off at each lane's end and on at the next lane's start
            rows.append((CMD_SPRAYER, 2, [0, 0, 0, 0, 0, 0, 0]))
        if i in spray_on:
            rows.append((CMD_SPRAYER, 2, [1, 0, 0, 0, 0, 0, 0]))
        if speeds is not None and np.isfinite(speeds[i]) and speeds[i] != cur_speed:
            cur_speed = float(speeds[i])
            rows.append((CMD_CHANGE_SPEED, 2, [1, cur_speed, -1, 0, 0, 0, 0]))
    rows.append((CMD_LAND, end_frame, [0, 0, 0, math.nan, float(wp[last, 0]), float(wp[last, 1]), 0.0]))
    return rows, home  # type: ignore[return-value]


def write_qgc_plan(plan: Plan, path: str | Path, frame: int = FRAME_MSL, terrain: Terrain | None = None) -> Path:
    rows, home = _items(plan, frame, terrain)
    items = []
    for k, (cmd, fr, params) in enumerate(rows, start=1):
        items.append({"type": "SimpleItem", "autoContinue": True, "command": cmd, "doJumpId": k, "frame": fr,
                      "params": [None if isinstance(v, float) and math.isnan(v) else v for v in params],
                      **({"Altitude": params[6], "AltitudeMode": {FRAME_MSL: 2, FRAME_TERRAIN: 3}.get(fr, 1),
                          "AMSLAltAboveTerrain": None} if fr != 2 else {})})
    doc = {"fileType": "Plan", "version": 1, "groundStation": "uavsim",
           "mission": {"version": 2, "firmwareType": 3, "vehicleType": 2 if plan.aircraft_id != "medical-vtol" else 20,
                       "cruiseSpeed": 15, "hoverSpeed": 5, "plannedHomePosition": list(home), "items": items},
           "geoFence": {"circles": [], "polygons": [], "version": 2},
           "rallyPoints": {"points": [], "version": 2},
           "uavsim": {"aircraft_id": plan.aircraft_id, "mission_type": plan.mission_type, "site": plan.site,
                      "payload_kg": plan.extra.get("payload_kg")}}
    p = Path(path)
    p.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return p


def write_wpl(plan: Plan, path: str | Path, frame: int = FRAME_MSL, terrain: Terrain | None = None) -> Path:
    rows, home = _items(plan, frame, terrain)
    out = [WPL_HEADER, "\t".join(["0", "1", "0", "16", "0", "0", "0", "0", f"{home[0]:.9f}", f"{home[1]:.9f}",
                                  f"{home[2]:.4f}", "1"])]
    for k, (cmd, fr, params) in enumerate(rows, start=1):
        p = [0.0 if isinstance(v, float) and math.isnan(v) else v for v in params]
        out.append("\t".join([str(k), "0", str(fr), str(cmd), *(f"{v:.6f}" for v in p[:4]), f"{p[4]:.9f}",
                              f"{p[5]:.9f}", f"{p[6]:.4f}", "1"]))
    pth = Path(path)
    pth.write_text("\n".join(out) + "\n", encoding="utf-8")
    return pth


WRITERS = {".plan": write_qgc_plan, ".waypoints": write_wpl, ".txt": write_wpl}


def export_plan(plan: Plan, path: str | Path, terrain: Terrain | None = None, frame: int | None = None) -> list[Path]:
    """Write a plan by the file's suffix; a field of several sorties writes one file each (name-01.plan, ...).

    ``frame`` None takes each plan's own choice: the terrain frame for spray sorties of an aircraft that follows
    the terrain (``extra["export_frame"]``), else absolute (MSL). The terrain frame needs the DEM."""
    p = Path(path)
    writer = WRITERS.get(p.suffix.lower())
    if writer is None:
        raise MissionFileError(p, f"unknown mission format '{p.suffix}' (use .plan or .waypoints)")

    def one(pl: Plan, target: Path) -> Path:
        fr = frame if frame is not None else int(pl.extra.get("export_frame", FRAME_MSL))
        if fr == FRAME_TERRAIN and terrain is None:
            if frame is not None:
                raise MissionFileError(target, "the terrain frame needs the DEM the plan was made on")
            fr = FRAME_MSL
        return writer(pl, target, fr, terrain)

    if len(plan.sorties) == 1:
        return [one(plan.sorties[0], p)]
    if plan.sorties:
        return [one(s, p.with_name(f"{p.stem}-{k:02d}{p.suffix}")) for k, s in enumerate(plan.sorties, 1)]
    return [one(plan, p)]
