"""Terrain: any DEM GDAL reads, fetched Copernicus mosaics, the embedded synthetic fallback, numba kernels."""

from uavsim.terrain.dem import Clearance, Profile, Terrain
from uavsim.terrain.opening import SYNTHETIC, open_default, open_dem, resolve_dem

__all__ = ["SYNTHETIC", "Clearance", "Profile", "Terrain", "open_dem", "open_default", "resolve_dem"]
