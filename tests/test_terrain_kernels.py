"""Terrain kernels against their slow twins (float64, relative 1e-9), with edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rasterio.transform import from_origin

from uavsim.terrain import Terrain
from uavsim.terrain import _kernels as k
from uavsim.terrain.reference import bilinear_ref, line_of_sight_ref, path_clearance_ref


def _grid(rng, nr, nc, holes=0.0):
    g = rng.uniform(200, 1800, (nr, nc)).astype(np.float32)
    if holes:
        g[rng.random((nr, nc)) < holes] = np.nan
    return g


def _same(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


shapes = st.tuples(st.integers(2, 70), st.integers(2, 70))
coords = st.floats(-3, 75, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(shapes, st.integers(0, 2**32 - 1), st.lists(st.tuples(coords, coords), min_size=1, max_size=40),
       st.sampled_from([0.0, 0.1]))
def test_bilinear_matches_twin(shape, seed, pts, holes):
    g = _grid(np.random.default_rng(seed), *shape, holes)
    tiles = k.make_tiles(g)
    x = np.array([p[0] for p in pts])
    y = np.array([p[1] for p in pts])
    out = np.empty(len(pts))
    k.bilinear_points(tiles, shape[0], shape[1], x, y, out)
    serial = np.empty(len(pts))
    k.bilinear_points_serial(tiles, shape[0], shape[1], x, y, serial)
    assert np.array_equal(out, serial, equal_nan=True)
    for i in range(len(pts)):
        assert _same(out[i], bilinear_ref(g, x[i], y[i])), (x[i], y[i])


def test_bilinear_exact_at_centres_and_edges():
    g = np.arange(12, dtype=np.float32).reshape(3, 4)
    tiles = k.make_tiles(g)
    x = np.array([0.0, 3.0, 3.5, -0.5, 1.5, -0.51, 3.51, np.nan])
    y = np.array([0.0, 2.0, 2.5, -0.5, 0.5, 0.0, 0.0, 0.0])
    out = np.empty(x.size)
    k.bilinear_points(tiles, 3, 4, x, y, out)
    np.testing.assert_allclose(out[:5], [0.0, 11.0, 11.0, 0.0, 1.5 + 4 * 0.5])
    assert np.isnan(out[5:]).all(), "outside the DEM (or NaN input) must be unknown"


paths_st = st.lists(
    st.lists(st.tuples(st.floats(-5, 45), st.floats(-5, 45), st.floats(0, 2000)), min_size=1, max_size=5),
    min_size=1, max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), paths_st, st.floats(0.3, 7.0), st.floats(-100, 900), st.booleans(), st.booleans())
def test_path_clearance_matches_twin(seed, paths, step, threshold, holes, repeat):
    rng = np.random.default_rng(seed)
    if repeat:  # zero-length segments: every vertex twice
        paths = [[v for v in p for _ in range(2)] for p in paths]
    g = _grid(rng, 40, 37, 0.05 if holes else 0.0)
    tiles = k.make_tiles(g)
    vx = np.array([v[0] for p in paths for v in p])
    vy = np.array([v[1] for p in paths for v in p])
    va = np.array([v[2] for p in paths for v in p])
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in paths])]).astype(np.int64)
    seg = np.zeros(vx.size)
    seg[:-1] = np.hypot(np.diff(vx), np.diff(vy)) * rng.uniform(0.5, 2.0)  # metres per pixel varies
    seg[offsets[1:] - 1] = 0.0
    n = len(paths)
    mc, fd = np.empty(n), np.empty(n)
    fi, unk, ns = (np.empty(n, np.int64) for _ in range(3))
    k.path_clearance(tiles, 40, 37, vx, vy, va, seg, offsets, step, threshold, mc, fi, fd, unk, ns)
    serial = [np.empty(n), np.empty(n, np.int64), np.empty(n), np.empty(n, np.int64), np.empty(n, np.int64)]
    k.path_clearance_serial(tiles, 40, 37, vx, vy, va, seg, offsets, step, threshold, *serial)
    for a, b in zip((mc, fi, fd, unk, ns), serial, strict=True):
        assert np.array_equal(a, b, equal_nan=True)
    for p in range(n):
        s, e = offsets[p], offsets[p + 1]
        ref = path_clearance_ref(g, vx[s:e], vy[s:e], va[s:e], seg[s:e], step, threshold)
        assert _same(mc[p], ref[0])
        assert (fi[p], unk[p], ns[p]) == (ref[1], ref[3], ref[4])
        assert _same(fd[p], ref[2])


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1),
       st.lists(st.tuples(st.floats(-3, 33), st.floats(-3, 33), st.floats(0, 2500),
                          st.floats(-3, 33), st.floats(-3, 33), st.floats(0, 2500)), min_size=1, max_size=20),
       st.booleans())
@example(seed=0, pairs=[(0.0, -3.0, 0.0, 0.0, 0.0, 0.0)], holes=False)  # a sample exactly on the DEM edge
def test_line_of_sight_matches_twin(seed, pairs, holes):
    g = _grid(np.random.default_rng(seed), 30, 31, 0.05 if holes else 0.0)
    tiles = k.make_tiles(g)
    a = np.array(pairs, dtype=float).T
    out = np.empty(len(pairs), np.int8)
    k.line_of_sight(tiles, 30, 31, a[0], a[1], a[2], a[3], a[4], a[5], 0.5, 5.0, out)
    serial = np.empty(len(pairs), np.int8)
    k.line_of_sight_serial(tiles, 30, 31, a[0], a[1], a[2], a[3], a[4], a[5], 0.5, 5.0, serial)
    assert np.array_equal(out, serial)
    for i, p in enumerate(pairs):
        assert out[i] == line_of_sight_ref(g, p[:3], p[3:], 0.5, 5.0)


def _plateau(with_hole=True):
    g = np.full((100, 100), 500.0, dtype=np.float32)
    if with_hole:
        g[40:60, 40:60] = np.nan
    return Terrain(g, from_origin(103.0, 21.6, 0.001, 0.001), "EPSG:4326", synthetic=True)


def test_path_over_missing_terrain_is_unknown_not_clear():
    t = _plateau()
    across = (np.array([21.55, 21.55]), np.array([103.01, 103.09]), np.array([600.0, 600.0]))
    around = (np.array([21.59, 21.59]), np.array([103.01, 103.09]), np.array([600.0, 600.0]))
    c = t.path_clearance([across, around], step_m=10.0, threshold_m=50.0)
    assert c.unknown_fraction[0] > 0.15
    assert c.unknown_fraction[1] == 0.0
    assert c.min_clearance_m[1] == pytest.approx(100.0)
    leaving = (np.array([21.55, 21.55]), np.array([103.05, 103.3]), np.array([600.0, 600.0]))
    assert t.path_clearance([leaving]).unknown_fraction[0] > 0.5


def test_clearance_monotone_in_altitude():
    rng = np.random.default_rng(3)
    t = Terrain(_grid(rng, 80, 90), from_origin(103.0, 21.6, 0.001, 0.001), "EPSG:4326")
    lat = rng.uniform(21.53, 21.59, 5)
    lon = rng.uniform(103.01, 103.08, 5)
    lows = t.path_clearance([(lat, lon, np.full(5, 900.0))]).min_clearance_m[0]
    highs = t.path_clearance([(lat, lon, np.full(5, 1000.0))]).min_clearance_m[0]
    assert highs == pytest.approx(lows + 100.0)


def test_line_of_sight_blocked_by_ridge():
    g = np.full((50, 50), 500.0, dtype=np.float32)
    g[:, 25] = 1500.0
    t = Terrain(g, from_origin(103.0, 21.6, 0.001, 0.001), "EPSG:4326")
    res = t.line_of_sight(21.575, 103.005, 600.0, [21.575, 21.575], [103.045, 103.015], [600.0, 600.0])
    assert res.tolist() == [0, 1]
