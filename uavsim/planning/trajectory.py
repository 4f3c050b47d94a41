"""The autopilot's trajectory between a mission's waypoints.

Legs to a waypoint in the terrain frame (MAV_FRAME_GLOBAL_TERRAIN_ALT) follow the DEM along the leg: the target
height above the terrain goes linearly from the origin's offset to the destination's.

- **ArduCopter** (multirotor classes): AC_WPNav moves its target along the track and adds the terrain offset;
  the vertical position controller follows it at WPNAV_SPEED_UP / WPNAV_SPEED_DN, and
  ``advance_wp_target_along_track`` scales the along-track speed down (AC_PosControl ``pos_offset_z_scaler``)
  once the height error passes half of WPNAV_TER_MARGIN. Modelled kinematically: the aircraft keeps within
  half the margin of its terrain offset and slows horizontally as much as the climb or descent limit needs.
- **ArduPlane** (fixed wing, and a VTOL in forward flight): the plane holds its airspeed; TECS follows the
  terrain-relative target at TECS_CLMB_MAX / TECS_SINK_MAX, so over terrain steeper than those limits allow
  the plane falls behind its offset and the clearance shrinks (judged by the check, never slowed).

Legs in the relative or absolute frame are straight lines, flown at the waypoint speed unless the climb or
descent limit needs longer (as AC_WPNav's track speed does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from uavsim import geo

if TYPE_CHECKING:
    from uavsim.aircraft import AircraftClass
    from uavsim.planning.autopilot import Autopilot
    from uavsim.planning.mission import Mission
    from uavsim.terrain import Terrain

FOLLOW_STEP_M = 20.0  # sampling of a terrain-following leg (finer than the embedded DEM's 25 m)
MIN_LEG_M = 1.0


@dataclass
class Trajectory:
    waypoints: np.ndarray
    labels: list[str]
    hold_s: np.ndarray
    speed_mps: np.ndarray  # per leg
    on_ground: np.ndarray
    vertex: np.ndarray  # trajectory index of each mission waypoint
    notes: list[str] = field(default_factory=list)

    def index(self, mission_index: int | None) -> int | None:
        return None if mission_index is None else int(self.vertex[mission_index])


def follow_copter(target: np.ndarray, ds: np.ndarray, z0: float, speed: float, up: float, down: float,
                  buffer_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Heights and step times along a terrain-following leg (ArduCopter): the height follows ``target`` at the
    climb/descent limits; the horizontal speed drops so that the error never exceeds ``buffer_m``."""
    z = np.empty(target.size)
    dt = np.empty(max(target.size - 1, 0))
    z[0] = z0
    for k in range(target.size - 1):
        step = ds[k] / speed
        want = target[k + 1] - z[k]
        rate = up if want >= 0 else down
        reach = rate * step
        if abs(want) - reach > buffer_m:  # at full speed the error would pass the buffer: slow down
            step = (abs(want) - buffer_m) / rate
            reach = rate * step
        z[k + 1] = z[k] + math.copysign(min(abs(want), reach), want)
        dt[k] = step
    return z, dt


def follow_plane(target: np.ndarray, ds: np.ndarray, z0: float, speed: float, up: float, down: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Heights and step times along a terrain-following leg (ArduPlane TECS): constant speed, rate-limited height."""
    z = np.empty(target.size)
    z[0] = z0
    dt = ds / speed
    for k in range(target.size - 1):
        z[k + 1] = min(max(target[k + 1], z[k] - down * dt[k]), z[k] + up * dt[k])
    return z, dt


def _follow_leg(a: np.ndarray, b: np.ndarray, o0: float, o1: float, terrain: Terrain, ap: Autopilot, speed: float,
                crs: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Samples (lat, lon, alt) and per-step speeds of one terrain-following leg; None if the terrain is unknown."""
    (ax, bx), (ay, by) = geo.to_utm([a[0], b[0]], [a[1], b[1]], crs)
    length = math.hypot(bx - ax, by - ay)
    k = max(int(math.ceil(length / FOLLOW_STEP_M)), 1)
    f = np.linspace(0.0, 1.0, k + 1)
    lat, lon = (np.asarray(v) for v in geo.from_utm(ax + f * (bx - ax), ay + f * (by - ay), crs))
    ground = terrain.elevation(lat, lon)
    if not np.isfinite(ground).all():
        return None
    target = ground + o0 + (o1 - o0) * f
    target[-1] = b[2]
    ds = np.full(k, length / k)
    if ap.copter:
        z, dt = follow_copter(target, ds, float(a[2]), speed, ap.climb_mps, ap.descent_mps, 0.5 * ap.terrain_margin_m)
    else:
        z, dt = follow_plane(target, ds, float(a[2]), speed, ap.climb_mps, ap.descent_mps)
    return np.column_stack([lat, lon, z]), ds / dt


def autopilot_trajectory(m: Mission, terrain: Terrain, ac: AircraftClass, ap: Autopilot, crs: str) -> Trajectory:
    """The mission's waypoints with every terrain-frame leg replaced by the autopilot's terrain-following path."""
    wp = m.waypoints
    n = len(wp)
    leg_speed = np.full(n - 1, ap.wp_speed_mps) if m.speed_mps is None else np.where(
        np.isfinite(m.speed_mps), m.speed_mps, ap.wp_speed_mps)
    pts, labels, hold, ground, speeds, vertex = [wp[0]], [m.labels[0]], [m.hold_s[0]], [bool(m.on_ground[0])], [], [0]
    followed, slowest = 0, math.inf
    for i in range(n - 1):
        a, b = np.asarray(pts[-1], float), wp[i + 1]  # from where the aircraft actually is (a plane may lag)
        path = None
        if math.isfinite(m.terrain_agl[i + 1]) and not m.on_ground[i + 1]:
            o0 = m.terrain_agl[i] if math.isfinite(m.terrain_agl[i]) else a[2] - float(terrain.elevation(a[0], a[1])[0])
            horizontal = float(geo.geodesic_distance(a[0], a[1], b[0], b[1]))
            if horizontal >= MIN_LEG_M and math.isfinite(o0):
                path = _follow_leg(a, b, o0, float(m.terrain_agl[i + 1]), terrain, ap, float(leg_speed[i]), crs)
        if path is None:
            pts.append(b)
            speeds.append(leg_speed[i])
            labels.append(m.labels[i + 1])
        else:
            samples, v = path
            followed += 1
            slowest = min(slowest, float(v.min()))
            pts.extend(samples[1:])
            speeds.extend(v)
            labels.extend([f"{m.labels[i + 1]}: terrain following"] * (len(samples) - 2) + [m.labels[i + 1]])
        hold.extend([0.0] * (len(pts) - len(hold) - 1) + [m.hold_s[i + 1]])
        ground.extend([False] * (len(pts) - len(ground) - 1) + [bool(m.on_ground[i + 1])])
        vertex.append(len(pts) - 1)
    notes = []
    if followed:
        how = ("slowing to as little as " f"{slowest:.1f} m/s to hold its terrain offset" if ap.copter
               else "at constant airspeed, its height lagging the terrain where TECS's climb and sink limits bind")
        notes.append(f"{followed} terrain-frame leg(s) flown along the terrain as {ap.firmware} does, {how}")
    return Trajectory(np.array(pts, float), labels, np.array(hold, float), np.array(speeds, float),
                      np.array(ground, bool), np.array(vertex), notes)
