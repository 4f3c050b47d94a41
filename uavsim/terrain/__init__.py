"""Terrain: any DEM GDAL reads, the embedded synthetic default, numba path and line-of-sight kernels."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from uavsim.terrain.dem import Clearance, Profile, Terrain

__all__ = ["Clearance", "Profile", "Terrain", "open_dem", "open_default"]


@lru_cache(maxsize=4)
def _open_cached(path: str) -> Terrain:
    return Terrain.open(path)


def open_default() -> Terrain:
    """The embedded synthetic terrain of the sandbox (built and cached on first use)."""
    from uavsim.terrain import synthetic

    return _open_cached(str(synthetic.ensure()))


def open_dem(path: str | Path | None = None) -> Terrain:
    """Open a DEM file, or the embedded default when ``path`` is None. Opened DEMs are cached per path."""
    if path is None:
        return open_default()
    return _open_cached(str(Path(path).resolve()))
