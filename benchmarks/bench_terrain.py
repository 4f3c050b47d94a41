"""Terrain clearance over many paths: the numba kernel against its numpy twin, scipy's map_coordinates and
rasterio's sample, in one process on the same paths.

    python benchmarks/bench_terrain.py [--quick] [--json] [--paths N]

Point generation is counted for every method. ``samples_per_s`` is the kernel on all cores (2 here);
``ratio_vs_map_coordinates`` compares the kernel on ONE core with map_coordinates (single-threaded).
"""

from __future__ import annotations

import argparse
import json
import time

import numba
import numpy as np
import rasterio
from scipy import ndimage

from uavsim.terrain import _kernels as k
from uavsim.terrain import open_dem


def make_paths(t, n_paths: int, length_m: float, rng: np.random.Generator):
    """Random straight ~length_m paths inside the DEM, at 120 m above a 1,000 m datum."""
    w, s, e, n = t.bounds_wgs84
    lat0 = rng.uniform(s + 0.2, n - 0.2, n_paths)
    lon0 = rng.uniform(w + 0.2, e - 0.2, n_paths)
    ang = rng.uniform(0, 2 * np.pi, n_paths)
    dlat = length_m * np.cos(ang) / 110_750.0
    dlon = length_m * np.sin(ang) / (110_750.0 * np.cos(np.radians(lat0)))
    lat = np.stack([lat0, lat0 + dlat], 1).ravel()
    lon = np.stack([lon0, lon0 + dlon], 1).ravel()
    alt = np.full(lat.size, 1120.0)
    offsets = np.arange(0, 2 * n_paths + 1, 2, dtype=np.int64)
    seg = np.zeros(lat.size)
    seg[0::2] = length_m
    x, y = t.pixel_xy(lat, lon)
    return x, y, alt, seg, offsets


def run_kernel(t, x, y, alt, seg, offsets, step):
    n = offsets.size - 1
    mc, fd = np.empty(n), np.empty(n)
    fi, unk, ns = (np.empty(n, np.int64) for _ in range(3))
    k.path_clearance(t.tiles, t.nrows, t.ncols, x, y, alt, seg, offsets, step, 0.0, mc, fi, fd, unk, ns)
    return mc, int(ns.sum())


def numpy_points(x, y, alt, seg, offsets, step):
    """Vectorised point generation (the same sample positions as the kernel)."""
    n_seg = np.maximum(np.ceil(seg[offsets[:-1]] / step).astype(np.int64), 1)
    counts = n_seg + 1
    starts = np.repeat(offsets[:-1], counts)
    j = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    nn = np.repeat(n_seg, counts)
    tt = np.minimum(j / nn, 1.0)
    px = x[starts] + (x[starts + 1] - x[starts]) * tt
    py = y[starts] + (y[starts + 1] - y[starts]) * tt
    pa = alt[starts] + (alt[starts + 1] - alt[starts]) * tt
    return px, py, pa, counts


def numpy_twin(grid, x, y, alt, seg, offsets, step):
    px, py, pa, counts = numpy_points(x, y, alt, seg, offsets, step)
    nr, nc = grid.shape
    out = (px < -0.5) | (px > nc - 0.5) | (py < -0.5) | (py > nr - 0.5)
    cx = np.clip(px, 0, nc - 1)
    cy = np.clip(py, 0, nr - 1)
    c0 = np.minimum(cx.astype(np.int64), nc - 2)
    r0 = np.minimum(cy.astype(np.int64), nr - 2)
    fx, fy = cx - c0, cy - r0
    g = grid
    z = ((g[r0, c0] * (1 - fx) + g[r0, c0 + 1] * fx) * (1 - fy) + (g[r0 + 1, c0] * (1 - fx) + g[r0 + 1, c0 + 1] * fx) * fy)
    z[out] = np.nan
    c = pa - z
    mins = np.fmin.reduceat(c, np.concatenate([[0], np.cumsum(counts)[:-1]]))
    return mins, int(counts.sum())


def map_coords(grid64, x, y, alt, seg, offsets, step):
    px, py, pa, counts = numpy_points(x, y, alt, seg, offsets, step)
    z = ndimage.map_coordinates(grid64, [py, px], order=1, mode="constant", cval=np.nan, prefilter=False)
    c = pa - z
    mins = np.fmin.reduceat(c, np.concatenate([[0], np.cumsum(counts)[:-1]]))
    return mins, int(counts.sum())


def timed(fn, *args, repeat=3):
    best = np.inf
    res = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="600 paths instead of 6,000")
    ap.add_argument("--paths", type=int, default=None)
    ap.add_argument("--length-m", type=float, default=20_000.0)
    ap.add_argument("--step-m", type=float, default=10.0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    n_paths = a.paths or (600 if a.quick else 6000)
    t = open_dem()
    rng = np.random.default_rng(7)
    x, y, alt, seg, offsets = make_paths(t, n_paths, a.length_m, rng)
    grid64 = t.grid.astype(np.float64)
    cores = numba.config.NUMBA_NUM_THREADS
    run_kernel(t, x[:4], y[:4], alt[:4], seg[:4], offsets[:3], a.step_m)  # compile / load cache

    numba.set_num_threads(cores)
    t_all, (mc_all, n_samples) = timed(run_kernel, t, x, y, alt, seg, offsets, a.step_m)
    numba.set_num_threads(1)
    t_one, (mc_one, _) = timed(run_kernel, t, x, y, alt, seg, offsets, a.step_m)
    numba.set_num_threads(cores)
    t_np, (mc_np, _) = timed(numpy_twin, grid64, x, y, alt, seg, offsets, a.step_m, repeat=1)
    t_mc, (mc_mc, _) = timed(map_coords, grid64, x, y, alt, seg, offsets, a.step_m, repeat=1)
    # rasterio's sample on a subset of the points (it is far slower, so it reads 20,000 of them).
    px, py, _, _ = numpy_points(x, y, alt, seg, offsets, a.step_m)
    sub = slice(0, min(20_000, px.size))
    xs, ys = t.transform @ (px[sub] + 0.5, py[sub] + 0.5)
    with rasterio.open(t.path) as ds:
        t0 = time.perf_counter()
        _ = np.fromiter((v[0] for v in ds.sample(zip(xs, ys, strict=True))), float)
        t_rio = time.perf_counter() - t0
    n_rio = sub.stop

    agree = float(np.nanmax(np.abs(mc_all - mc_np)))
    doc = {
        "paths": n_paths,
        "path_length_m": a.length_m,
        "step_m": a.step_m,
        "samples": n_samples,
        "cores": cores,
        "samples_per_s": n_samples / t_all,
        "samples_per_s_one_core": n_samples / t_one,
        "numpy_twin_samples_per_s": n_samples / t_np,
        "map_coordinates_samples_per_s": n_samples / t_mc,
        "rasterio_sample_samples_per_s": n_rio / t_rio,
        "ratio_vs_map_coordinates": t_mc / t_one,
        "ratio_vs_map_coordinates_all_cores": t_mc / t_all,
        "ratio_vs_numpy_twin": t_np / t_one,
        "ratio_vs_rasterio_sample": (n_samples / t_one) / (n_rio / t_rio),
        "max_abs_diff_vs_twin_m": agree,
        "max_abs_diff_vs_map_coordinates_m": float(np.nanmax(np.abs(mc_all - mc_mc))),
        "one_core_equals_all_cores": bool(np.array_equal(mc_one, mc_all, equal_nan=True)),
    }
    if a.json:
        print(json.dumps(doc, indent=2))
        return
    print(f"{n_paths} paths x {a.length_m / 1000:.0f} km at {a.step_m:.0f} m steps = {n_samples / 1e6:.1f} M samples "
          f"(synthetic terrain {t.nrows}x{t.ncols})")
    print(f"  numba kernel, {cores} cores : {doc['samples_per_s'] / 1e6:8.1f} M samples/s")
    print(f"  numba kernel, 1 core    : {doc['samples_per_s_one_core'] / 1e6:8.1f} M samples/s")
    print(f"  numpy twin              : {doc['numpy_twin_samples_per_s'] / 1e6:8.1f} M samples/s")
    print(f"  map_coordinates(order=1): {doc['map_coordinates_samples_per_s'] / 1e6:8.1f} M samples/s")
    print(f"  rasterio sample (subset): {doc['rasterio_sample_samples_per_s'] / 1e6:8.3f} M samples/s")
    print(f"  ratio vs map_coordinates, one core: {doc['ratio_vs_map_coordinates']:.1f}x "
          f"(all cores {doc['ratio_vs_map_coordinates_all_cores']:.1f}x)")
    print(f"  max |kernel - twin| = {agree:.2e} m; 1-core result == {cores}-core result: {doc['one_core_equals_all_cores']}")


if __name__ == "__main__":
    main()
