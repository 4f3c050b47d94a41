"""The state of one walk through a mission's items: position, altitude, speed, what is on board.

Apart from :mod:`uavsim.planning.mission` (which drives the walk) and :mod:`uavsim.planning.mission_cmds`
(one handler per command), so that the handlers and the driver both use it without importing each other.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from uavsim import geo
from uavsim.errors import MissionFileError
from uavsim.planning import mavcmd as mc
from uavsim.planning.items import SAME_POINT_M, Item
from uavsim.planning.profile import local_crs

if TYPE_CHECKING:
    from uavsim.planning.autopilot import Autopilot
    from uavsim.terrain import Terrain

LOITER_SEGMENTS = 36  # chords per full circle (0.13 % shorter than the circle)


class Walk:
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
