"""DEM access: any raster GDAL reads (GeoTIFF, SRTM .hgt, any CRS) through rasterio, queried at WGS84 points.

Elevations are metres above mean sea level (as SRTM, Copernicus and the embedded terrain are). Nodata and
points outside the raster are NaN, which every caller treats as unknown, never as clear.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.errors import RasterioIOError
from rasterio.warp import transform_bounds

from uavsim import geo
from uavsim.errors import TerrainError
from uavsim.terrain import _kernels as k
from uavsim.terrain import datum

log = logging.getLogger(__name__)

SYNTHETIC_TAG = "UAVSIM_SYNTHETIC"


@dataclass(frozen=True)
class Clearance:
    """Per-path result of :meth:`Terrain.path_clearance` (arrays, one entry per path)."""

    min_clearance_m: np.ndarray  # NaN where no sample has known terrain
    first_below_index: np.ndarray  # -1 where no sample is below the threshold
    first_below_d_m: np.ndarray  # distance from the path start of that sample, NaN if none
    unknown_fraction: np.ndarray
    n_samples: np.ndarray


@dataclass(frozen=True)
class Profile:
    d_m: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    elev_m: np.ndarray

    @property
    def length_m(self) -> float:
        return float(self.d_m[-1]) if self.d_m.size else 0.0

    @property
    def unknown_fraction(self) -> float:
        return float(np.mean(~np.isfinite(self.elev_m))) if self.elev_m.size else 1.0


class Terrain:
    """A DEM held in memory (tiled float32) with vectorised WGS84 queries."""

    def __init__(self, grid: np.ndarray, transform: rasterio.Affine, crs: str, path: str = "<memory>",
                 synthetic: bool = False, description: str = "", source: str = "",
                 vertical_datum: str = "") -> None:
        grid = np.asarray(grid, dtype=np.float32)
        if grid.ndim != 2 or min(grid.shape) < 2:
            raise TerrainError(path, f"a DEM needs at least 2 x 2 samples, got shape {grid.shape}")
        self.grid = grid
        self.nrows, self.ncols = grid.shape
        self.transform = transform
        self.inverse = ~transform
        self.crs = crs
        self.path = path
        self.synthetic = synthetic
        self.description = description
        self.source = source or ("uavsim synthetic" if synthetic else "unknown")
        self.vertical_datum = vertical_datum or (datum.EGM96 if synthetic else datum.UNKNOWN)
        self._geographic = rasterio.crs.CRS.from_user_input(crs).is_geographic
        self.tiles = k.make_tiles(grid)

    # -- opening --------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path) -> Terrain:
        """Open any raster GDAL reads, or an http(s) URL of a GeoTIFF/COG. Errors name the file and the problem."""
        text = str(path)
        remote = text.startswith(("http://", "https://"))
        if not remote:
            p = Path(path)
            if not p.exists():
                raise TerrainError(p, "DEM file not found")
            if p.is_dir():
                raise TerrainError(p, "is a directory, not a DEM file")
        # Remote: read through GDAL's /vsicurl/ (HTTP Range requests), without listing the server's folder.
        env = rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR", GDAL_HTTP_MAX_RETRY="3",
                           GDAL_HTTP_TIMEOUT="30") if remote else rasterio.Env()
        try:
            with env, rasterio.open("/vsicurl/" + text if remote else text) as ds:
                if ds.crs is None:
                    raise TerrainError(text, "the raster has no coordinate reference system")
                band = ds.read(1, masked=True)
                scale = ds.scales[0] if ds.scales else 1.0
                offset = ds.offsets[0] if ds.offsets else 0.0
                tags = ds.tags()
                transform, crs, wkt = ds.transform, ds.crs.to_string(), ds.crs.to_wkt()
        except RasterioIOError as exc:
            what = "cannot read the remote DEM through GDAL /vsicurl/" if remote else "not a raster GDAL can read"
            raise TerrainError(text, f"{what} ({exc})") from exc
        grid = band.astype(np.float64).filled(np.nan) * (scale or 1.0) + (offset or 0.0)
        grid[~np.isfinite(grid)] = np.nan
        synthetic = tags.get(SYNTHETIC_TAG, "0") == "1"
        return cls(grid.astype(np.float32), transform, crs, text, synthetic, tags.get("DESCRIPTION", ""),
                   source=_source_of(tags, text, synthetic), vertical_datum=datum.infer(tags, wkt, text))

    # -- coordinates ----------------------------------------------------------------------------------------
    def pixel_xy(self, lat: np.ndarray | float, lon: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """WGS84 degrees -> pixel-centre coordinates (x = column, y = row) of this DEM."""
        lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        if self._geographic:
            xs, ys = lon, lat
        else:
            xs, ys = geo.transformer(geo.WGS84, self.crs).transform(lon, lat)
        col, row = self.inverse @ (np.asarray(xs), np.asarray(ys))
        return np.asarray(col, dtype=np.float64) - 0.5, np.asarray(row, dtype=np.float64) - 0.5

    def covers(self, lat: np.ndarray | float, lon: np.ndarray | float) -> np.ndarray:
        """True where the point lies inside the DEM's extent (data or nodata)."""
        x, y = self.pixel_xy(lat, lon)
        return (x >= -0.5) & (x <= self.ncols - 0.5) & (y >= -0.5) & (y <= self.nrows - 0.5)

    # -- queries --------------------------------------------------------------------------------------------
    def elevation(self, lat: np.ndarray | float, lon: np.ndarray | float) -> np.ndarray:
        """Bilinear elevation (m MSL) at WGS84 points; NaN outside the DEM or next to nodata."""
        x, y = self.pixel_xy(lat, lon)
        out = np.empty(x.shape, dtype=np.float64)
        kern = _kernel(k.bilinear_points_serial, k.bilinear_points, x.size < k.SERIAL_BELOW)
        kern(self.tiles, self.nrows, self.ncols, x, y, out)
        return out

    def profile(self, lat1: float, lon1: float, lat2: float, lon2: float, step_m: float = 30.0) -> Profile:
        """Elevation every ``step_m`` along the geodesic between two points."""
        if not step_m > 0:
            raise TerrainError(self.path, f"profile step must be positive, got {step_m}")
        lat, lon, d = geo.geodesic_points(lat1, lon1, lat2, lon2, step_m)
        return Profile(d, lat, lon, self.elevation(lat, lon))

    def _flatten_paths(self, paths: list[tuple[np.ndarray, np.ndarray, np.ndarray]]):
        if not paths:
            raise TerrainError(self.path, "no paths given")
        lens = np.array([len(p[0]) for p in paths], dtype=np.int64)
        if (lens < 1).any():
            raise TerrainError(self.path, "every path needs at least one vertex")
        lat = np.concatenate([np.asarray(p[0], float) for p in paths])
        lon = np.concatenate([np.asarray(p[1], float) for p in paths])
        alt = np.concatenate([np.broadcast_to(np.asarray(p[2], float), (len(p[0]),)) for p in paths])
        offsets = np.zeros(len(paths) + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        seg = np.zeros(lat.size)
        seg[:-1] = geo.geodesic_distance(lat[:-1], lon[:-1], lat[1:], lon[1:])
        seg[offsets[1:] - 1] = 0.0  # no segment joins one path's end to the next path's start
        x, y = self.pixel_xy(lat, lon)
        return x, y, alt, seg, offsets

    def path_clearance(self, paths: list[tuple[np.ndarray, np.ndarray, np.ndarray]], step_m: float = 10.0,
                       threshold_m: float = 0.0) -> Clearance:
        """Minimum clearance (altitude MSL minus terrain) along many polylines (lat, lon, alt_msl) at once."""
        if not step_m > 0:
            raise TerrainError(self.path, f"sampling step must be positive, got {step_m}")
        x, y, alt, seg, offsets = self._flatten_paths(paths)
        n = len(paths)
        mc, fd = np.empty(n), np.empty(n)
        fi, unk, ns = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
        small = n == 1 or seg.sum() / step_m < k.SERIAL_BELOW
        kern = _kernel(k.path_clearance_serial, k.path_clearance, small)
        kern(self.tiles, self.nrows, self.ncols, x, y, alt, seg, offsets, float(step_m), float(threshold_m),
             mc, fi, fd, unk, ns)
        return Clearance(mc, fi, fd, unk / ns, ns)

    def sample_paths(self, paths: list[tuple[np.ndarray, np.ndarray, np.ndarray]], step_m: float = 10.0
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every sample along many paths: (sample offsets per path, pixel x, pixel y, altitude, distance)."""
        x, y, alt, seg, offsets = self._flatten_paths(paths)
        counts = np.empty(len(paths), np.int64)
        k.count_samples(seg, offsets, float(step_m), counts)
        so = np.zeros(len(paths) + 1, np.int64)
        np.cumsum(counts, out=so[1:])
        px, py, pa, pd = (np.empty(so[-1]) for _ in range(4))
        _kernel(k.path_points_serial, k.path_points, so[-1] < k.SERIAL_BELOW)(
            x, y, alt, seg, offsets, float(step_m), so, px, py, pa, pd)
        return so, px, py, pa, pd

    def elevation_at_pixels(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        out = np.empty(np.shape(x), dtype=np.float64)
        kern = _kernel(k.bilinear_points_serial, k.bilinear_points, out.size < k.SERIAL_BELOW)
        kern(self.tiles, self.nrows, self.ncols, np.asarray(x, float), np.asarray(y, float), out)
        return out

    def line_of_sight(self, lat1, lon1, alt1_msl, lat2, lon2, alt2_msl, margin_m: float = 0.0) -> np.ndarray:
        """Visibility between 3-D point pairs (arrays broadcast): 1 visible, 0 blocked, -1 unknown terrain."""
        lat1, lon1, alt1, lat2, lon2, alt2 = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, float)) for v in (
            lat1, lon1, alt1_msl, lat2, lon2, alt2_msl)))
        ax, ay = self.pixel_xy(lat1, lon1)
        bx, by = self.pixel_xy(lat2, lon2)
        out = np.empty(ax.shape, dtype=np.int8)
        kern = _kernel(k.line_of_sight_serial, k.line_of_sight, ax.size < 64)
        kern(self.tiles, self.nrows, self.ncols, ax, ay, np.ascontiguousarray(alt1), bx, by,
                        np.ascontiguousarray(alt2), 0.5, float(margin_m), out)
        return out

    # -- metadata -------------------------------------------------------------------------------------------
    @property
    def bounds_wgs84(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees."""
        w, n = self.transform @ (0, 0)
        e, s = self.transform @ (self.ncols, self.nrows)
        w, e = min(w, e), max(w, e)
        s, n = min(s, n), max(s, n)
        if self._geographic:
            return (float(w), float(s), float(e), float(n))
        return tuple(float(v) for v in transform_bounds(self.crs, geo.WGS84, w, s, e, n))  # type: ignore[return-value]

    @property
    def resolution_m(self) -> tuple[float, float]:
        """Pixel size (east-west, north-south) in metres, at the DEM's centre."""
        if not self._geographic:
            return (abs(self.transform.a), abs(self.transform.e))
        w, s, e, n = self.bounds_wgs84
        lat0, lon0 = (s + n) / 2, (w + e) / 2
        dx = float(geo.geodesic_distance(lat0, lon0, lat0, lon0 + abs(self.transform.a)))
        dy = float(geo.geodesic_distance(lat0, lon0, lat0 + abs(self.transform.e), lon0))
        return (dx, dy)

    def info(self) -> dict[str, object]:
        """The `terrain info` document (DESIGN.md keys)."""
        finite = self.grid[np.isfinite(self.grid)]
        return {
            "path": self.path,
            "crs": self.crs,
            "bounds": list(self.bounds_wgs84),
            "resolution_m": max(self.resolution_m),
            "resolution_xy_m": list(self.resolution_m),
            "shape": [self.nrows, self.ncols],
            "synthetic": self.synthetic,
            "min_elev_m": float(finite.min()) if finite.size else None,
            "max_elev_m": float(finite.max()) if finite.size else None,
            "nodata_fraction": float(1 - finite.size / self.grid.size),
            "description": self.description,
            "source": self.source,
            "vertical_datum": self.vertical_datum,
        }

    def summary(self) -> dict[str, object]:
        """The DEM in use, for every command's output: source, resolution, synthetic or not, vertical datum."""
        return {"path": self.path, "source": self.source, "resolution_m": max(self.resolution_m),
                "synthetic": self.synthetic, "vertical_datum": self.vertical_datum, "label": self.label()}

    def label(self) -> str:
        """One line naming the DEM in use: source, resolution, synthetic or not, vertical datum."""
        kind = "SYNTHETIC (not a survey)" if self.synthetic else "real"
        return (f"{self.source}, {max(self.resolution_m):.0f} m, {kind}, heights above {self.vertical_datum} "
                f"({self.path})")


def _source_of(tags: dict[str, str], path: str, synthetic: bool) -> str:
    """Who made the DEM: the fetch tags, else the synthetic tag, else what the file name says."""
    if tags.get("SOURCE_TITLE"):
        return tags["SOURCE_TITLE"]
    if synthetic:
        return "uavsim synthetic"
    low = path.lower()
    if "copernicus" in low:
        return "Copernicus DEM"
    if low.endswith(".hgt") or "srtm" in low:
        return "SRTM"
    return Path(path).name


# numba's thread pool does not survive fork: in a forked child (an ingest worker) of a process whose pool is
# running, a threaded kernel is terminated by numba's workqueue layer. Such a child runs the serial twins, which
# give the same results (tested). The fork hook only records that fact in the child.
_FORKED_FROM_THREADS: list[bool] = []


def _note_fork_in_child() -> None:
    parallel = sys.modules.get("numba.np.ufunc.parallel")
    if parallel is not None and getattr(parallel, "_is_initialized", False):
        _FORKED_FROM_THREADS.append(True)


os.register_at_fork(after_in_child=_note_fork_in_child)


def _kernel(serial: Any, threaded: Any, small: bool) -> Any:
    """The serial twin for small batches, and in a forked child of a process that ran numba's threads."""
    return serial if small or _FORKED_FROM_THREADS else threaded
