"""Slow, obvious twins of the terrain kernels, for tests and benchmarks.

They read the plain row-major grid (not the tiles) with Python loops, so that a layout or indexing bug in
the kernels shows up as a disagreement.
"""

from __future__ import annotations

import math

import numpy as np


def bilinear_ref(grid: np.ndarray, x: float, y: float) -> float:
    nr, nc = grid.shape
    if not (-0.5 <= x <= nc - 0.5 and -0.5 <= y <= nr - 0.5):
        return math.nan
    x = min(max(x, 0.0), nc - 1.0)
    y = min(max(y, 0.0), nr - 1.0)
    c0 = min(int(math.floor(x)), nc - 2)
    r0 = min(int(math.floor(y)), nr - 2)
    fx, fy = x - c0, y - r0
    z00, z01 = float(grid[r0, c0]), float(grid[r0, c0 + 1])
    z10, z11 = float(grid[r0 + 1, c0]), float(grid[r0 + 1, c0 + 1])
    return (z00 * (1 - fx) + z01 * fx) * (1 - fy) + (z10 * (1 - fx) + z11 * fx) * fy


def path_samples_ref(vx, vy, valt, seg_len, step_m) -> list[tuple[float, float, float, float]]:
    """(x, y, alt, distance) of every sample along one path, in order."""
    out = []
    d0 = 0.0
    for k in range(len(vx) - 1):
        n = max(math.ceil(seg_len[k] / step_m), 1)
        for s in range(n):
            t = s * (1.0 / n)
            out.append((vx[k] + (vx[k + 1] - vx[k]) * t, vy[k] + (vy[k + 1] - vy[k]) * t,
                        valt[k] + (valt[k + 1] - valt[k]) * t, d0 + seg_len[k] * t))
        d0 += seg_len[k]
    out.append((vx[-1], vy[-1], valt[-1], d0))
    return out


def path_clearance_ref(grid, vx, vy, valt, seg_len, step_m, threshold) -> tuple[float, int, float, int, int]:
    """(min clearance, first index below threshold, its distance, unknown count, sample count) of one path."""
    min_c, first_i, first_d, unknown = math.inf, -1, math.nan, 0
    samples = path_samples_ref(vx, vy, valt, seg_len, step_m)
    for j, (x, y, a, d) in enumerate(samples):
        c = a - bilinear_ref(grid, x, y)
        if math.isnan(c):
            unknown += 1
            continue
        min_c = min(min_c, c)
        if first_i < 0 and c < threshold:
            first_i, first_d = j, d
    return (min_c if min_c != math.inf else math.nan), first_i, first_d, unknown, len(samples)


def line_of_sight_ref(grid, a: tuple[float, float, float], b: tuple[float, float, float], step_px: float,
                      margin: float) -> int:
    """1 visible, 0 blocked, -1 unknown (see the kernel)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    n = max(math.ceil(max(abs(dx), abs(dy)) / step_px), 1)
    res = 1
    for s in range(1, n):
        t = s / n
        z = bilinear_ref(grid, a[0] + dx * t, a[1] + dy * t)
        if math.isnan(z):
            res = -1
        elif a[2] + (b[2] - a[2]) * t < z + margin:
            return 0
    return res
