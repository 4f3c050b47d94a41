"""The embedded default terrain: a deterministic synthetic model of the sandbox area, built from a seed.

Method (terrain/README.md has the long form):
1. a regional trend through the control points (spot heights and site elevations), by Gaussian-kernel
   interpolation of their departures from a regional mean;
2. fractal relief from spectral synthesis (power ~ k^-beta) mixed with its ridged form, so that crests are
   sharp and valleys V-shaped instead of noise;
3. soft compression of the highest ground so that ridges top out near 1,900-2,000 m;
4. the flat Mường Thanh basin floor blended in with a smooth edge;
5. an exact correction at the control points with a narrow Gaussian kernel, so that the surface honours them.

The result is written once as a GeoTIFF (float32, EPSG:4326) in a cache folder and opened through the same
code path as any real DEM; its metadata says it is synthetic.
"""

from __future__ import annotations

import logging
import os
import tomllib
from importlib import resources
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin
from scipy import ndimage

from uavsim.terrain.cache import cache_dir
from uavsim.terrain.dem import SYNTHETIC_TAG

log = logging.getLogger(__name__)

METHOD_VERSION = 1
KM_PER_DEG_LAT = 110.75  # at 21.6 N


def recipe() -> dict:
    text = resources.files("uavsim.terrain").joinpath("data/dienbien_synthetic.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def default_path(r: dict | None = None) -> Path:
    r = r or recipe()
    return cache_dir() / f"dienbien_synthetic_v{METHOD_VERSION}_seed{r['grid']['seed']}.tif"


def _km_coords(lat: np.ndarray, lon: np.ndarray, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    return (lon - 103.0) * KM_PER_DEG_LAT * np.cos(np.radians(lat0)), (lat - lat0) * KM_PER_DEG_LAT


def _gauss_interp(px, py, values, gx, gy, length_km, nugget=1e-6):
    """Exact Gaussian-kernel interpolation of ``values`` at (px, py), evaluated on (gx, gy)."""
    d2 = (px[:, None] - px[None, :]) ** 2 + (py[:, None] - py[None, :]) ** 2
    kmat = np.exp(-d2 / (2 * length_km**2)) + nugget * np.eye(px.size)
    w = np.linalg.solve(kmat, values)
    out = np.zeros(gx.shape)
    for i in range(px.size):
        out += w[i] * np.exp(-((gx - px[i]) ** 2 + (gy - py[i]) ** 2) / (2 * length_km**2))
    return out


def _spectral_field(rng: np.random.Generator, shape, dx_km, dy_km, beta, lmax_km):
    """Zero-mean, unit-variance Gaussian field with power ~ k^-beta, flat below 1/lmax."""
    ny, nx = shape
    ky = np.fft.fftfreq(ny, d=dy_km)[:, None]
    kx = np.fft.rfftfreq(nx, d=dx_km)[None, :]
    kk = np.sqrt(kx**2 + ky**2)
    kk = np.maximum(kk, 1.0 / lmax_km)
    amp = kk ** (-beta / 2)
    noise = rng.standard_normal((ny, nx // 2 + 1)) + 1j * rng.standard_normal((ny, nx // 2 + 1))
    f = np.fft.irfft2(noise * amp, s=shape)
    return (f - f.mean()) / f.std()


def generate(r: dict | None = None) -> tuple[np.ndarray, rasterio.Affine]:
    """Build the grid (rows north to south) and its affine transform. Pure function of the recipe."""
    r = r or recipe()
    g, rel, basin, ctrl = r["grid"], r["relief"], r["basin"], r["control"]
    step = g["step_deg"]
    ny = int(round((g["north"] - g["south"]) / step))
    nx = int(round((g["east"] - g["west"]) / step))
    lat0 = (g["north"] + g["south"]) / 2
    rng = np.random.default_rng(g["seed"])

    # Coarse grid (every 8th pixel) for the smooth fields, then zoomed up.
    f = 8
    cy = g["north"] - (np.arange(ny // f + 1) * f + 0.5) * step
    cx = g["west"] + (np.arange(nx // f + 1) * f + 0.5) * step
    clat, clon = np.meshgrid(cy, cx, indexing="ij")
    cgx, cgy = _km_coords(clat, clon, lat0)
    pts = np.array([p[:3] for p in ctrl["points"]], dtype=float)
    pxk, pyk = _km_coords(pts[:, 0], pts[:, 1], lat0)
    trend_c = rel["mean_m"] + _gauss_interp(pxk, pyk, pts[:, 2] - rel["mean_m"], cgx, cgy, rel["trend_length_km"])

    dx_km = step * KM_PER_DEG_LAT * np.cos(np.radians(lat0))
    dy_km = step * KM_PER_DEG_LAT
    fbm = _spectral_field(rng, (ny, nx), dx_km, dy_km, rel["spectral_slope"], rel["largest_wavelength_km"])
    ridged = 1.0 - 2.0 * np.abs(_spectral_field(rng, (ny, nx), dx_km, dy_km, rel["spectral_slope"],
                                                rel["largest_wavelength_km"]))
    ridged = (ridged - ridged.mean()) / ridged.std()
    relief = (1 - rel["ridged_share"]) * fbm + rel["ridged_share"] * ridged

    def up(a: np.ndarray) -> np.ndarray:
        return ndimage.zoom(a, (ny / a.shape[0], nx / a.shape[1]), order=1, grid_mode=True, mode="nearest")[:ny, :nx]

    # Relief amplitude fades near the control points, so that the trend honours them without deep pits.
    dmin = np.min(np.hypot(cgx[..., None] - pxk, cgy[..., None] - pyk), axis=-1)
    amp_c = rel["amplitude_m"] * (1 - 0.6 * np.exp(-(dmin / 1.5) ** 2))
    z = up(trend_c) + up(amp_c) * relief
    del fbm, ridged, relief

    top, span = rel["ceiling_m"], rel["ceiling_span_m"]
    z = np.where(z > top, top + span * np.tanh((z - top) / span), z)
    # Low ground is compressed softly towards floor_m (river valleys), never clamped flat.
    low, lspan = rel["floor_m"] + rel["ceiling_span_m"], rel["ceiling_span_m"]
    z = np.where(z < low, low - lspan * np.tanh((low - z) / lspan), z)

    lat = g["north"] - (np.arange(ny) + 0.5) * step
    lon = g["west"] + (np.arange(nx) + 0.5) * step
    # Basin floor: a gentle south-north plane, blended over edge_km with a smoothstep.
    t_ns = np.clip((lat - basin["south"]) / (basin["north"] - basin["south"]), 0, 1)
    floor = basin["floor_south_m"] + (basin["floor_north_m"] - basin["floor_south_m"]) * t_ns
    dlat_km = np.maximum(np.maximum(basin["south"] - lat, lat - basin["north"]), 0) * KM_PER_DEG_LAT
    dlon_km = np.maximum(np.maximum(basin["west"] - lon, lon - basin["east"]), 0) * dx_km / step
    dist = np.hypot(dlat_km[:, None], dlon_km[None, :])
    s = np.clip(dist / basin["edge_km"], 0, 1)
    w = s * s * (3 - 2 * s)
    # Near the basin the slopes may not dip below its floor (no pits at the valley's rim).
    v = np.clip(1 - dist / (3 * basin["edge_km"]), 0, 1)
    rim = z + v * (np.maximum(z, floor[:, None]) - z)
    z = (1 - w) * (floor[:, None] + basin["roughness_m"] * rng.standard_normal((ny, nx))) + w * rim

    # Exact correction at the control points, read with the same bilinear rule as any query.
    from uavsim.terrain.reference import bilinear_ref

    col = (pts[:, 1] - g["west"]) / step - 0.5
    row = (g["north"] - pts[:, 0]) / step - 0.5
    for _ in range(3):
        resid = pts[:, 2] - np.array([bilinear_ref(z, x, y) for x, y in zip(col, row, strict=True)])
        resid[~np.isfinite(resid)] = 0.0  # a control point outside this grid corrects nothing
        corr = _gauss_interp(pxk, pyk, resid, cgx, cgy, ctrl.get("correction_length_km", rel["correction_length_km"]))
        z = z + up(corr)
    transform = from_origin(g["west"], g["north"], step, step)
    return z.astype(np.float32), transform


def build(path: str | Path | None = None, r: dict | None = None) -> Path:
    """Generate the terrain and write it atomically as a GeoTIFF; returns its path."""
    r = r or recipe()
    path = Path(path) if path else default_path(r)
    path.parent.mkdir(parents=True, exist_ok=True)
    log.info("building the synthetic default terrain at %s", path)
    z, transform = generate(r)
    tmp = path.with_suffix(f".tmp{os.getpid()}.tif")
    profile = dict(driver="GTiff", height=z.shape[0], width=z.shape[1], count=1, dtype="float32", crs="EPSG:4326",
                   transform=transform, nodata=np.nan, compress="deflate", predictor=3, tiled=True,
                   blockxsize=256, blockysize=256)
    with rasterio.open(tmp, "w", **profile) as ds:
        ds.write(z, 1)
        ds.update_tags(**{
            SYNTHETIC_TAG: "1",
            "DESCRIPTION": "SYNTHETIC terrain of the Dien Bien sandbox generated by uavsim (not a survey); "
                           f"method v{METHOD_VERSION}, seed {r['grid']['seed']}",
            "SEED": str(r["grid"]["seed"]),
            "METHOD_VERSION": str(METHOD_VERSION),
            "VERTICAL_DATUM": "EGM96 (metres above mean sea level)",
        })
    os.replace(tmp, path)  # atomic: a concurrent reader never sees a half-written file
    return path


def ensure(path: str | Path | None = None) -> Path:
    """The cached terrain file, built on first use."""
    p = Path(path) if path else default_path()
    if not p.exists():
        build(p)
    return p
