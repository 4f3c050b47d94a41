"""What the assessment takes and samples: the flight to assess, its conditions, and its sampled track.

Apart from :mod:`uavsim.planning.assess`, so that the checks it calls (radio, reserve) use these types without
importing the assessment back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from uavsim import geo
from uavsim.planning.conditions import Limits, Wind


@dataclass
class Flight:
    """A flight to assess: waypoints (lat, lon, alt MSL), the first and last on the ground, and per leg or
    per waypoint what it carries, how fast it flies and where it holds or touches down."""

    kind: str
    waypoints: np.ndarray
    mission_type: str = "unknown"
    site: str | None = None
    mass_kg: np.ndarray | float | None = None  # per leg
    speed_mps: np.ndarray | float | None = None  # per leg
    hold_s: np.ndarray | None = None  # per waypoint
    labels: list[str] | None = None
    on_ground: np.ndarray | None = None  # per waypoint; default: the first and the last
    step_m: float = 10.0
    crs: str = geo.UTM48N  # metric frame of the geometry (the mission's UTM zone)
    reasons: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Conditions:
    """What the flight is judged against: the limits (rules table) and the wind."""

    limits: Limits = field(default_factory=Limits.from_rules)
    wind: Wind = field(default_factory=Wind)
    min_clearance_m: float | None = None  # overrides the limits' clearance for this flight


@dataclass
class Track:
    """The flight sampled every ~step along its legs, with the terrain under it."""

    lat: np.ndarray
    lon: np.ndarray
    alt: np.ndarray
    leg: np.ndarray
    dist: np.ndarray
    elev: np.ndarray
    wp_elev: np.ndarray
    airborne: np.ndarray
    terminal: np.ndarray  # within the terminal radius of a take-off or landing point (clearance not judged)
    wp_terminal: np.ndarray

    @property
    def agl(self) -> np.ndarray:
        return self.alt - self.elev
