"""Flight physics of a waypoint list (time and energy with wind) and vertical profiles over terrain.

Wind is meteorological (:class:`~uavsim.planning.conditions.Wind`: where it blows FROM, clockwise from true north,
optionally by height band). A rotor-borne leg is never credited with less power than in still air (translational
lift from a gusty wind is not banked on), so wind never lowers a flight's energy below its still-air value.
A multirotor holds its commanded ground speed unless that needs more than its maximum airspeed; a VTOL on
its wing holds its cruise airspeed. Legs shorter than ``VERTICAL_LEG_M`` horizontally are vertical
(take-off, landing): flown at the climb or descent rate in hover.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from uavsim import geo
from uavsim.aircraft import JOULES_PER_WH, AircraftClass, power_w
from uavsim.planning.conditions import Wind

VERTICAL_LEG_M = 1.0


@dataclass(frozen=True)
class Flown:
    leg_t_s: np.ndarray
    leg_wh: np.ndarray
    leg_airspeed_mps: np.ndarray
    leg_ground_speed_mps: np.ndarray
    hold_wh: float
    reasons: list[str]

    @property
    def time_s(self) -> float:
        return float(np.sum(self.leg_t_s))

    @property
    def energy_wh(self) -> float:
        return float(np.sum(self.leg_wh) + self.hold_wh)


def local_crs(lat: float, lon: float) -> str:
    """The UTM zone of a point (EPSG code): metric geometry anywhere a mission lies."""
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def legs_utm(waypoints: np.ndarray, crs: str = geo.UTM48N) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per leg: horizontal length (m), height change (m) and the unit track vector (east, north)."""
    wp = np.asarray(waypoints, float)
    x, y = geo.to_utm(wp[:, 0], wp[:, 1], crs)
    dx, dy = np.diff(x), np.diff(y)
    h = np.hypot(dx, dy)
    with np.errstate(invalid="ignore", divide="ignore"):
        ue, un = np.where(h > 0, dx / h, 0.0), np.where(h > 0, dy / h, 0.0)
    return h, np.diff(wp[:, 2]), ue, un


def ground_speed(ac: AircraftClass, speed: float, we: float, wn: float, ue: float, un: float) -> float:
    """Ground speed along a track (unit ue, un) in a wind (we, wn): a multirotor holds its commanded ground
    speed unless that needs more than its maximum airspeed; a VTOL on its wing holds its airspeed. NaN: no
    headway (the crosswind alone exceeds the airspeed)."""
    cross = -we * un + wn * ue
    along = we * ue + wn * un
    vmax = ac.max_speed_mps
    if ac.kind == "vtol" and ac.lift_to_drag > 0:
        air = min(max(speed, ac.transition_mps), vmax)
        return along + math.sqrt(air * air - cross * cross) if abs(cross) < air else math.nan
    if math.hypot(speed - along, cross) <= vmax:
        return speed
    return along + math.sqrt(vmax * vmax - cross * cross) if abs(cross) < vmax else math.nan


def _on_wing(ac: AircraftClass, speed: float, h: float, dz: float) -> bool | None:
    """A VTOL's mode on a leg as the mission flies it (ArduPlane keeps the mode whatever the wind): on its wing
    unless, in still air, the climb or descent limit would slow it below its transition speed. None for a
    multirotor."""
    if not (ac.kind == "vtol" and ac.lift_to_drag > 0):
        return None
    air = min(max(speed, ac.transition_mps), ac.max_speed_mps)
    rate = ac.climb_mps if dz >= 0 else ac.descent_mps
    return h / max(h / air, abs(dz) / rate) >= ac.transition_mps - 1e-9


def fly(ac: AircraftClass, waypoints: np.ndarray, mass_kg: np.ndarray | float, speed_mps: np.ndarray | float | None = None,
        wind: Wind | None = None, hold_s: np.ndarray | None = None, labels: list[str] | None = None,
        crs: str = geo.UTM48N) -> Flown:
    """Time and energy of each leg. ``mass_kg`` and ``speed_mps`` are per leg or scalars (default: cruise).
    The wind acts on each leg at its mid height above the first waypoint (head, tail and cross components)."""
    wind = wind or Wind()
    wp = np.asarray(waypoints, float)
    n = max(len(wp) - 1, 0)
    h, dz, ue, un = legs_utm(wp, crs) if n else (np.zeros(0),) * 4
    mass = np.broadcast_to(np.asarray(mass_kg, float), (n,))
    speed = np.broadcast_to(np.asarray(ac.cruise_mps if speed_mps is None else speed_mps, float), (n,))
    t, e, va, gs = (np.zeros(n) for _ in range(4))
    reasons: list[str] = []
    for i in range(n):
        alt_mid = 0.5 * (wp[i, 2] + wp[i + 1, 2])
        we, wn = wind.vector(alt_mid - wp[0, 2])
        rate = ac.climb_mps if dz[i] >= 0 else ac.descent_mps
        if h[i] < VERTICAL_LEG_M:
            t[i] = max(abs(dz[i]) / rate, 1e-3)
            air = math.hypot(we, wn)  # hovering in wind: the wind is the airspeed
            vz = dz[i] / t[i]
            p = max(power_w(ac, mass[i], air if ac.kind != "vtol" else 0.0, vz, alt_mid),
                    power_w(ac, mass[i], 0.0, vz, alt_mid))
            va[i], gs[i] = air, 0.0
        else:
            g = ground_speed(ac, float(speed[i]), we, wn, float(ue[i]), float(un[i]))
            if not g > 0.1:
                where = labels[i] if labels else f"leg {i}"
                reasons.append(f"{where}: the aircraft cannot make headway against the wind ({wind.describe()})")
                g = 0.1
            wing = _on_wing(ac, float(speed[i]), h[i], dz[i])
            if wing is False:  # a VTOL leg too steep for its wing flies in hover mode at its still-air speed
                g = min(g, h[i] / max(abs(dz[i]) / rate, 1e-9))
            t[i] = max(h[i] / g, abs(dz[i]) / rate)
            g = h[i] / t[i]
            air = math.hypot(g * ue[i] - we, g * un[i] - wn)
            p = power_w(ac, mass[i], air, dz[i] / t[i], alt_mid, wing)
            if wing is not True:  # rotor-borne: no credit for translational lift from the wind (gusts, shear)
                p = max(p, power_w(ac, mass[i], g, dz[i] / t[i], alt_mid, wing))
            va[i], gs[i] = air, g
        e[i] = p * t[i] / JOULES_PER_WH
    return Flown(t, e, va, gs, _hold_wh(ac, wp, mass, mass_kg, hold_s, wind), reasons)


def _hold_wh(ac: AircraftClass, wp: np.ndarray, mass: np.ndarray, mass_kg, hold_s, wind: Wind) -> float:
    """Energy of the holds: hovering with what it arrived with (a winch delivery lowers the payload during the
    hold), in the wind at that height (a multirotor's airspeed is the wind's)."""
    n = mass.size
    total = 0.0
    if hold_s is None or not len(wp):
        return total
    for i in np.flatnonzero(np.asarray(hold_s) > 0):
        m = float(max(mass[max(i - 1, 0)], mass[min(i, n - 1)])) if n else float(np.asarray(mass_kg).ravel()[0])
        air = wind.at(wp[i, 2] - wp[0, 2])[0] if ac.kind != "vtol" else 0.0
        p = max(power_w(ac, m, air, 0.0, wp[i, 2]), power_w(ac, m, 0.0, 0.0, wp[i, 2]))
        total += p * float(hold_s[i]) / JOULES_PER_WH
    return total


# -- vertical profiles --------------------------------------------------------------------------------------
def lowest_profile(d_m: np.ndarray, floor_m: np.ndarray, climb_grad: float, descent_grad: float) -> np.ndarray:
    """The lowest altitude profile that stays on or above ``floor_m`` and climbs/descends no steeper than the
    gradients (m per m). Unknown floor (NaN) puts no constraint: the caller reports it."""
    f = np.where(np.isfinite(floor_m), floor_m, -np.inf)
    a = f.copy()
    dd = np.diff(d_m)
    for i in range(1, a.size):  # descending no faster than allowed after an obstacle
        a[i] = max(a[i], a[i - 1] - descent_grad * dd[i - 1])
    for i in range(a.size - 2, -1, -1):  # climbing early enough before one
        a[i] = max(a[i], a[i + 1] - climb_grad * dd[i])
    if not np.isfinite(a).any():
        return np.full(a.shape, np.nan)
    return np.where(np.isfinite(a), a, np.nanmax(np.where(np.isfinite(a), a, np.nan)))


def simplify_profile(d_m: np.ndarray, lo_m: np.ndarray, hi_m: np.ndarray, base_m: np.ndarray | None = None
                     ) -> np.ndarray:
    """Indices of the samples to keep so that straight lines between the kept samples' ``base`` values
    (default ``lo``) stay within [lo, hi] at every sample (greedy, longest reach first). Both ends are kept."""
    n = d_m.size
    base = lo_m if base_m is None else base_m
    keep = [0]
    i = 0
    while i < n - 1:
        j = i + 1
        best = j
        while j < n:
            seg = slice(i, j + 1)
            frac = (d_m[seg] - d_m[i]) / max(d_m[j] - d_m[i], 1e-9)
            line = base[i] + frac * (base[j] - base[i])
            if np.all(line >= lo_m[seg] - 1e-6) and np.all(line <= hi_m[seg] + 1e-6):
                best = j
                j += 1
            else:
                break
        keep.append(best)
        i = best
    return np.array(keep, dtype=np.int64)


def densify_utm(x: np.ndarray, y: np.ndarray, step_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Points every ~step_m along a polyline (vertices kept). Returns (x, y, distance, vertex index per input)."""
    xs, ys, ds, vidx = [x[0]], [y[0]], [0.0], [0]
    d0 = 0.0
    for i in range(len(x) - 1):
        seg = math.hypot(x[i + 1] - x[i], y[i + 1] - y[i])
        k = max(int(math.ceil(seg / step_m)), 1)
        f = np.arange(1, k + 1) / k
        xs.extend(x[i] + f * (x[i + 1] - x[i]))
        ys.extend(y[i] + f * (y[i + 1] - y[i]))
        ds.extend(d0 + f * seg)
        d0 += seg
        vidx.append(len(xs) - 1)
    return np.array(xs), np.array(ys), np.array(ds), np.array(vidx)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) index pairs (end inclusive) of the True runs of a boolean array."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    edges = np.flatnonzero(np.diff(m.astype(np.int8)))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]
