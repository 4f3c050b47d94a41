"""Reading mission files into items: QGroundControl ``.plan`` (JSON) and ``QGC WPL 110`` ``.waypoints``.

WPL rows are 12 fields separated by tabs or spaces (Mission Planner writes both); ``#`` starts a comment. A
malformed or truncated file raises :class:`MissionFileError` naming the file and the line or item.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from uavsim._io import read_text
from uavsim.errors import MissionFileError
from uavsim.planning import mavcmd as mc

WPL_HEADER = "QGC WPL 110"
CMD_WAYPOINT, CMD_LAND, CMD_TAKEOFF = mc.NAV_WAYPOINT, mc.NAV_LAND, mc.NAV_TAKEOFF
CMD_CHANGE_SPEED, CMD_GRIPPER, CMD_SPRAYER = mc.DO_CHANGE_SPEED, mc.DO_GRIPPER, mc.DO_SPRAYER
FRAME_MSL, FRAME_REL, FRAME_TERRAIN = mc.FRAME_GLOBAL, mc.FRAME_RELATIVE, mc.FRAME_TERRAIN
SAME_POINT_M = 0.5
DEFAULT_CHECK_AIRCRAFT = "delivery-2kg"  # when neither --aircraft nor the file's uavsim block names one
WPL_FIELDS = 12
FIRMWARE_TYPES = {mc.C.MAV_AUTOPILOT_PX4: "PX4", mc.C.MAV_AUTOPILOT_ARDUPILOTMEGA: "ArduPilot"}


@dataclass
class Item:
    """One mission item, as in the file (params 1-4, lat, lon, alt)."""

    where: str  # "mission.items[3]" or "line 5 (seq 4)"
    seq: int
    frame: int
    command: int
    params: tuple[float, ...]


# -- reading ------------------------------------------------------------------------------------------------
def _num(path: Path, where: str, name: str, v: Any, allow_null: bool = True) -> float:
    if v is None and allow_null:
        return math.nan
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise MissionFileError(path, f"{where}: {name} must be a number, got {v!r}")
    return float(v)


LANDING_PATTERNS = {"fwLandingPattern": mc.NAV_LAND, "vtolLandingPattern": mc.NAV_VTOL_LAND}


def _landing_pattern(path: Path, e: dict[str, Any], where: str, n: int) -> list[Item]:
    """The items QGroundControl generates from a landing pattern (they are not saved in the file): DO_LAND_START,
    then LOITER_TO_ALT (or a waypoint) at the approach point at its height, then LAND at the landing point."""
    land = e.get("landCoordinate")
    approach = e.get("landingApproachCoordinate") or e.get("loiterCoordinate")
    if not (isinstance(land, list) and len(land) >= 2 and isinstance(approach, list) and len(approach) >= 3):
        raise MissionFileError(path, f"{where}: landing pattern without landCoordinate and its approach point")
    la, lo, _ = (_num(path, where, "landCoordinate", v) for v in (list(land) + [0.0])[:3])
    aa, ao, az = (_num(path, where, "landingApproachCoordinate", v) for v in approach[:3])
    frame = mc.FRAME_RELATIVE if e.get("altitudesAreRelative", True) else mc.FRAME_GLOBAL
    radius = abs(_num(path, where, "loiterRadius", e.get("loiterRadius", 0.0) or 0.0))
    radius = radius if e.get("loiterClockwise", True) else -radius
    nav = mc.NAV_LOITER_TO_ALT if e.get("useLoiterToAlt", True) else mc.NAV_WAYPOINT
    cmd = LANDING_PATTERNS[e["complexItemType"]]
    return [Item(f"{where} (landing pattern: DO_LAND_START)", n + 1, mc.FRAME_MISSION, mc.DO_LAND_START,
                 (0.0, 0.0, 0.0, 0.0, la, lo, 0.0)),
            Item(f"{where} (landing pattern: approach)", n + 2, frame, nav,
                 (0.0, radius, 0.0, 0.0, aa, ao, az) if nav == mc.NAV_LOITER_TO_ALT else (0.0, 0.0, 0.0, 0.0, aa, ao, az)),
            Item(f"{where} (landing pattern: land)", n + 3, frame, cmd, (0.0, 0.0, 0.0, 0.0, la, lo, 0.0))]


def _plan_mission(path: Path, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(document, its "mission" object) of a QGC plan, or a clear error."""
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
    if not isinstance(mission.get("items"), list):
        raise MissionFileError(path, "mission.items: expected a list")
    return doc, mission


def _int_field(path: Path, where: str, e: dict[str, Any], key: str) -> int:
    v = e.get(key)
    if not isinstance(v, int) or isinstance(v, bool):
        raise MissionFileError(path, f"{where}: {key} must be an integer, got {v!r}")
    return v


def _plan_items(path: Path, e: Any, where: str, items: list[Item]) -> None:
    """Append the items of one plan entry: a SimpleItem, or the items a ComplexItem generated."""
    if not isinstance(e, dict):
        raise MissionFileError(path, f"{where}: expected an object")
    kind = e.get("type")
    if kind == "ComplexItem":
        if e.get("complexItemType") in LANDING_PATTERNS:
            items.extend(_landing_pattern(path, e, where, len(items)))
            return
        inner = (e.get("TransectStyleComplexItem") or {}).get("Items") or e.get("Items")  # StructureScan
        if not isinstance(inner, list):
            raise MissionFileError(path, f"{where}: complex item '{e.get('complexItemType')}' without its "
                                         "generated items; save the plan from QGroundControl again")
        for j, sub in enumerate(inner):
            _plan_items(path, sub, f"{where}.TransectStyleComplexItem.Items[{j}]", items)
        return
    if kind != "SimpleItem":
        raise MissionFileError(path, f"{where}: unknown item type {kind!r}")
    cmd, frame = _int_field(path, where, e, "command"), _int_field(path, where, e, "frame")
    params = e.get("params")
    if not isinstance(params, list) or len(params) != 7:
        raise MissionFileError(path, f"{where}: params must be a list of 7 values")
    p = tuple(_num(path, where, f"params[{k}]", v) for k, v in enumerate(params))
    seq = e.get("doJumpId", len(items) + 1)
    items.append(Item(where, int(seq) if isinstance(seq, int) else len(items) + 1, frame, cmd, p))


def _read_plan(path: Path, text: str) -> tuple[list[Item], tuple[float, float, float], dict[str, Any]]:
    doc, mission = _plan_mission(path, text)
    home = mission.get("plannedHomePosition")
    if not isinstance(home, list) or len(home) < 3:
        raise MissionFileError(path, "mission.plannedHomePosition: expected [lat, lon, alt MSL]")
    hlat, hlon, halt = (_num(path, "mission.plannedHomePosition", n, v)
                        for n, v in zip(("lat", "lon", "alt"), home[:3], strict=True))
    items: list[Item] = []
    for i, e in enumerate(mission["items"]):
        _plan_items(path, e, f"mission.items[{i}]", items)
    meta = dict(doc.get("uavsim")) if isinstance(doc.get("uavsim"), dict) else {}
    meta.setdefault("stack", FIRMWARE_TYPES.get(mission.get("firmwareType"), "ArduPilot"))
    return items, (hlat, hlon, halt), meta


def _read_wpl(path: Path, text: str) -> tuple[list[Item], tuple[float, float, float], dict[str, Any]]:
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != WPL_HEADER:
        first = lines[0][:40] if lines else ""
        raise MissionFileError(path, f"line 1: expected '{WPL_HEADER}', got {first!r}")
    rows: list[Item] = []
    for ln, line in enumerate(lines[1:], start=2):
        body = line.split("#", 1)[0].strip()  # Mission Planner allows comments and blank lines
        if body:
            rows.append(_wpl_row(path, ln, body))
    if not rows:
        raise MissionFileError(path, "no items after the header (truncated?)")
    home = rows[0]
    if home.seq != 0:
        raise MissionFileError(path, f"{home.where}: the first item must be home (seq 0)")
    return rows[1:], (home.params[4], home.params[5], home.params[6]), {}


def _wpl_row(path: Path, ln: int, body: str) -> Item:
    """One WPL row: 12 fields separated by tabs or spaces (Mission Planner writes both)."""
    f = body.split()
    where = f"line {ln}"
    if len(f) != WPL_FIELDS:
        raise MissionFileError(path, f"{where}: expected {WPL_FIELDS} fields (seq, current, frame, command, "
                                     f"p1-p4, lat, lon, alt, autocontinue), got {len(f)}"
                                     + (" (truncated?)" if len(f) < WPL_FIELDS else ""))
    try:
        seq, _cur, frame, cmd = (int(float(v)) for v in f[:4])
        vals = tuple(float(v) for v in f[4:11])
        int(float(f[11]))
    except ValueError as exc:
        raise MissionFileError(path, f"{where}: not a number ({exc})") from exc
    return Item(f"{where} (seq {seq})", seq, frame, cmd, vals)


def read_items(path: str | Path) -> tuple[str, list[Item], tuple[float, float, float], dict[str, Any]]:
    """(format, items after home, home (lat, lon, alt MSL), the file's uavsim block) of a .plan or WPL file."""
    p = Path(path)
    text = read_text(p, MissionFileError)
    if not text.strip():
        raise MissionFileError(p, "empty file")
    fmt = "waypoints" if text.lstrip("\ufeff").startswith("QGC WPL") else "plan"
    items, home, meta = (_read_wpl if fmt == "waypoints" else _read_plan)(p, text)
    return fmt, items, home, meta
