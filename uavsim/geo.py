"""Coordinate reference systems (pyproj): WGS84 <-> UTM 48N for Điện Biên, geodesic distances, datums.

Altitude datums: ``_msl`` is above mean sea level (EGM96 geoid, as DEMs, MAVLink GLOBAL_POSITION_INT.alt
and DataFlash GPS.Alt are), ``_ellipsoid`` is GNSS height above the WGS84 ellipsoid.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from pyproj import CRS, Geod, Transformer

WGS84 = "EPSG:4326"
UTM48N = "EPSG:32648"  # UTM zone 48N covers 102–108 E, the whole sandbox
# EGM96 geoid undulation near Điện Biên (MISSION.md): ellipsoidal height is ~33 m below MSL height.
EGM96_UNDULATION_DIENBIEN_M = -33.0

_GEOD = Geod(ellps="WGS84")


@cache
def transformer(src: str, dst: str) -> Transformer:
    """A cached, thread-safe-enough transformer with (x=lon/easting, y=lat/northing) axis order."""
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def to_utm(lat: np.ndarray | float, lon: np.ndarray | float, crs: str = UTM48N) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 degrees -> projected metres (easting, northing)."""
    x, y = transformer(WGS84, crs).transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x), np.asarray(y)


def from_utm(x: np.ndarray | float, y: np.ndarray | float, crs: str = UTM48N) -> tuple[np.ndarray, np.ndarray]:
    """Projected metres (easting, northing) -> WGS84 (lat, lon) degrees."""
    lon, lat = transformer(crs, WGS84).transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(lat), np.asarray(lon)


def geodesic_distance(lat1: np.ndarray | float, lon1: np.ndarray | float,
                      lat2: np.ndarray | float, lon2: np.ndarray | float) -> np.ndarray:
    """Distance in metres on the WGS84 ellipsoid between point pairs."""
    _, _, d = _GEOD.inv(np.asarray(lon1, float), np.asarray(lat1, float), np.asarray(lon2, float), np.asarray(lat2, float))
    return np.asarray(d)


def track_length(lat: np.ndarray, lon: np.ndarray) -> float:
    """Geodesic length in metres of a polyline; NaN vertices are skipped."""
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    ok = np.isfinite(lat) & np.isfinite(lon)
    lat, lon = lat[ok], lon[ok]
    if lat.size < 2:
        return 0.0
    return float(np.sum(geodesic_distance(lat[:-1], lon[:-1], lat[1:], lon[1:])))


def geodesic_points(lat1: float, lon1: float, lat2: float, lon2: float, step_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points every ``step_m`` along the geodesic, both ends included. Returns (lat, lon, distance_m)."""
    _, _, length = _GEOD.inv(lon1, lat1, lon2, lat2)
    n = max(int(np.ceil(length / step_m)), 1)
    if length == 0:
        return np.array([lat1]), np.array([lon1]), np.array([0.0])
    inner = _GEOD.npts(lon1, lat1, lon2, lat2, n - 1) if n > 1 else []
    lons = np.array([lon1] + [p[0] for p in inner] + [lon2])
    lats = np.array([lat1] + [p[1] for p in inner] + [lat2])
    return lats, lons, np.linspace(0.0, length, n + 1)


def msl_to_ellipsoid(alt_msl_m: np.ndarray | float, undulation_m: float = EGM96_UNDULATION_DIENBIEN_M) -> np.ndarray:
    """MSL height -> ellipsoidal height (h = H + N)."""
    return np.asarray(alt_msl_m, float) + undulation_m


def ellipsoid_to_msl(alt_ellipsoid_m: np.ndarray | float, undulation_m: float = EGM96_UNDULATION_DIENBIEN_M) -> np.ndarray:
    """Ellipsoidal height -> MSL height (H = h - N)."""
    return np.asarray(alt_ellipsoid_m, float) - undulation_m
