"""The embedded synthetic terrain honours MISSION.md's control points and opens like a real DEM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from uavsim.terrain import Terrain, open_dem, synthetic

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


@pytest.fixture(scope="module")
def default():
    return open_dem()


def test_passes_within_tolerance_of_every_control_point(default):
    r = synthetic.recipe()
    tol = r["control"]["tolerance_m"]
    pts = np.array([p[:3] for p in r["control"]["points"]], dtype=float)
    z = default.elevation(pts[:, 0], pts[:, 1])
    assert np.all(np.abs(z - pts[:, 2]) <= tol), list(zip(pts[:, 2], z.round(1), strict=True))


def test_relief_is_mountainous_not_noise(default):
    info = default.info()
    assert info["synthetic"] is True and "SYNTHETIC" in info["description"]
    assert 1800 <= info["max_elev_m"] <= 2100
    assert info["crs"] == "EPSG:4326" and info["resolution_m"] <= 30.0
    g = default.grid.astype(float)
    gy, gx = np.gradient(g, default.resolution_m[1], default.resolution_m[0])
    slope = np.degrees(np.arctan(np.hypot(gx, gy)))
    p50, p99 = np.percentile(slope, [50, 99])
    assert 10 <= p50 <= 30 and 30 <= p99 <= 60, (p50, p99)
    # Neighbouring samples are strongly correlated (noise would not be).
    r = np.corrcoef(g[:, :-1].ravel()[::97], g[:, 1:].ravel()[::97])[0, 1]
    assert r > 0.99


def test_valley_floor_is_flat_near_480(default):
    lat = np.linspace(21.29, 21.40, 30)
    lon = np.linspace(102.985, 103.03, 30)
    la, lo = np.meshgrid(lat, lon)
    z = default.elevation(la.ravel(), lo.ravel())
    assert 460 <= z.min() and z.max() <= 510, (z.min(), z.max())


def test_generation_is_deterministic():
    r = synthetic.recipe()
    r["grid"].update(north=21.30, south=21.20, east=103.0, west=102.9)
    a, _ = synthetic.generate(r)
    b, _ = synthetic.generate(r)
    assert np.array_equal(a, b)
    r["grid"]["seed"] += 1
    c, _ = synthetic.generate(r)
    assert not np.array_equal(a, c)


def test_cached_file_opens_through_the_real_dem_path(default):
    again = Terrain.open(default.path)
    assert again.synthetic and np.array_equal(again.grid, default.grid, equal_nan=True)


def test_real_coarse_dem_opens_and_agrees_roughly():
    path = SHARED / "dem" / "dienbien_srtm30plus.tif"
    if not path.exists():
        pytest.skip("../shared/data/dem is absent (a user's fresh clone has no shared data)")
    real = Terrain.open(path)
    assert not real.synthetic
    assert real.info()["bounds"] == pytest.approx([102.9, 21.2, 103.6, 22.0], abs=1e-6)
    # README: it reads 487 m at the airport, published 485 m.
    assert real.elevation(21.40222, 103.00056)[0] == pytest.approx(487, abs=10)
    assert np.isnan(real.elevation(23.0, 103.0)[0])
