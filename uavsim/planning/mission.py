"""The mission model: a mission file's items flown in order, as the autopilot executes them.

One walk for QGC ``.plan`` and WPL 110 alike (:mod:`uavsim.planning.items` reads both into items).
- A program counter steps through the items, so DO_JUMP is unrolled with its repeat count; a repeat of -1 loops
  forever: a warning, one lap checked, and the items after it are never reached.
- Every NAV command of ArduPilot's and PX4's mission sets moves the aircraft. Several landings and take-offs in
  one mission are flown (LAND, VTOL_LAND, PAYLOAD_PLACE, then TAKEOFF or a PX4-style climb to the next waypoint).
- Position 0, 0 means "here"; on a multirotor an altitude of 0 keeps the current one (ArduCopter
  ``loc_from_cmd``). Loiters are flown as circles of ``LOITER_SEGMENTS`` chords per turn.
- A mission that ends in the air is checked with an RTL: ArduPlane's documented mission end. ArduCopter and PX4
  would hover, so the return that must follow is assumed and never left out of the energy.
- The file's home is the autopilot's only until it arms: ArduPilot and PX4 set home where the aircraft arms. A
  saved home farther from the first waypoint than the aircraft could fly is stale, and the flight starts at the
  first waypoint's position instead (a warning).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from uavsim import geo
from uavsim.errors import MissionFileError
from uavsim.planning import mavcmd as mc
from uavsim.planning.items import Item
from uavsim.planning.mission_cmds import HANDLERS, jump, return_to_launch
from uavsim.planning.walk import Walk

if TYPE_CHECKING:
    from uavsim.planning.autopilot import Autopilot
    from uavsim.terrain import Terrain

UNSET_HOME_M = 50.0  # a home altitude of exactly 0 over terrain higher than this is taken as unset
MAX_STEPS = 200_000  # items executed (after unrolling) before the walk is refused as runaway


@dataclass
class Mission:
    path: str
    format: str  # "plan" | "waypoints"
    waypoints: np.ndarray  # (n, 3) lat, lon, alt MSL; first and last on the ground
    labels: list[str]
    hold_s: np.ndarray  # per waypoint, airborne hover or loiter
    speed_mps: np.ndarray | None  # per leg, NaN where the file leaves the aircraft's cruise speed
    on_ground: np.ndarray  # per waypoint: touched down (take-off, landing, payload placed)
    terrain_agl: np.ndarray  # per waypoint: the terrain offset it was given (NaN unless terrain frame)
    releases: list[int]  # waypoint indices after which the payload is gone
    spray: list[tuple[int, int | None]]  # sprayer (on, off) waypoint indices
    payload_events: list[dict[str, Any]]
    frames: set[int]
    land_start: int | None = None  # waypoint index of the first DO_LAND_START (where a return rejoins)
    ground_wait_s: float = 0.0  # waiting on the ground between landings (no energy)
    meta: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def release_index(self) -> int | None:
        return self.releases[0] if self.releases else None

    @property
    def spray_on(self) -> int | None:
        return self.spray[0][0] if self.spray else None

    @property
    def spray_off(self) -> int | None:
        return self.spray[-1][1] if self.spray else None


def walk(path: Path, fmt: str, items: list[Item], home: tuple[float, float, float], meta: dict[str, Any],
         terrain: Terrain | None, ap: Autopilot, multirotor: bool, max_reach_m: float) -> Mission:
    """Fly the items in order; see the module's docstring."""
    home = _home(path, items, home, terrain, max_reach_m, meta)
    w = Walk(path, home[0], ap, terrain, multirotor)
    w.warnings.extend(home[1])
    by_seq = {it.seq: k for k, it in enumerate(items)}
    jumps_done: dict[int, int] = {}
    pc, steps = 0, 0
    while pc < len(items):
        it = items[pc]
        steps += 1
        if steps > MAX_STEPS:
            raise MissionFileError(path, f"{it.where}: more than {MAX_STEPS} items flown after unrolling DO_JUMPs")
        w.where = it.where
        w.name = f"mission item {it.seq} ({mc.name(it.command)}, {it.where})"
        if it.command == mc.DO_JUMP:
            nxt = jump(w, it, pc, by_seq, jumps_done)
            if nxt is None:  # a forever loop: one lap flown, the rest never reached
                break
            pc = nxt
            continue
        handler = HANDLERS.get(it.command)
        if handler is not None:
            handler(w, it)
        elif mc.family(it.command) == "nav":
            raise w.fail(f"unsupported navigation command {it.command} ({mc.name(it.command)}): the path after it "
                         "cannot be known")
        else:
            w.warnings.append(f"{w.name}: command not modelled by the check, ignored")
        pc += 1
    return _finish(w, path, fmt, meta)


def _home(path: Path, items: list[Item], home: tuple[float, float, float], terrain: Terrain | None,
          max_reach_m: float, meta: dict[str, Any]) -> tuple[tuple[float, float, float], list[str]]:
    hlat, hlon, halt = home
    notes: list[str] = []
    first = next(((it.params[4], it.params[5]) for it in items if mc.family(it.command) == "nav"
                  and math.isfinite(it.params[4]) and math.isfinite(it.params[5])
                  and not (it.params[4] == 0 and it.params[5] == 0)), None)
    valid = math.isfinite(hlat) and math.isfinite(hlon) and -90 <= hlat <= 90 and -180 <= hlon <= 180
    unset = not valid or (hlat == 0 and hlon == 0)
    if first is not None and (unset or geo.geodesic_distance(hlat, hlon, *first) > max_reach_m):
        why = "is not set" if unset else (f"lies {geo.geodesic_distance(hlat, hlon, *first) / 1000:.0f} km from the "
                                          f"first waypoint, beyond the aircraft's reach of {max_reach_m / 1000:.0f} km")
        notes.append(f"saved home {why}: the autopilot sets home where it arms, taken as the first waypoint's "
                     f"position {first[0]:.6f}, {first[1]:.6f}")
        hlat, hlon, halt = first[0], first[1], math.nan
        meta["home_replaced"] = True
    elif not valid:
        raise MissionFileError(path, f"home position ({hlat}, {hlon}) is not a valid latitude, longitude")
    ground = float(terrain.elevation(hlat, hlon)[0]) if terrain is not None else math.nan
    if not math.isfinite(halt):
        halt = ground
        if not meta.get("home_replaced"):
            notes.append("home altitude missing: taken from the terrain")
    elif halt == 0 and ground > UNSET_HOME_M:  # ground stations write 0 when they had no altitude
        notes.append(f"home altitude 0 m MSL where the terrain is {ground:.0f} m: taken as unset, "
                     "the terrain's height used instead")
        halt = ground
    return (hlat, hlon, halt), notes


def _finish(w: Walk, path: Path, fmt: str, meta: dict[str, Any]) -> Mission:
    if len(w.wps) == 1:
        raise MissionFileError(path, "the mission has no navigation items")
    if w.airborne:
        w.name = "end of mission"
        w.warnings.append("the mission does not end on the ground (LAND or RTL): assumed RTL (ArduCopter would "
                          "hover at the last waypoint, ArduPlane and PX4 loiter there)")
        return_to_launch(w, None)
    if w.spray and w.spray[-1][1] is None:
        w.spray[-1] = (w.spray[-1][0], len(w.wps) - 1)
    sp = np.array(w.leg_speed, float)
    return Mission(str(path), fmt, np.array(w.wps, float), w.labels, np.array(w.hold, float),
                   sp if np.isfinite(sp).any() else None, np.array(w.ground, bool), np.array(w.agl, float),
                   w.releases, w.spray, w.payload, w.frames, w.land_start, w.ground_wait_s, dict(meta), w.warnings)
