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
from uavsim.planning.items import SAME_POINT_M, Item
from uavsim.planning.mission_cmds import HANDLERS, jump, return_to_launch
from uavsim.planning.profile import local_crs

if TYPE_CHECKING:
    from uavsim.planning.autopilot import Autopilot
    from uavsim.terrain import Terrain

UNSET_HOME_M = 50.0  # a home altitude of exactly 0 over terrain higher than this is taken as unset
LOITER_SEGMENTS = 36  # chords per full circle (0.13 % shorter than the circle)
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


class _Walk:
    """State of one walk through the items (position, altitude, speed, what is on board)."""

    def __init__(self, path: Path, home: tuple[float, float, float], ap: Autopilot, terrain: Terrain | None,
                 multirotor: bool) -> None:
        self.path, self.ap, self.terrain, self.multirotor = path, ap, terrain, multirotor
        self.home = home
        self.wps: list[tuple[float, float, float]] = [home]
        self.labels, self.hold, self.ground, self.agl = ["home"], [0.0], [True], [math.nan]
        self.leg_speed: list[float] = []
        self.speed = math.nan
        self.frames: set[int] = set()
        self.releases: list[int] = []
        self.spray: list[tuple[int, int | None]] = []
        self.payload: list[dict[str, Any]] = []
        self.warnings: list[str] = []
        self.land_start: int | None = None
        self.ground_wait_s = 0.0
        self.name = ""
        self.where = ""

    # -- state ------------------------------------------------------------------------------------------------
    @property
    def here(self) -> tuple[float, float, float]:
        return self.wps[-1]

    @property
    def airborne(self) -> bool:
        return not self.ground[-1]

    def add(self, lat: float, lon: float, alt: float, label: str, *, hold: float = 0.0, ground: bool = False,
            agl: float = math.nan) -> None:
        self.wps.append((lat, lon, alt))
        self.labels.append(label)
        self.hold.append(hold)
        self.ground.append(ground)
        self.agl.append(agl)
        self.leg_speed.append(self.speed)

    def ground_at(self, lat: float, lon: float) -> float:
        if abs(lat - self.home[0]) < 1e-9 and abs(lon - self.home[1]) < 1e-9:
            return self.home[2]
        return float(self.terrain.elevation(lat, lon)[0]) if self.terrain is not None else math.nan

    def fail(self, problem: str) -> MissionFileError:
        return MissionFileError(self.path, f"{self.where}: {problem}")

    def position(self, it: Item) -> tuple[float, float]:
        lat, lon = it.params[4], it.params[5]
        if not (math.isfinite(lat) and math.isfinite(lon)) or (lat == 0 and lon == 0):
            return self.here[0], self.here[1]  # "here": the autopilots' convention for a zero position
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise self.fail(f"({lat}, {lon}) is not a valid latitude, longitude")
        return lat, lon

    def altitude(self, it: Item, lat: float, lon: float, keep_zero: bool = True) -> tuple[float, float]:
        """(alt MSL, terrain offset or NaN) of an item's altitude in its frame."""
        datum = mc.DATUM.get(it.frame)
        if datum is None:
            raise self.fail(f"unsupported altitude frame {it.frame} (0, 3, 10 or their _INT variants 5, 6, 11)")
        self.frames.add({"msl": 0, "rel": 3, "terrain": 10}[datum])
        a = it.params[6]
        if not math.isfinite(a):
            raise self.fail("altitude missing")
        if a == 0 and keep_zero and self.multirotor and self.airborne:  # ArduCopter: 0 keeps the altitude
            return self.here[2], self.agl[-1]
        if datum == "msl":
            return a, math.nan
        if datum == "rel":
            return self.home[2] + a, math.nan
        return self.ground_at(lat, lon) + a, a

    # -- motions ----------------------------------------------------------------------------------------------
    def climb_here(self, alt: float, label: str, agl: float = math.nan) -> None:
        lat, lon, z = self.here
        if alt > z + 1e-6 or not self.airborne:
            self.add(lat, lon, max(alt, z), label, agl=agl)

    def go(self, lat: float, lon: float, alt: float, label: str, *, hold: float = 0.0, agl: float = math.nan) -> None:
        if not self.airborne:  # PX4 takes off to the next waypoint's height after a landing; so does a plan
            self.warnings.append(f"{self.name}: no TAKEOFF before it; assumed a vertical climb where it stands")
            self.climb_here(alt, f"{self.name}: climb", agl)
        self.add(lat, lon, alt, label, hold=hold, agl=agl)

    def touch_down(self, lat: float, lon: float, label: str) -> None:
        z = self.here[2]
        if geo.geodesic_distance(lat, lon, self.here[0], self.here[1]) > SAME_POINT_M:
            self.add(lat, lon, z, f"{label}: approach", agl=self.agl[-1])
        self.add(lat, lon, self.ground_at(lat, lon), label, ground=True)

    def circle(self, lat: float, lon: float, alt: float, radius: float, turns: float, label: str) -> None:
        """Fly to the circle's edge on the way in, circle ``turns`` times, and leave from the same edge point."""
        crs = local_crs(lat, lon)
        cx, cy = geo.to_utm(lat, lon, crs)
        px, py = geo.to_utm(self.here[0], self.here[1], crs)
        d = math.hypot(float(px - cx), float(py - cy))
        start = math.atan2(float(py - cy), float(px - cx)) if d > 1e-6 else 0.0
        radius = abs(radius)
        if radius < 0.5 or turns <= 0:
            self.go(lat, lon, alt, label)
            return
        k = max(int(math.ceil(LOITER_SEGMENTS * turns)), 1)
        angles = start - np.linspace(0.0, 2 * math.pi * turns, k + 1)  # clockwise, ArduPilot's default
        xs, ys = cx + radius * np.cos(angles), cy + radius * np.sin(angles)
        la, lo = geo.from_utm(xs, ys, crs)
        for j in range(k + 1):
            self.go(float(la[j]), float(lo[j]), alt, f"{label}: circling" if j else f"{label}: circle entry")


def walk(path: Path, fmt: str, items: list[Item], home: tuple[float, float, float], meta: dict[str, Any],
         terrain: Terrain | None, ap: Autopilot, multirotor: bool, max_reach_m: float) -> Mission:
    """Fly the items in order; see the module's docstring."""
    home = _home(path, items, home, terrain, max_reach_m, meta)
    w = _Walk(path, home[0], ap, terrain, multirotor)
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


def _finish(w: _Walk, path: Path, fmt: str, meta: dict[str, Any]) -> Mission:
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
