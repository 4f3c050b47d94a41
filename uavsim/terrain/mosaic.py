"""Mosaic downloaded tiles into one clipped, tiled, compressed GeoTIFF, and find the mosaics already cached.

rasterio.merge does the work (windowed, memory-bounded, written straight to disk). The box is snapped outwards to
the tiles' own pixel grid, so no pixel is shifted or resampled. Cells the server did not have stay nodata (NaN),
which every query treats as unknown.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import rasterio
from rasterio.merge import merge

from uavsim.terrain.cache import terrain_dir

log = logging.getLogger(__name__)

FETCHED_TAG = "UAVSIM_FETCHED"
MERGE_MEMORY_MB = 256  # rasterio.merge's working-memory cap; the output is written block by block


@dataclass(frozen=True)
class CachedMosaic:
    path: Path
    bounds: tuple[float, float, float, float]
    source: str
    date: str

    def covers(self, area: tuple[float, float, float, float]) -> bool:
        w, s, e, n = self.bounds
        aw, as_, ae, an = area
        return w <= aw and s <= as_ and e >= ae and n >= an


def mosaic_dir() -> Path:
    return terrain_dir() / "mosaics"


def snap_bounds(bounds: tuple[float, float, float, float], transform: rasterio.Affine
                ) -> tuple[float, float, float, float]:
    """Grow a box to the pixel grid of ``transform`` (north-up), so the mosaic keeps the tiles' pixels."""
    dx, dy = transform.a, -transform.e
    x0, y0 = transform.c, transform.f
    w, s, e, n = bounds
    eps = 1e-9
    w2 = x0 + math.floor((w - x0) / dx + eps) * dx
    e2 = x0 + math.ceil((e - x0) / dx - eps) * dx
    n2 = y0 - math.floor((y0 - n) / dy + eps) * dy
    s2 = y0 - math.ceil((y0 - s) / dy - eps) * dy
    return w2, s2, e2, n2


def build(tiles: list[Path], bounds: tuple[float, float, float, float], out: Path, tags: dict[str, str]) -> Path:
    """Mosaic ``tiles`` over ``bounds`` (W, S, E, N, WGS84) into ``out``, atomically; returns ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(tiles[0]) as first:
        snapped = snap_bounds(bounds, first.transform)
    tmp = out.with_name(f".{out.stem}.tmp{os.getpid()}.tif")
    kwds = dict(driver="GTiff", tiled=True, blockxsize=256, blockysize=256, compress="deflate", predictor=3,
                BIGTIFF="IF_SAFER")
    try:
        merge([str(t) for t in tiles], bounds=snapped, nodata=np.nan, dtype="float32", dst_path=str(tmp),
              dst_kwds=kwds, mem_limit=MERGE_MEMORY_MB)
        with rasterio.open(tmp, "r+") as ds:
            ds.update_tags(**{FETCHED_TAG: "1", **tags})
        os.replace(tmp, out)  # only a finished, tagged mosaic ever carries the final name
    finally:
        tmp.unlink(missing_ok=True)
    return out


def mosaic_name(source_id: str, bounds: tuple[float, float, float, float]) -> str:
    w, s, e, n = bounds
    return f"{source_id}_W{w:.4f}_S{s:.4f}_E{e:.4f}_N{n:.4f}.tif"


def cached(folder: Path | None = None) -> list[CachedMosaic]:
    """Every finished mosaic in the cache, newest first."""
    folder = folder or mosaic_dir()
    found = []
    for path in sorted(folder.glob("*.tif")) if folder.is_dir() else []:
        if path.name.startswith("."):
            continue
        try:
            with rasterio.open(path) as ds:
                tags = ds.tags()
                b = ds.bounds
        except rasterio.errors.RasterioIOError:
            log.warning("ignoring unreadable mosaic %s", path)
            continue
        if tags.get(FETCHED_TAG) == "1":
            found.append(CachedMosaic(path, (b.left, b.bottom, b.right, b.top), tags.get("SOURCE", "?"),
                                      tags.get("DATE", "")))
    return sorted(found, key=lambda m: (m.date, m.path.stat().st_mtime), reverse=True)


def default_for(area: tuple[float, float, float, float] | None = None) -> CachedMosaic | None:
    """The newest cached mosaic that covers ``area`` (or the newest of all when no area is given)."""
    for m in cached():
        if area is None or m.covers(area):
            return m
    return None


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
