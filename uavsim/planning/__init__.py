"""Mission planning and pre-flight checks: delivery routes, field coverage, mission files.

Every plan, planned here or read from an operator's file, goes through the same assessment
(:func:`uavsim.planning.check.assess`): terrain clearance, zones against the permits, the 120 m rule,
energy reserve and radio line of sight. Altitudes are metres above mean sea level (``alt_msl_m``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from uavsim import geo

if TYPE_CHECKING:
    from pathlib import Path

    from uavsim.scenario import Scenario
    from uavsim.terrain import Terrain

__all__ = ["Plan", "check_mission", "plan_field", "plan_network", "plan_route"]


@dataclass
class Plan:
    kind: str  # "route" | "field" | "sortie" | "mission" (a checked file)
    mission_type: str
    site: str | None
    aircraft_id: str
    feasible: bool
    reasons: list[str]
    waypoints: np.ndarray  # (n, 3): lat, lon, alt_msl_m
    distance_m: float
    duration_s: float
    energy_wh: float
    reserve_pct: float
    min_terrain_clearance_m: float | None
    max_agl_m: float | None
    zones: list[str]
    sorties: list[Plan] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    leg_times_s: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)  # one per leg (n - 1)
    hold_s: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)  # hover time at each waypoint
    leg_speed_mps: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)  # commanded, per leg

    def to_dict(self, waypoints: bool = True) -> dict[str, Any]:
        """The plan/check JSON document (DESIGN.md keys first, then this plan's extras)."""
        d: dict[str, Any] = {
            "kind": self.kind, "mission_type": self.mission_type, "site": self.site, "aircraft_id": self.aircraft_id,
            "feasible": self.feasible, "reasons": list(self.reasons), "distance_m": self.distance_m,
            "duration_s": self.duration_s, "energy_wh": self.energy_wh, "reserve_pct": self.reserve_pct,
            "min_terrain_clearance_m": self.min_terrain_clearance_m, "max_agl_m": self.max_agl_m,
            "zones": list(self.zones),
            "waypoints": [{"lat": float(a), "lon": float(o), "alt_msl_m": float(z)} for a, o, z in self.waypoints]
            if waypoints else [],
        }
        if self.sorties:
            d["sorties"] = [s.to_dict(waypoints=False) for s in self.sorties]
        d.update({k: v for k, v in self.extra.items() if k not in d})
        return d

    def track(self, dt_s: float = 5.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The planned flight sampled every ``dt_s``: (t_s, lat, lon, alt_msl_m, ground_speed_mps).

        Fields concatenate their sorties back to back. Holds (hover at a waypoint) keep the position.
        """
        if self.sorties:
            parts = [s.track(dt_s) for s in self.sorties]
            out, t0 = [], 0.0
            for p in parts:
                out.append((p[0] + t0, *p[1:]))
                t0 += (p[0][-1] + dt_s) if p[0].size else 0.0
            return tuple(np.concatenate([p[i] for p in out]) for i in range(5))  # type: ignore[return-value]
        wp = np.asarray(self.waypoints, float)
        n = len(wp)
        legs = self.leg_times_s if self.leg_times_s.size == max(n - 1, 0) else np.zeros(max(n - 1, 0))
        hold = self.hold_s if self.hold_s.size == n else np.zeros(n)
        # knots: arrive at waypoint i, leave after its hold
        times, idx = [0.0], [0]
        t = 0.0
        for i in range(n):
            if hold[i] > 0:
                t += float(hold[i])
                times.append(t)
                idx.append(i)
            if i < n - 1:
                t += float(legs[i])
                times.append(t)
                idx.append(i + 1)
        kt = np.array(times)
        kx, ky = geo.to_utm(wp[np.array(idx), 0], wp[np.array(idx), 1])
        kz = wp[np.array(idx), 2]
        ts = np.arange(0.0, kt[-1] + 1e-9, dt_s) if kt[-1] > 0 else np.zeros(1)
        xs, ys, zs = (np.interp(ts, kt, np.asarray(v, float)) for v in (kx, ky, kz))
        lat, lon = geo.from_utm(xs, ys)
        gs = np.zeros_like(ts)
        if ts.size > 1:
            gs[1:] = np.hypot(np.diff(xs), np.diff(ys)) / np.diff(ts)
            gs[0] = gs[1]
        return ts, np.asarray(lat), np.asarray(lon), zs, gs


def plan_route(scenario: Scenario, origin: Any, destination: Any, aircraft_id: str | None = None,
               terrain: Terrain | None = None, wind_mps: float = 0.0, wind_dir_deg: float = 0.0,
               reserve_frac: float = 0.20, return_leg: bool = True, **kw: Any) -> Plan:
    """Delivery route between two sites (ids or (lat, lon)); see :mod:`uavsim.planning.routes`."""
    from uavsim.planning.routes import plan_route as _impl

    return _impl(scenario, origin, destination, aircraft_id, terrain, wind_mps, wind_dir_deg, reserve_frac,
                 return_leg, **kw)


def plan_field(scenario: Scenario, field_id: str, aircraft_id: str | None = None, terrain: Terrain | None = None,
               mission_type: str | None = None, angle_deg: float | None = None, **kw: Any) -> Plan:
    """Coverage of a field in sorties; see :mod:`uavsim.planning.fields`."""
    from uavsim.planning.fields import plan_field as _impl

    return _impl(scenario, field_id, aircraft_id, terrain, mission_type, angle_deg, **kw)


def check_mission(path: str | Path, scenario: Scenario | None = None, terrain: Terrain | None = None,
                  aircraft_id: str | None = None, **kw: Any) -> Plan:
    """Pre-flight check of a QGC .plan or WPL 110 .waypoints file; see :mod:`uavsim.planning.check`."""
    from uavsim.planning.check import check_mission as _impl

    return _impl(path, scenario, terrain, aircraft_id, **kw)


def plan_network(scenario: Scenario, terrain: Terrain | None = None) -> list[Plan]:
    """Every route and every field of a scenario, each planned or rejected with reasons."""
    from uavsim.errors import UavSimError

    plans: list[Plan] = []
    for r in scenario.routes.values():
        try:
            p = plan_route(scenario, r.origin, r.destination, r.aircraft, terrain, mission_type=r.mission_type)
        except UavSimError as exc:
            p = rejected("route", r.mission_type, r.origin, r.aircraft, str(exc))
        p.extra.setdefault("route_id", r.id)
        plans.append(p)
    for f in scenario.fields.values():
        try:
            p = plan_field(scenario, f.id, terrain=terrain)
        except UavSimError as exc:
            p = rejected("field", f.mission_types[0], f.site, "", str(exc))
        p.extra.setdefault("field_id", f.id)
        plans.append(p)
    return plans


def rejected(kind: str, mission_type: str, site: str | None, aircraft_id: str, reason: str) -> Plan:
    """A plan that could not be made at all, with the reason."""
    return Plan(kind, mission_type, site, aircraft_id, False, [reason], np.zeros((0, 3)), 0.0, 0.0, 0.0,
                float("nan"), None, None, [])
