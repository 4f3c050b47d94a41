"""Hillshade of a DEM grid for map backgrounds (numpy; no kernel needed at map resolution)."""

from __future__ import annotations

import numpy as np


def hillshade(grid: np.ndarray, dx_m: float, dy_m: float, azimuth_deg: float = 315.0,
              altitude_deg: float = 45.0) -> np.ndarray:
    """Shaded relief in [0, 1] (NaN where the DEM is unknown). Rows run north to south."""
    z = np.asarray(grid, dtype=np.float64)
    gy, gx = np.gradient(z, dy_m, dx_m)
    slope = np.arctan(np.hypot(gx, gy))
    # Rows increase southwards, so the northward gradient is -gy.
    aspect = np.arctan2(-gx, gy)
    az = np.radians(360.0 - azimuth_deg + 90.0)
    alt = np.radians(altitude_deg)
    shade = np.sin(alt) * np.cos(slope) + np.cos(alt) * np.sin(slope) * np.cos(az - aspect)
    return np.clip(shade, 0.0, 1.0)


def decimate(grid: np.ndarray, max_side: int) -> tuple[np.ndarray, int]:
    """Every n-th sample so that neither side exceeds ``max_side``; returns (grid, n)."""
    n = max(1, int(np.ceil(max(grid.shape) / max_side)))
    return grid[::n, ::n], n
