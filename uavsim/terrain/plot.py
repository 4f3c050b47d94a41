"""Terrain figures (matplotlib Figure objects; no pyplot global state)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from uavsim.terrain.dem import Profile


def profile_png(p: Profile, path: str | Path, title: str = "", synthetic: bool = False) -> Path:
    """Elevation profile as a PNG; unknown stretches are shaded red."""
    fig = Figure(figsize=(9, 3.5), dpi=110)
    ax = fig.add_subplot()
    d_km = p.d_m / 1000.0
    ax.fill_between(d_km, np.nan_to_num(p.elev_m, nan=np.nanmin(p.elev_m) if np.isfinite(p.elev_m).any() else 0),
                    np.nanmin(p.elev_m) - 50 if np.isfinite(p.elev_m).any() else 0, color="#c8b48c", alpha=0.6)
    ax.plot(d_km, p.elev_m, color="#5a4020", lw=1.2)
    unknown = ~np.isfinite(p.elev_m)
    if unknown.any():
        ax.fill_between(d_km, 0, 1, where=unknown, transform=ax.get_xaxis_transform(), color="red", alpha=0.2,
                        label="unknown terrain")
        ax.legend(loc="upper right")
    ax.set_xlabel("distance (km)")
    ax.set_ylabel("elevation (m MSL)")
    ax.set_title(title + ("  [SYNTHETIC terrain]" if synthetic else ""))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    return Path(path)
