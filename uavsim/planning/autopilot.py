"""The autopilot that flies a mission file: its parameters and its return-to-launch altitude rules.

A multirotor class is flown as ArduCopter flies (or PX4, for a QGC plan saved for PX4: rtl.cpp's cone) (AC_WPNav waypoint speeds, ModeRTL's return altitude); a VTOL
class as ArduPlane's QuadPlane in forward flight (TECS climb and sink limits, ALT_HOLD_RTL). The defaults are
ArduPilot's parameter defaults, with speeds and rates from the aircraft class; a user's parameter file
(ArduPilot ``.param`` / ``.parm``: ``NAME,VALUE`` or ``NAME VALUE`` per line, ``#`` comments) overrides them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from uavsim._io import read_text
from uavsim.errors import DataFileError

if TYPE_CHECKING:
    from uavsim.aircraft import AircraftClass

CM = 0.01
# ArduCopter defaults (Parameters.cpp / AC_WPNav.cpp / ModeRTL): centimetres as in the parameter files
RTL_ALT_MIN_M = 2.0  # ModeRTL RTL_ALT_MIN (200 cm)
RTL_ABS_MIN_CLIMB_M = 2.5  # ModeRTL RTL_ABS_MIN_CLIMB (250 cm)
RTL_MIN_CONE_SLOPE = 0.5  # below this RTL_CONE_SLOPE is off
COPTER_DEFAULTS = {"RTL_ALT": 1500.0, "RTL_CONE_SLOPE": 3.0, "RTL_CLIMB_MIN": 0.0, "RTL_LOIT_TIME": 5000.0,
                   "RTL_ALT_FINAL": 0.0, "LAND_SPEED": 50.0, "LAND_ALT_LOW": 1000.0, "WPNAV_TER_MARGIN": 10.0,
                   "CIRCLE_RADIUS": 1000.0}
# ArduPlane defaults: ALT_HOLD_RTL 100 m (-1: keep the current altitude), RTL_AUTOLAND 0 (loiter at home)
# PX4 defaults (rtl_params.c): return 60 m above home, descend to 30 m, cone half-angle 45 degrees
PX4_DEFAULTS = {"RTL_RETURN_ALT": 60.0, "RTL_DESCEND_ALT": 30.0, "RTL_CONE_ANG": 45.0, "RTL_LAND_DELAY": 0.0}
PLANE_DEFAULTS = {"ALT_HOLD_RTL": 10000.0, "RTL_AUTOLAND": 0.0, "Q_RTL_MODE": 1.0, "WP_LOITER_RAD": 60.0}
PX4_ALIASES = {"MPC_XY_CRUISE": ("WPNAV_SPEED", 100.0), "MPC_Z_V_AUTO_UP": ("WPNAV_SPEED_UP", 100.0),
               "MPC_Z_V_AUTO_DN": ("WPNAV_SPEED_DN", 100.0)}
# parameter -> (attribute of the aircraft class it defaults to, scale from the class's SI value to the file's unit)
FROM_CLASS = {"WPNAV_SPEED": ("cruise_mps", 100.0), "WPNAV_SPEED_UP": ("climb_mps", 100.0),
              "WPNAV_SPEED_DN": ("descent_mps", 100.0), "TECS_CLMB_MAX": ("climb_mps", 1.0),
              "TECS_SINK_MAX": ("descent_mps", 1.0), "AIRSPEED_CRUISE": ("cruise_mps", 1.0),
              "Q_WP_SPEED_UP": ("climb_mps", 100.0), "Q_WP_SPEED_DN": ("descent_mps", 100.0)}


@dataclass(frozen=True)
class Autopilot:
    """The parameters a mission is flown with, in SI units, and where each came from."""

    firmware: str  # "ArduCopter" | "ArduPlane" | "PX4" (a multirotor flown by PX4)
    values: dict[str, float]  # in the parameter files' units (cm, cm/s, ms as ArduPilot writes them)
    given: frozenset[str] = field(default_factory=frozenset)  # names taken from the user's file

    def get(self, name: str) -> float:
        return self.values[name]

    @property
    def copter(self) -> bool:
        """Multirotor kinematics (ArduCopter, or PX4 on a multirotor)."""
        return self.firmware in ("ArduCopter", "PX4")

    @property
    def wp_speed_mps(self) -> float:
        return self.get("WPNAV_SPEED") * CM if self.copter else self.get("AIRSPEED_CRUISE")

    @property
    def climb_mps(self) -> float:
        return self.get("WPNAV_SPEED_UP") * CM if self.copter else self.get("TECS_CLMB_MAX")

    @property
    def descent_mps(self) -> float:
        return self.get("WPNAV_SPEED_DN") * CM if self.copter else self.get("TECS_SINK_MAX")

    @property
    def vtol_climb_mps(self) -> float:
        return self.get("WPNAV_SPEED_UP") * CM if self.copter else self.get("Q_WP_SPEED_UP") * CM

    @property
    def vtol_descent_mps(self) -> float:
        return self.get("WPNAV_SPEED_DN") * CM if self.copter else self.get("Q_WP_SPEED_DN") * CM

    @property
    def terrain_margin_m(self) -> float:
        """ArduCopter WPNAV_TER_MARGIN: how far the aircraft may lag its terrain offset before it stops."""
        return self.get("WPNAV_TER_MARGIN")

    def rtl_altitude_rel(self, alt_rel_m: float, dist_home_m: float) -> float:
        """Return altitude above home of an RTL begun at ``alt_rel_m`` above home, ``dist_home_m`` away.

        ArduCopter ModeRTL: at least RTL_ALT (and RTL_ALT_MIN), at least RTL_CLIMB_MIN above the current height,
        reduced inside the cone RTL_CONE_SLOPE x distance (never below the current height + 2.5 m nor below the
        current height). ArduPlane: ALT_HOLD_RTL (-1 keeps the current altitude)."""
        if self.firmware == "PX4":  # rtl.cpp: inside the cone it need not climb to RTL_RETURN_ALT
            top, low = self.get("RTL_RETURN_ALT"), self.get("RTL_DESCEND_ALT")
            ang = self.get("RTL_CONE_ANG")
            cone = dist_home_m / math.tan(math.radians(ang)) if 0 < ang < 90 else top
            return max(alt_rel_m, max(low, min(top, cone)) if ang > 0 else top)
        if not self.copter:
            hold = self.get("ALT_HOLD_RTL")
            return alt_rel_m if hold < 0 else hold * CM
        target = max(alt_rel_m + max(0.0, self.get("RTL_CLIMB_MIN") * CM), self.get("RTL_ALT") * CM, RTL_ALT_MIN_M)
        slope = self.get("RTL_CONE_SLOPE")
        if slope >= RTL_MIN_CONE_SLOPE:
            target = max(alt_rel_m, min(target, max(dist_home_m * slope, alt_rel_m + RTL_ABS_MIN_CLIMB_M)))
        return target

    @property
    def loiter_radius_m(self) -> float:
        """Radius of LOITER_TURNS without its own: ArduCopter CIRCLE_RADIUS (cm), ArduPlane WP_LOITER_RAD (m)."""
        return self.get("CIRCLE_RADIUS") * CM if self.copter else abs(self.get("WP_LOITER_RAD"))

    @property
    def rtl_loiter_s(self) -> float:
        if self.firmware == "PX4":
            return max(self.get("RTL_LAND_DELAY"), 0.0)
        return self.get("RTL_LOIT_TIME") / 1000.0 if self.copter else 0.0

    def describe(self) -> str:
        own = f"; from the parameter file: {', '.join(sorted(self.given))}" if self.given else ""
        return (f"{self.firmware} behaviour: {self.wp_speed_mps:.1f} m/s between waypoints, climb "
                f"{self.climb_mps:.1f} m/s, descent {self.descent_mps:.1f} m/s{own}")


def firmware_for(ac: AircraftClass, stack: str | None = None) -> str:
    """ArduPilot by default; ``stack="PX4"`` (a QGC plan's firmwareType 12) flies a multirotor as PX4 does."""
    if ac.kind == "vtol":
        return "ArduPlane"
    return "PX4" if stack == "PX4" else "ArduCopter"


def autopilot_for(ac: AircraftClass, params: dict[str, float] | None = None, stack: str | None = None) -> Autopilot:
    """The autopilot of an aircraft class, with a user's parameters (from :func:`read_params`) on top. PX4's
    multicopter speeds (MPC_XY_CRUISE, MPC_Z_V_AUTO_UP/DN, m/s) stand for WPNAV_SPEED/_UP/_DN."""
    values = dict(COPTER_DEFAULTS) | dict(PLANE_DEFAULTS) | dict(PX4_DEFAULTS)
    for pname, (attr, scale) in FROM_CLASS.items():
        values[pname] = float(getattr(ac, attr)) * scale
    user = {k: float(v) for k, v in (params or {}).items()}
    for px4, (ap, scale) in PX4_ALIASES.items():
        if px4 in user and ap not in user:
            user[ap] = user[px4] * scale
    given = {k for k in user if k in values}
    values.update(user)
    return Autopilot(firmware_for(ac, stack), values, frozenset(given))


def read_params(path: str | Path) -> dict[str, float]:
    """A parameter file: ArduPilot (Mission Planner .param, MAVProxy .parm: NAME,VALUE or NAME VALUE lines) or
    QGroundControl's (vehicle id, component id, NAME, VALUE, type per line)."""
    p = Path(path)
    out: dict[str, float] = {}
    for ln, raw in enumerate(read_text(p, DataFileError).splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.replace(",", " ").replace("\t", " ").split()
        if len(parts) >= 4 and parts[0].isdigit() and parts[1].isdigit():  # QGC: sysid compid NAME VALUE type
            parts = parts[2:]
        if len(parts) < 2:
            raise DataFileError(p, f"line {ln}: expected NAME,VALUE, got {raw.strip()!r}")
        try:
            value = float(parts[1])
        except ValueError:
            raise DataFileError(p, f"line {ln}: {parts[0]}: value {parts[1]!r} is not a number") from None
        if not math.isfinite(value):
            raise DataFileError(p, f"line {ln}: {parts[0]}: value must be finite")
        out[parts[0].upper()] = value
    return out
