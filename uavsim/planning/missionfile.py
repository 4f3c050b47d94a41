"""Mission files: QGroundControl ``.plan`` (JSON) and ``QGC WPL 110`` ``.waypoints`` (tab-separated).

Reading turns a file into the flown polyline the checks need: home on the ground, the take-off climb, the
waypoints, and the landing (LAND, or RTL back to home). Altitude frames: 0 absolute (MSL), 3 relative to home,
10 above the terrain (the ``_INT`` variants 5, 6, 11 alike). A malformed or truncated file raises
:class:`MissionFileError` naming the file and the item. Writing emits the same commands (TAKEOFF, WAYPOINT
with hold time, DO_GRIPPER release, DO_CHANGE_SPEED, LAND) so that export -> import -> check round-trips.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from uavsim import geo
from uavsim._io import read_text
from uavsim.errors import MissionFileError

if TYPE_CHECKING:
    from uavsim.planning import Plan
    from uavsim.terrain import Terrain

WPL_HEADER = "QGC WPL 110"
CMD_WAYPOINT, CMD_LOITER_UNLIM, CMD_LOITER_TURNS, CMD_LOITER_TIME = 16, 17, 18, 19
CMD_RTL, CMD_LAND, CMD_TAKEOFF, CMD_SPLINE = 20, 21, 22, 82
CMD_VTOL_TAKEOFF, CMD_VTOL_LAND = 84, 85
CMD_CHANGE_SPEED, CMD_GRIPPER, CMD_SPRAYER = 178, 211, 216
CMD_NAMES = {16: "WAYPOINT", 17: "LOITER_UNLIM", 18: "LOITER_TURNS", 19: "LOITER_TIME", 20: "RTL", 21: "LAND",
             22: "TAKEOFF", 82: "SPLINE_WAYPOINT", 84: "VTOL_TAKEOFF", 85: "VTOL_LAND", 178: "DO_CHANGE_SPEED",
             211: "DO_GRIPPER", 216: "DO_SPRAYER"}
POSITION_CMDS = {CMD_WAYPOINT, CMD_LOITER_UNLIM, CMD_LOITER_TURNS, CMD_LOITER_TIME, CMD_SPLINE}
FRAME_MSL, FRAME_REL, FRAME_TERRAIN = 0, 3, 10
FRAMES = {0: FRAME_MSL, 5: FRAME_MSL, 3: FRAME_REL, 6: FRAME_REL, 10: FRAME_TERRAIN, 11: FRAME_TERRAIN}
RTL_MIN_REL_M = 15.0  # ArduPilot RTL_ALT default: return at least this high above home
SAME_POINT_M = 0.5
UNSET_HOME_M = 50.0  # a home altitude of exactly 0 over terrain higher than this is taken as unset


@dataclass
class Item:
    """One mission item, as in the file (params 1-4, lat, lon, alt)."""

    where: str  # "mission.items[3]" or "line 5"
    seq: int
    frame: int
    command: int
    params: tuple[float, ...]


@dataclass
class Mission:
    path: str
    format: str  # "plan" | "waypoints"
    waypoints: np.ndarray  # (n, 3) lat, lon, alt MSL; first and last on the ground
    labels: list[str]
    hold_s: np.ndarray  # per waypoint
    speed_mps: np.ndarray | None  # per leg, NaN where the file leaves the aircraft's cruise speed
    release_index: int | None  # legs from this one on fly without the payload
    spray_on: int | None  # the sprayer runs from this waypoint ...
    spray_off: int | None  # ... to this one
    frames: set[int]
    meta: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


# -- reading ------------------------------------------------------------------------------------------------
def _num(path: Path, where: str, name: str, v: Any, allow_null: bool = True) -> float:
    if v is None and allow_null:
        return math.nan
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise MissionFileError(path, f"{where}: {name} must be a number, got {v!r}")
    return float(v)


def _read_plan(path: Path, text: str) -> tuple[list[Item], tuple[float, float, float], dict[str, Any]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MissionFileError(path, f"not valid JSON at line {exc.lineno} column {exc.colno} ({exc.msg}); "
                                     "is the file truncated?") from exc
    if not isinstance(doc, dict) or doc.get("fileType") != "Plan":
        raise MissionFileError(path, "not a QGroundControl plan (expected an object with \"fileType\": \"Plan\")")
    mission = doc.get("mission")
    if not isinstance(mission, dict):
        raise MissionFileError(path, "missing the \"mission\" object")
    home = mission.get("plannedHomePosition")
    if not isinstance(home, list) or len(home) < 3:
        raise MissionFileError(path, "mission.plannedHomePosition: expected [lat, lon, alt MSL]")
    hlat, hlon, halt = (_num(path, "mission.plannedHomePosition", n, v) for n, v in zip(("lat", "lon", "alt"), home[:3],
                                                                                          strict=True))
    raw = mission.get("items")
    if not isinstance(raw, list):
        raise MissionFileError(path, "mission.items: expected a list")
    items: list[Item] = []

    def simple(e: Any, where: str) -> None:
        if not isinstance(e, dict):
            raise MissionFileError(path, f"{where}: expected an object")
        kind = e.get("type")
        if kind == "ComplexItem":
            inner = (e.get("TransectStyleComplexItem") or {}).get("Items")
            if not isinstance(inner, list):
                raise MissionFileError(path, f"{where}: complex item '{e.get('complexItemType')}' without its "
                                             "generated items; save the plan from QGroundControl again")
            for j, sub in enumerate(inner):
                simple(sub, f"{where}.TransectStyleComplexItem.Items[{j}]")
            return
        if kind != "SimpleItem":
            raise MissionFileError(path, f"{where}: unknown item type {kind!r}")
        cmd = e.get("command")
        frame = e.get("frame")
        params = e.get("params")
        if not isinstance(cmd, int) or isinstance(cmd, bool):
            raise MissionFileError(path, f"{where}: command must be an integer, got {cmd!r}")
        if not isinstance(frame, int) or isinstance(frame, bool):
            raise MissionFileError(path, f"{where}: frame must be an integer, got {frame!r}")
        if not isinstance(params, list) or len(params) != 7:
            raise MissionFileError(path, f"{where}: params must be a list of 7 values")
        p = tuple(_num(path, where, f"params[{k}]", v) for k, v in enumerate(params))
        seq = e.get("doJumpId", len(items) + 1)
        items.append(Item(where, int(seq) if isinstance(seq, int) else len(items) + 1, frame, cmd, p))

    for i, e in enumerate(raw):
        simple(e, f"mission.items[{i}]")
    meta = doc.get("uavsim") if isinstance(doc.get("uavsim"), dict) else {}
    return items, (hlat, hlon, halt), meta


def _read_wpl(path: Path, text: str) -> tuple[list[Item], tuple[float, float, float], dict[str, Any]]:
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != WPL_HEADER:
        first = lines[0][:40] if lines else ""
        raise MissionFileError(path, f"line 1: expected '{WPL_HEADER}', got {first!r}")
    rows: list[Item] = []
    for ln, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        f = line.split("\t") if "\t" in line else line.split()
        where = f"line {ln}"
        if len(f) != 12:
            raise MissionFileError(path, f"{where}: expected 12 tab-separated fields, got {len(f)}"
                                         + (" (truncated?)" if len(f) < 12 else ""))
        try:
            seq, _cur, frame, cmd = (int(v) for v in f[:4])
            vals = tuple(float(v) for v in f[4:11])
            int(f[11])
        except ValueError as exc:
            raise MissionFileError(path, f"{where}: not a number ({exc})") from exc
        rows.append(Item(f"{where} (seq {seq})", seq, frame, cmd, vals))
    if not rows:
        raise MissionFileError(path, "no items after the header (truncated?)")
    home = rows[0]
    if home.seq != 0:
        raise MissionFileError(path, f"{home.where}: the first item must be home (seq 0)")
    return rows[1:], (home.params[4], home.params[5], home.params[6]), {}


def read_mission(path: str | Path, terrain: Terrain | None = None) -> Mission:
    """Read a .plan or .waypoints file into the flown polyline (altitudes MSL)."""
    p = Path(path)
    text = read_text(p, MissionFileError)
    if not text.strip():
        raise MissionFileError(p, "empty file")
    fmt = "waypoints" if text.lstrip("\ufeff").startswith("QGC WPL") else "plan"
    items, home, meta = (_read_wpl if fmt == "waypoints" else _read_plan)(p, text)
    return _build(p, fmt, items, home, meta, terrain)


def _build(path: Path, fmt: str, items: list[Item], home: tuple[float, float, float], meta: dict[str, Any],
           terrain: Terrain | None) -> Mission:
    hlat, hlon, halt = home
    if not (math.isfinite(hlat) and math.isfinite(hlon) and -90 <= hlat <= 90 and -180 <= hlon <= 180):
        raise MissionFileError(path, f"home position ({hlat}, {hlon}) is not a valid latitude, longitude")
    warnings: list[str] = []
    home_ground = float(terrain.elevation(hlat, hlon)[0]) if terrain is not None else math.nan
    if not math.isfinite(halt):
        halt = home_ground
        warnings.append("home altitude missing: taken from the terrain")
    elif halt == 0 and home_ground > UNSET_HOME_M:  # ground stations write 0 when they had no altitude
        warnings.append(f"home altitude 0 m MSL where the terrain is {home_ground:.0f} m: taken as unset, "
                        "the terrain's height used instead")
        halt = home_ground

    def ground(lat: float, lon: float) -> float:
        if abs(lat - hlat) < 1e-9 and abs(lon - hlon) < 1e-9:
            return halt
        return float(terrain.elevation(lat, lon)[0]) if terrain is not None else math.nan

    wps: list[tuple[float, float, float]] = [(hlat, hlon, halt)]
    labels = ["home"]
    hold = [0.0]
    leg_speed: list[float] = []
    speed = math.nan
    frames: set[int] = set()
    release: int | None = None
    spray: list[int | None] = [None, None]
    ended = False

    def add(lat: float, lon: float, alt: float, label: str, h: float = 0.0) -> None:
        wps.append((lat, lon, alt))
        labels.append(label)
        hold.append(h)
        leg_speed.append(speed)

    def alt_msl(it: Item, lat: float, lon: float) -> float:
        if it.frame not in FRAMES:
            raise MissionFileError(path, f"{it.where}: unsupported altitude frame {it.frame} (0, 3 or 10)")
        frames.add(FRAMES[it.frame])
        a = it.params[6]
        if not math.isfinite(a):
            raise MissionFileError(path, f"{it.where}: altitude missing")
        f = FRAMES[it.frame]
        return a if f == FRAME_MSL else halt + a if f == FRAME_REL else ground(lat, lon) + a

    def position(it: Item, here_ok: bool = False) -> tuple[float, float]:
        lat, lon = it.params[4], it.params[5]
        if here_ok and (not (math.isfinite(lat) and math.isfinite(lon)) or (lat == 0 and lon == 0)):
            return wps[-1][0], wps[-1][1]  # LAND "here"
        if not (math.isfinite(lat) and math.isfinite(lon)) or (lat == 0 and lon == 0):
            raise MissionFileError(path, f"{it.where}: waypoint without a position ({lat}, {lon})")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise MissionFileError(path, f"{it.where}: ({lat}, {lon}) is not a valid latitude, longitude")
        return lat, lon

    for k, it in enumerate(items):
        name = f"mission item {k + 1} ({CMD_NAMES.get(it.command, 'command ' + str(it.command))}, {it.where})"
        if ended:
            warnings.append(f"{name}: after the mission's end (LAND/RTL), ignored")
            continue
        if it.command in (CMD_TAKEOFF, CMD_VTOL_TAKEOFF):
            if len(wps) > 1:
                raise MissionFileError(path, f"{it.where}: TAKEOFF after the aircraft is airborne")
            add(hlat, hlon, alt_msl(it, hlat, hlon), name)
        elif it.command in POSITION_CMDS:
            lat, lon = position(it)
            if len(wps) == 1:  # no TAKEOFF: climb vertically at home first
                warnings.append(f"{name}: no TAKEOFF item before the first waypoint; assumed a vertical climb")
                add(hlat, hlon, alt_msl(it, lat, lon), "climb at home")
            h = it.params[0] if it.command in (CMD_WAYPOINT, CMD_LOITER_TIME) and math.isfinite(it.params[0]) else 0.0
            if it.command == CMD_LOITER_UNLIM:
                warnings.append(f"{name}: LOITER_UNLIM never ends on its own; assessed as a pass")
            add(lat, lon, alt_msl(it, lat, lon), name, max(h, 0.0))
        elif it.command in (CMD_LAND, CMD_VTOL_LAND):
            lat, lon = position(it, here_ok=True)
            if geo.geodesic_distance(lat, lon, wps[-1][0], wps[-1][1]) > SAME_POINT_M:
                add(lat, lon, wps[-1][2], f"{name}: approach")
            add(lat, lon, ground(lat, lon), name)
            ended = True
        elif it.command == CMD_RTL:
            _rtl(wps, add, hlat, hlon, halt, name)
            ended = True
        elif it.command == CMD_CHANGE_SPEED:
            if math.isfinite(it.params[1]) and it.params[1] > 0:
                speed = it.params[1]
        elif it.command == CMD_GRIPPER:
            if it.params[1] == 0 and release is None:
                release = len(wps) - 1
        elif it.command == CMD_SPRAYER:
            if it.params[0] == 1 and spray[0] is None:
                spray[0] = len(wps) - 1
            elif it.params[0] == 0 and spray[0] is not None:
                spray[1] = len(wps) - 1
        elif it.command < 100:  # an unsupported NAV command would change the path: refuse to guess
            raise MissionFileError(path, f"{it.where}: unsupported navigation command {it.command}")
    if len(wps) == 1:
        raise MissionFileError(path, "the mission has no navigation items")
    if not ended:
        warnings.append("the mission does not end with LAND or RTL: assumed RTL")
        _rtl(wps, add, hlat, hlon, halt, "RTL (assumed)")
    sp = np.array(leg_speed, float)
    return Mission(str(path), fmt, np.array(wps, float), labels, np.array(hold, float),
                   sp if np.isfinite(sp).any() else None, release, spray[0], spray[1], frames, dict(meta), warnings)


def _rtl(wps, add, hlat: float, hlon: float, halt: float, name: str) -> None:
    alt = max(wps[-1][2], halt + RTL_MIN_REL_M)
    if alt > wps[-1][2]:
        add(wps[-1][0], wps[-1][1], alt, f"{name}: climb")
    if geo.geodesic_distance(hlat, hlon, wps[-1][0], wps[-1][1]) > SAME_POINT_M:
        add(hlat, hlon, alt, f"{name}: over home")
    add(hlat, hlon, halt, name)


# -- writing ------------------------------------------------------------------------------------------------
def _items(plan: Plan, frame: int) -> tuple[list[tuple[int, int, list[float]]], tuple[float, float, float]]:
    """(command, frame, [p1..p4, lat, lon, alt]) rows for a plan; home is its first waypoint."""
    wp = np.asarray(plan.waypoints, float)
    if len(wp) < 3:
        raise MissionFileError("<export>", f"a {plan.kind} plan needs at least 3 waypoints to export")
    home = tuple(float(v) for v in wp[0])
    hold = plan.hold_s if plan.hold_s.size == len(wp) else np.zeros(len(wp))
    speeds = plan.leg_speed_mps if plan.leg_speed_mps.size == len(wp) - 1 else None
    release = plan.extra.get("release_index")
    spray_on, spray_off = plan.extra.get("spray_on_index"), plan.extra.get("spray_off_index")

    def alt(a: float) -> float:
        return float(a) if frame == FRAME_MSL else float(a) - home[2]

    # TAKEOFF climbs at home to the first waypoint's height; if that waypoint is right above home it is the
    # take-off item itself. Each leg's speed is set after the waypoint it starts from (the reader's order).
    rows: list[tuple[int, int, list[float]]] = [(CMD_TAKEOFF, frame, [0, 0, 0, math.nan, home[0], home[1], alt(wp[1, 2])])]
    vertical = float(geo.geodesic_distance(wp[0, 0], wp[0, 1], wp[1, 0], wp[1, 1])) <= SAME_POINT_M
    last = len(wp) - 1
    cur_speed = math.nan
    for i in range(1, last):
        if i >= (2 if vertical else 1):
            rows.append((CMD_WAYPOINT, frame, [float(hold[i]), 0, 0, math.nan, float(wp[i, 0]), float(wp[i, 1]),
                                               alt(wp[i, 2])]))
        if release is not None and i == release:
            rows.append((CMD_GRIPPER, 2, [1, 0, 0, 0, 0, 0, 0]))
        if spray_on is not None and i == spray_on:
            rows.append((CMD_SPRAYER, 2, [1, 0, 0, 0, 0, 0, 0]))
        if spray_off is not None and i == spray_off:
            rows.append((CMD_SPRAYER, 2, [0, 0, 0, 0, 0, 0, 0]))
        if speeds is not None and np.isfinite(speeds[i]) and speeds[i] != cur_speed:
            cur_speed = float(speeds[i])
            rows.append((CMD_CHANGE_SPEED, 2, [1, cur_speed, -1, 0, 0, 0, 0]))
    rows.append((CMD_LAND, frame, [0, 0, 0, math.nan, float(wp[last, 0]), float(wp[last, 1]), 0.0]))
    return rows, home  # type: ignore[return-value]


def write_qgc_plan(plan: Plan, path: str | Path, frame: int = FRAME_MSL) -> Path:
    rows, home = _items(plan, frame)
    items = []
    for k, (cmd, fr, params) in enumerate(rows, start=1):
        items.append({"type": "SimpleItem", "autoContinue": True, "command": cmd, "doJumpId": k, "frame": fr,
                      "params": [None if isinstance(v, float) and math.isnan(v) else v for v in params],
                      **({"Altitude": params[6], "AltitudeMode": 2 if fr == FRAME_MSL else 1,
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


def write_wpl(plan: Plan, path: str | Path, frame: int = FRAME_MSL) -> Path:
    rows, home = _items(plan, frame)
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


def export_plan(plan: Plan, path: str | Path, terrain: Terrain | None = None, frame: int = FRAME_MSL) -> list[Path]:
    """Write a plan by the file's suffix; a field of several sorties writes one file each (name-01.plan, ...)."""
    p = Path(path)
    writer = WRITERS.get(p.suffix.lower())
    if writer is None:
        raise MissionFileError(p, f"unknown mission format '{p.suffix}' (use .plan or .waypoints)")
    if len(plan.sorties) == 1:
        return [writer(plan.sorties[0], p, frame)]
    if plan.sorties:
        return [writer(s, p.with_name(f"{p.stem}-{k:02d}{p.suffix}"), frame) for k, s in enumerate(plan.sorties, 1)]
    return [writer(plan, p, frame)]
