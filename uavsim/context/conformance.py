"""Flown against planned: a flight's track measured against its plan (a mission file, a scenario route or field).

Every plan reaches this module through ONE adapter, :func:`planned`, which calls the planner's public entry
points (``plan_route``, ``plan_field``, ``check_mission``) and keeps only what a :class:`~uavsim.planning.Plan`
shows publicly (waypoints, duration, its sorties and the work indices in ``extra``). A change in the planner's
signatures is a fix there and nowhere else.

Measured while the aircraft flies the plan: samples in a return or landing mode (RTL, LAND, SmartRTL, PX4
Return/Land: the failsafe's path, not the plan's) and on the ground are left out. Cross-track error is the
horizontal distance to the planned path; the altitude deviation compares heights in the plan's frame (relative
to home for a file written relative to home, MSL otherwise) away from take-off and landing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from uavsim import geo
from uavsim.context.geometry import distance_to_path, parallel_lanes, points_along, vertical_offset
from uavsim.records import Event, Telemetry
from uavsim.safety.rules import Rules

CONTINGENCY_MODES = ("RTL", "LAND", "SMART_RTL", "SMARTRTL", "QRTL", "QLAND", "AUTO_RTL", "AUTO_LAND", "RETURN",
                     "AUTO.RTL", "AUTO.LAND", "CRASH", "BRAKE")
MATCH_SAMPLES = 300  # samples of a track scored against each candidate plan
LANE_STEP_M = 2.0  # planned lanes are sampled this finely for the covered share
FRAME_REL = 3  # MAV_FRAME_GLOBAL_RELATIVE_ALT, as the mission-file reader reports it


@dataclass
class PlannedPath:
    """What a flight is measured against: the planned path (lat, lon, alt MSL), its duration and work lanes."""

    name: str
    kind: str  # route | sortie | mission
    mission_types: tuple[str, ...]  # the plan's mission type(s); several when plans coincide
    site: str | None
    aircraft: str | None
    lat: np.ndarray
    lon: np.ndarray
    alt_msl_m: np.ndarray
    duration_s: float | None
    frame: str = "msl"  # msl | rel
    lanes: list[tuple[int, int]] = field(default_factory=list)  # (start, end) waypoint indices of work lanes
    ref: dict[str, Any] = field(default_factory=dict)  # route/field id, sortie number, file

    def __post_init__(self) -> None:
        self.x, self.y = geo.to_utm(self.lat, self.lon)

    @property
    def coverage(self) -> bool:
        return bool(self.lanes)


def planned(source: str, scenario: Any = None, terrain: Any = None, *, route: Any = None, field_id: str | None = None,
            mission_type: str | None = None, aircraft_id: str | None = None, path: str | Path | None = None,
            lane_min_m: float = 20.0, parallel_deg: float = 15.0) -> list[PlannedPath]:
    """THE adapter to the planner: the planned path(s) of a scenario route, a field (one per sortie) or a mission
    file (``source`` = "route" | "field" | "file")."""
    from uavsim import planning

    if source == "route":
        plan = planning.plan_route(scenario, route.origin, route.destination, aircraft_id=aircraft_id or route.aircraft,
                                   terrain=terrain, return_leg=True, mission_type=route.mission_type)
        plans, ref = [plan], {"route": route.id, "origin": route.origin, "destination": route.destination}
    elif source == "field":
        plan = planning.plan_field(scenario, field_id, aircraft_id=aircraft_id, terrain=terrain,
                                   mission_type=mission_type)
        plans, ref = list(plan.sorties or [plan]), {"field": field_id}
    else:
        plan = planning.check_mission(path, scenario, terrain, aircraft_id)
        plans, ref = [plan], {"file": str(path)}
    out = []
    for k, p in enumerate(plans):
        wp = np.asarray(p.waypoints, float)
        if len(wp) < 2 or not p.feasible and source != "file":
            continue
        x, y = geo.to_utm(wp[:, 0], wp[:, 1])
        lanes = _lanes(np.asarray(x), np.asarray(y), p.extra.get("spray_on_index"), p.extra.get("spray_off_index"),
                       source == "field", lane_min_m, parallel_deg)
        name = f"{source}:{ref.get('route') or ref.get('field') or Path(str(path)).name}"
        if len(plans) > 1:
            name += f"#{k + 1}"
        frame = "rel" if source == "file" and set(p.extra.get("frames", [])) == {FRAME_REL} else "msl"
        out.append(PlannedPath(name, "sortie" if source == "field" else "route" if source == "route" else "mission",
                               (p.mission_type,), p.site, p.aircraft_id, wp[:, 0], wp[:, 1], wp[:, 2],
                               float(p.duration_s) if p.duration_s else None, frame, lanes,
                               dict(ref, sortie=k + 1) if len(plans) > 1 else dict(ref)))
    return out


def _lanes(x: np.ndarray, y: np.ndarray, on: int | None, off: int | None, field_work: bool, lane_min_m: float,
           parallel_deg: float) -> list[tuple[int, int]]:
    """Work lanes of a plan: its legs between the sprayer's on and off waypoints (a field's whole work path when
    the plan does not say), of at least ``lane_min_m``, parallel to the dominant axis."""
    if on is None or off is None:
        if not field_work:
            return []
        on, off = 1, len(x) - 2  # survey sorties: every leg between the transits
    legs = [(i, i + 1) for i in range(on, off) if math.hypot(x[i + 1] - x[i], y[i + 1] - y[i]) >= lane_min_m]
    lanes, _ = parallel_lanes(x, y, legs, parallel_deg)
    return lanes


def flying_plan_mask(tel: Telemetry, rules: Rules) -> np.ndarray:
    """Samples with a position, in the air, not in a return/landing mode."""
    ok = np.isfinite(tel.lat) & np.isfinite(tel.lon)
    air = (np.nan_to_num(tel.rel_alt_m, nan=0.0) > rules.threshold("in_air_rel_alt_m")) | \
          (np.nan_to_num(tel.ground_speed_mps, nan=0.0) > rules.threshold("in_air_ground_speed_mps"))
    names = [m.upper() for m in tel.mode_names]
    bad = np.array([any(n == c or n.endswith("." + c) for c in CONTINGENCY_MODES) for n in names], bool)
    mode = np.asarray(tel.mode, int)
    contingency = np.zeros(len(tel), bool)
    if bad.any():
        valid = (mode >= 0) & (mode < len(names))
        contingency[valid] = bad[mode[valid]]
    return ok & air & ~contingency


@dataclass
class Measure:
    """One flight against one plan."""

    plan: PlannedPath
    cross_track_max_m: float | None
    cross_track_p95_m: float | None
    alt_dev_max_m: float | None
    time_ratio: float | None
    coverage_frac: float | None
    worst_xt: tuple[int, float] | None = None  # (sample index, metres)
    worst_alt: tuple[int, float] | None = None  # (sample index, signed metres)
    n: int = 0

    def to_dict(self) -> dict[str, Any]:
        def r(v: float | None, k: int = 2) -> float | None:
            return None if v is None or not math.isfinite(v) else round(float(v), k)

        return {"plan": self.plan.name, "cross_track_max_m": r(self.cross_track_max_m),
                "cross_track_p95_m": r(self.cross_track_p95_m), "alt_dev_max_m": r(self.alt_dev_max_m),
                "time_ratio": r(self.time_ratio, 3), "coverage_frac": r(self.coverage_frac, 3),
                "plan_kind": self.plan.kind, "plan_ref": self.plan.ref, "frame": self.plan.frame, "samples": self.n}


def match_score(tel: Telemetry, plan: PlannedPath, mask: np.ndarray, align_deg: float) -> tuple[float, float]:
    """(p95 horizontal distance of the masked samples to the plan, share of the moving samples heading along the
    plan segment nearest them within ``align_deg``, either way). Inside a field every point is near some lane of
    every sortie; only a flight that also flies along the lanes flies that sortie."""
    idx = np.flatnonzero(mask)
    if idx.size < 2:
        return math.inf, 0.0
    # a score, not the measure: about MATCH_SAMPLES samples tell which plan a flight flies
    idx = idx[:: max(1, idx.size // MATCH_SAMPLES)]
    x, y = (np.asarray(v) for v in geo.to_utm(tel.lat[idx], tel.lon[idx]))
    near = distance_to_path(x, y, plan.x, plan.y)
    dx, dy = np.diff(x), np.diff(y)
    moving = np.hypot(dx, dy) > 1.0
    seg = near.segment[:-1][moving]
    step = np.degrees(np.arctan2(dx[moving], dy[moving]))
    along = np.degrees(np.arctan2(np.diff(plan.x)[seg], np.diff(plan.y)[seg]))
    off = np.abs((step - along + 90.0) % 180.0 - 90.0)
    aligned = float(np.mean(off <= align_deg)) if off.size else 1.0  # hovering on the path: nothing against it
    return float(np.percentile(near.distance_m, 95)), aligned


def measure(tel: Telemetry, plan: PlannedPath, rules: Rules, mask: np.ndarray | None = None) -> Measure:
    """Cross-track, altitude deviation, time against plan and, for coverage, the share of planned lanes flown."""
    mask = flying_plan_mask(tel, rules) if mask is None else mask
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return Measure(plan, None, None, None, None, None)
    x, y = (np.asarray(v) for v in geo.to_utm(tel.lat[idx], tel.lon[idx]))
    near = distance_to_path(x, y, plan.x, plan.y)
    d = near.distance_m
    k = int(np.argmax(d))
    worst_alt, alt_max = _altitude(tel, plan, idx, x, y, rules)
    pos = np.flatnonzero(np.isfinite(tel.lat) & np.isfinite(tel.lon))
    flown_s = float(tel.t_s[pos[-1]] - tel.t_s[pos[0]]) if pos.size > 1 else None
    ratio = flown_s / plan.duration_s if flown_s is not None and plan.duration_s else None
    cover = _covered(plan, x, y, rules) if plan.coverage else None
    return Measure(plan, float(d[k]), float(np.percentile(d, 95)), alt_max, ratio, cover, (int(idx[k]), float(d[k])),
                   worst_alt, int(idx.size))


def _altitude(tel: Telemetry, plan: PlannedPath, idx: np.ndarray, x: np.ndarray, y: np.ndarray,
              rules: Rules) -> tuple[tuple[int, float] | None, float | None]:
    """Largest |flown - planned| height, in the plan's frame, away from the take-off and landing points."""
    z = plan.alt_msl_m
    flown = tel.rel_alt_m[idx] + z[0] if plan.frame == "rel" else tel.alt_msl_m[idx]
    r = rules.threshold("terminal_radius_m")
    away = (np.hypot(x - plan.x[0], y - plan.y[0]) > r) & (np.hypot(x - plan.x[-1], y - plan.y[-1]) > r)
    away &= np.isfinite(flown)
    dev = np.full(idx.size, np.nan)
    if away.any():
        dev[away] = vertical_offset(x[away], y[away], flown[away], plan.x, plan.y, z,
                                    rules.threshold("autopilot_track_tolerance_m"))
    if not np.isfinite(dev).any():
        return None, None
    k = int(np.nanargmax(np.abs(dev)))
    return (int(idx[k]), float(dev[k])), float(abs(dev[k]))


def _covered(plan: PlannedPath, x: np.ndarray, y: np.ndarray, rules: Rules) -> float | None:
    """Share of the planned lane length with the flown track within coverage_lane_tolerance_m."""
    tol = rules.threshold("coverage_lane_tolerance_m")
    total = flown = 0
    for i, j in plan.lanes:
        lx, ly = points_along(plan.x[i:j + 1], plan.y[i:j + 1], LANE_STEP_M)
        if x.size < 2:
            break
        d = distance_to_path(lx, ly, x, y).distance_m
        total += d.size
        flown += int(np.sum(d <= tol))
    return flown / total if total else None


def deviation_events(m: Measure, tel: Telemetry, rules: Rules, permit: dict[str, Any] | None = None) -> list[Event]:
    """ROUTE_DEVIATION and ALTITUDE_DEVIATION from the rules table (a permit's own corridor wins)."""
    permit = permit or {}
    out: list[Event] = []
    for kind, worst, key, what in (("ROUTE_DEVIATION", m.worst_xt, "route_deviation", "from the planned path"),
                                   ("ALTITUDE_DEVIATION", m.worst_alt, "altitude_deviation", "off the planned height")):
        if worst is None:
            continue
        i, value = worst
        fail = float(permit.get(f"{key}_m", rules.threshold(f"{key}_fail_m")))
        warn = min(rules.threshold(f"{key}_warn_m"), fail)
        level = "fail" if abs(value) > fail else "warn" if abs(value) > warn else None
        if level is None:
            continue
        source = f"permit {permit['id']}" if f"{key}_m" in permit else "rules table"
        out.append(rules.make_event(
            kind, float(tel.t_s[i]), level=level, lat=float(tel.lat[i]), lon=float(tel.lon[i]),
            alt=float(tel.alt_msl_m[i]), value=round(abs(value), 2), threshold=fail if level == "fail" else warn,
            detail=f"{abs(value):.1f} m {what} of {m.plan.name} (limit {fail:.0f} m, {source})",
            evidence=f"t={tel.t_s[i]:.1f}s lat={tel.lat[i]:.6f} lon={tel.lon[i]:.6f}; "
                     f"plan frame {m.plan.frame}, {m.n} samples flying the plan"))
    return out
