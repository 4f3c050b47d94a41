"""The plan document every planner and the check return: waypoints, verdict, figures and evidence."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from uavsim import geo

__all__ = ["Plan", "rejected"]


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

    def summary_lines(self, title: str) -> list[str]:
        """The plain-text verdict the command line prints: headline, figures, reasons, warnings."""
        out = [f"{title}: {'FEASIBLE' if self.feasible else 'NOT FEASIBLE'} ({self.aircraft_id})"]
        clear = "unknown" if self.min_terrain_clearance_m is None else f"{self.min_terrain_clearance_m:.1f} m"
        agl = "unknown" if self.max_agl_m is None else f"{self.max_agl_m:.0f} m"
        if math.isfinite(self.energy_wh):
            out.append(f"  distance {self.distance_m / 1000:.2f} km, flight time {self.duration_s / 60:.1f} min, "
                       f"energy {self.energy_wh:.0f} Wh, reserve {self.reserve_pct:.1f} %")
        else:
            out.append(f"  distance {self.distance_m / 1000:.2f} km, flight time and energy unknown")
        out.append(f"  min terrain clearance {clear}, max height {agl} AGL, zones {', '.join(self.zones) or 'none'}")
        if self.sorties:
            out.append(f"  {len(self.sorties)} sorties, {self.extra.get('hectares', 0):.2f} ha, "
                       f"{self.extra.get('litres', 0):.1f} L")
        out += [f"  - {r}" for r in self.reasons]
        out += [f"  warning: {w}" for w in self.extra.get("warnings", [])]
        if self.extra.get("aircraft_assumed"):
            out.append(f"  note: aircraft assumed {self.aircraft_id} (use --aircraft)")
        return out

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
        crs = str(self.extra.get("crs", geo.UTM48N))  # a checked mission file lies in its own UTM zone
        kx, ky = geo.to_utm(wp[np.array(idx), 0], wp[np.array(idx), 1], crs)
        kz = wp[np.array(idx), 2]
        ts = np.arange(0.0, kt[-1] + 1e-9, dt_s) if kt[-1] > 0 else np.zeros(1)
        xs, ys, zs = (np.interp(ts, kt, np.asarray(v, float)) for v in (kx, ky, kz))
        lat, lon = geo.from_utm(xs, ys, crs)
        gs = np.zeros_like(ts)
        if ts.size > 1:
            gs[1:] = np.hypot(np.diff(xs), np.diff(ys)) / np.diff(ts)
            gs[0] = gs[1]
        return ts, np.asarray(lat), np.asarray(lon), zs, gs


def rejected(kind: str, mission_type: str, site: str | None, aircraft_id: str, reason: str) -> Plan:
    """A plan that could not be made at all, with the reason."""
    return Plan(kind, mission_type, site, aircraft_id, False, [reason], np.zeros((0, 3)), 0.0, 0.0, 0.0,
                float("nan"), None, None, [])
