"""Plane geometry of tracks against planned paths (UTM metres): distance to a polyline, straight legs, lanes.

Pure numpy; a slow twin (:func:`distance_to_path_slow`) checks the vectorised one in the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_CHUNK = 4096  # points per block: keeps the (points x segments) matrix small


@dataclass(frozen=True)
class Nearest:
    """Per point: distance to the path (m), the segment it is nearest to, and where along it (0..1)."""

    distance_m: np.ndarray
    segment: np.ndarray
    frac: np.ndarray


def distance_to_path(px: np.ndarray, py: np.ndarray, vx: np.ndarray, vy: np.ndarray) -> Nearest:
    """Horizontal distance from each point to the polyline of vertices (vx, vy)."""
    px, py, vx, vy = (np.asarray(a, float) for a in (px, py, vx, vy))
    if vx.size == 1:
        vx, vy = np.repeat(vx, 2), np.repeat(vy, 2)
    ax, ay, bx, by = vx[:-1], vy[:-1], vx[1:], vy[1:]
    dx, dy = bx - ax, by - ay
    l2 = dx * dx + dy * dy
    inv = np.where(l2 > 0, 1.0 / np.where(l2 > 0, l2, 1.0), 0.0)
    dist = np.empty(px.size)
    seg = np.empty(px.size, np.int64)
    frac = np.empty(px.size)
    for s in range(0, px.size, _CHUNK):
        x, y = px[s:s + _CHUNK, None], py[s:s + _CHUNK, None]
        u = np.clip(((x - ax) * dx + (y - ay) * dy) * inv, 0.0, 1.0)
        d2 = (ax + u * dx - x) ** 2 + (ay + u * dy - y) ** 2
        k = np.argmin(d2, axis=1)
        rows = np.arange(k.size)
        dist[s:s + _CHUNK] = np.sqrt(d2[rows, k])
        seg[s:s + _CHUNK] = k
        frac[s:s + _CHUNK] = u[rows, k]
    return Nearest(dist, seg, frac)


def vertical_offset(px: np.ndarray, py: np.ndarray, pz: np.ndarray, vx: np.ndarray, vy: np.ndarray, vz: np.ndarray,
                    slack_m: float) -> np.ndarray:
    """Signed height of each point above the plan, against the plan part horizontally nearest it: among the
    segments within ``slack_m`` of the nearest one, the one closest in height (where a path climbs or descends
    over the same ground, or crosses itself, the flight is held to the part it is flying)."""
    px, py, pz, vx, vy, vz = (np.asarray(a, float) for a in (px, py, pz, vx, vy, vz))
    if vx.size == 1:
        vx, vy, vz = np.repeat(vx, 2), np.repeat(vy, 2), np.repeat(vz, 2)
    ax, ay, az, dx, dy, dz = vx[:-1], vy[:-1], vz[:-1], np.diff(vx), np.diff(vy), np.diff(vz)
    l2 = dx * dx + dy * dy
    inv = np.where(l2 > 0, 1.0 / np.where(l2 > 0, l2, 1.0), 0.0)
    out = np.empty(px.size)
    for s in range(0, px.size, _CHUNK):
        x, y, z = px[s:s + _CHUNK, None], py[s:s + _CHUNK, None], pz[s:s + _CHUNK, None]
        u = np.clip(((x - ax) * dx + (y - ay) * dy) * inv, 0.0, 1.0)
        d = np.sqrt((ax + u * dx - x) ** 2 + (ay + u * dy - y) ** 2)
        # a vertical segment (climb at home) spans its whole height range at one point
        lo, hi = np.minimum(az, az + dz), np.maximum(az, az + dz)
        want = np.where(l2 > 0, az + u * dz, np.clip(z, lo, hi))
        dz_all = np.where(d <= d.min(axis=1, keepdims=True) + slack_m, z - want, np.inf)
        k = np.argmin(np.abs(dz_all), axis=1)
        out[s:s + _CHUNK] = dz_all[np.arange(k.size), k]
    return out


def distance_to_path_slow(px: list[float], py: list[float], vx: list[float], vy: list[float]) -> list[float]:
    """Point by point, segment by segment: the reference for :func:`distance_to_path`."""
    out = []
    for x, y in zip(px, py, strict=True):
        best = math.inf
        for i in range(max(len(vx) - 1, 1)):
            ax, ay = vx[i], vy[i]
            bx, by = (vx[i + 1], vy[i + 1]) if len(vx) > 1 else (ax, ay)
            l2 = (bx - ax) ** 2 + (by - ay) ** 2
            u = 0.0 if l2 == 0 else min(1.0, max(0.0, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / l2))
            best = min(best, math.hypot(ax + u * (bx - ax) - x, ay + u * (by - ay) - y))
        out.append(best)
    return out


def straight_legs(x: np.ndarray, y: np.ndarray, min_len_m: float, tol_deg: float = 10.0, min_steps: int = 3
                  ) -> list[tuple[int, int]]:
    """(start, end) sample indices of runs whose step headings stay within ``tol_deg`` of the run's first step,
    at least ``min_steps`` steps and ``min_len_m`` end to end (one long step between sparse samples proves no
    straight flight). Hovering steps (< 0.5 m) are skipped."""
    dx, dy = np.diff(x), np.diff(y)
    moving = np.hypot(dx, dy) > 0.5
    hdg = np.degrees(np.arctan2(dx, dy))
    legs: list[tuple[int, int]] = []
    i, n = 0, dx.size
    while i < n:
        if not moving[i]:
            i += 1
            continue
        j = i + 1
        while j < n and (not moving[j] or abs((hdg[j] - hdg[i] + 180.0) % 360.0 - 180.0) <= tol_deg):
            j += 1
        if j - i >= min_steps and math.hypot(x[j] - x[i], y[j] - y[i]) >= min_len_m:
            legs.append((i, j))
        i = j
    return legs


def parallel_lanes(x: np.ndarray, y: np.ndarray, legs: list[tuple[int, int]], parallel_deg: float
                   ) -> tuple[list[tuple[int, int]], float | None]:
    """The largest set of legs parallel (either direction) within ``parallel_deg`` of one of them, and their
    length-weighted axis (deg from north, 0..180). The most legs win, so that a long transit does not set the axis
    of many short lanes."""
    if not legs:
        return [], None
    axes = np.array([math.degrees(math.atan2(x[j] - x[i], y[j] - y[i])) % 180.0 for i, j in legs])
    lengths = np.array([math.hypot(x[j] - x[i], y[j] - y[i]) for i, j in legs])
    off = np.abs((axes[:, None] - axes[None, :] + 90.0) % 180.0 - 90.0) <= parallel_deg  # [candidate, leg]
    k = max(range(len(legs)), key=lambda c: (int(off[c].sum()), float(lengths[off[c]].sum())))
    members = np.flatnonzero(off[k])
    # axial mean: double the angles so that 0 and 180 agree
    c = np.sum(lengths[members] * np.cos(np.radians(2 * axes[members])))
    s = np.sum(lengths[members] * np.sin(np.radians(2 * axes[members])))
    axis = (math.degrees(math.atan2(s, c)) / 2.0) % 180.0
    return [legs[i] for i in members], axis


def points_along(vx: np.ndarray, vy: np.ndarray, step_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``step_m`` along a polyline, vertices included (the planner's densification)."""
    from uavsim.planning.profile import densify_utm

    x, y, _, _ = densify_utm(np.asarray(vx, float), np.asarray(vy, float), step_m)
    return x, y
