"""What a plan is judged against: the limits (from the rules table) and the wind (by height band if given).

Every number here comes from ``uavsim/safety/rules.toml`` (the same entries the simulator and the classifier
read) unless the caller overrides it for one check, e.g. from the command line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from uavsim.safety.rules import default_rules

if TYPE_CHECKING:
    from uavsim.aircraft import AircraftClass
    from uavsim.safety.rules import Rules


@dataclass(frozen=True)
class Limits:
    """Thresholds of one assessment. ``max_shadowed_frac=None`` makes radio shadow a warning only."""

    min_clearance_m: float  # transit flight, metres above the terrain
    work_min_clearance_m: float  # aircraft that work low (sprayers)
    reserve_frac: float  # battery share left at landing and on a return home from any leg
    antenna_agl_m: float  # ground-station antenna above the launch point
    max_shadowed_frac: float | None
    route_design_clearance_m: float  # what the route planner designs its legs with
    terminal_radius_m: float = 150.0  # around each take-off and landing, low height is the procedure

    @classmethod
    def from_rules(cls, rules: Rules | None = None, **overrides: Any) -> Limits:
        """The limits of a rules table (default: the packaged one); ``None`` overrides are ignored."""
        r = rules if rules is not None else default_rules()
        base = cls(min_clearance_m=r.threshold("min_terrain_clearance_m"),
                   work_min_clearance_m=r.threshold("work_min_clearance_m"),
                   reserve_frac=r.threshold("battery_reserve_frac"),
                   antenna_agl_m=r.threshold("gcs_antenna_height_m"),
                   max_shadowed_frac=r.threshold("radio_shadow_max_frac"),
                   route_design_clearance_m=r.threshold("route_design_clearance_m"),
                   terminal_radius_m=r.threshold("terminal_radius_m"))
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})

    def clearance_for(self, ac: AircraftClass) -> float:
        """The clearance an aircraft is judged by: the work minimum for aircraft that spray at a few metres."""
        return self.work_min_clearance_m if ac.tank_l > 0 else self.min_clearance_m


@dataclass(frozen=True)
class Wind:
    """Wind the air moves with. ``from_deg`` is where it blows FROM (meteorological, clockwise from north).

    ``bands`` optionally gives (top of band in metres above the launch point, speed m/s, from degrees), lowest
    band first; above the last band the top band's wind holds, below the first band the first band's.
    """

    speed_mps: float = 0.0
    from_deg: float = 0.0
    bands: tuple[tuple[float, float, float], ...] = ()

    def at(self, height_rel_m: float = 0.0) -> tuple[float, float]:
        """(speed, from degrees) at a height above the launch point."""
        for top, speed, frm in self.bands:
            if height_rel_m <= top:
                return speed, frm
        if self.bands:
            return self.bands[-1][1], self.bands[-1][2]
        return self.speed_mps, self.from_deg

    def vector(self, height_rel_m: float = 0.0) -> tuple[float, float]:
        """(east, north) m/s the air moves towards."""
        speed, frm = self.at(height_rel_m)
        b = math.radians(frm)
        return -speed * math.sin(b), -speed * math.cos(b)

    @property
    def max_speed_mps(self) -> float:
        return max([self.speed_mps, *(b[1] for b in self.bands)])

    def describe(self) -> str:
        if not self.bands:
            return f"{self.speed_mps:.1f} m/s from {self.from_deg:.0f}°"
        return "; ".join(f"{s:.1f} m/s from {d:.0f}° up to {top:.0f} m" for top, s, d in self.bands)


def parse_wind_bands(text: str) -> tuple[tuple[float, float, float], ...]:
    """'TOP:SPEED@FROM,...' (e.g. '50:4@270,150:9@250') -> bands; raises ValueError with the bad part."""
    out = []
    for part in text.split(","):
        try:
            top, rest = part.split(":")
            speed, frm = rest.split("@")
            out.append((float(top), float(speed), float(frm)))
        except ValueError:
            raise ValueError(f"wind band {part!r}: expected TOP_M:SPEED_MPS@FROM_DEG") from None
    if any(b[1] < 0 for b in out) or [b[0] for b in out] != sorted(b[0] for b in out):
        raise ValueError("wind bands: speeds must be >= 0 and band tops increasing")
    return tuple(out)
