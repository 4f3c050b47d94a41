"""ArduPilot AP_Terrain export: the files are read back independently and checked against the DEM."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from rasterio.transform import from_origin

from uavsim.cli.main import cli
from uavsim.errors import TerrainError
from uavsim.terrain import Terrain, open_dem
from uavsim.terrain import ardupilot as ap

AREA = (103.02, 21.22, 103.3, 21.45)
STEP = 1 / 3600  # 1 arc second, as GLO-30


def surface(lat, lon):
    return 700.0 + 250.0 * np.sin(lat * 9.0) * np.cos(lon * 6.0) + 30.0 * (lat - 21.0)


@pytest.fixture(scope="module")
def dem_path(tmp_path_factory):
    """A real-looking (not synthetic) DEM over 21.2-21.5 N, 103.0-103.35 E."""
    path = tmp_path_factory.mktemp("dem") / "analytic_dem.tif"
    west, north = 103.0, 21.5
    rows = north - (np.arange(1080) + 0.5) * STEP
    cols = west + (np.arange(1260) + 0.5) * STEP
    z = surface(rows[:, None], cols[None, :]).astype(np.float32)
    with rasterio.open(path, "w", driver="GTiff", width=z.shape[1], height=z.shape[0], count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(west, north, STEP, STEP), nodata=np.nan) as ds:
        ds.write(z, 1)
        ds.update_tags(VERTICAL_DATUM="EGM2008")
    return path


def crc16_xmodem_slow(data: bytes) -> int:
    """Bit-by-bit CRC-16/XModem (poly 0x1021, init 0): the slow twin of the module's binascii.crc_hqx."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def test_constants_match_ap_terrain():
    assert (ap.SIZE_X, ap.SIZE_Y, ap.SPACING_X, ap.SPACING_Y) == (28, 32, 24, 28)
    assert ap.DATA_SIZE == 1821 and ap.IO_BLOCK_SIZE == 2048
    assert crc16_xmodem_slow(b"123456789") == 0x31C3  # the published XModem check value
    assert ap.block_crc(bytes(ap.DATA_SIZE)) == crc16_xmodem_slow(bytes(ap.DATA_SIZE))
    assert ap.dat_name(21, 103) == "N21E103.DAT" and ap.dat_name(-5, -70) == "S05W070.DAT"
    # Blocks per row: the 1° cell's east-west width plus two blocks, in 28-step strides.
    width_m = 1e7 * ap.LOCATION_SCALING_FACTOR * math.cos(math.radians(21.0))
    assert ap.east_blocks(21, 103, 100) == int((width_m + 2 * 100 * 32) / (100 * 28))


def test_export_layout_crc_and_heights(dem_path, tmp_path):
    t = open_dem(dem_path)
    beyond = (AREA[0], AREA[1], AREA[2], 21.52)  # the north edge blocks reach past the DEM (21.5 N)
    res = ap.export(t, beyond, tmp_path / "terrain", spacing=100)
    assert [p.rsplit("/", 1)[1] for p in res.files] == ["N21E103.DAT"]
    data = (tmp_path / "terrain" / "N21E103.DAT").read_bytes()
    assert len(data) % 2048 == 0
    stride = ap.east_blocks(21, 103, 100)
    seen = 0
    for slot in range(len(data) // 2048):
        raw = data[slot * 2048:(slot + 1) * 2048]
        if not any(raw):
            continue
        seen += 1
        bitmap, lat, lon, crc, version, spacing = struct.unpack_from("<QiiHHH", raw, 0)
        heights = np.array(struct.unpack_from("<896h", raw, 22)).reshape(28, 32)
        gx, gy, lon_deg, lat_deg = struct.unpack_from("<HHhb", raw, 22 + 1792)
        assert (version, spacing, lat_deg, lon_deg) == (1, 100, 21, 103)
        assert slot == stride * gx + gy
        assert raw[1821:] == bytes(227)
        assert crc == crc16_xmodem_slow(raw[:16] + b"\0\0" + raw[18:1821])
        assert (lat, lon) == ap.block_origin(21, 103, gx, gy, 100)
        # The block's south-west point is gx*24*100 m north and gy*28*100 m east of the cell corner.
        north = (lat - 21e7) * ap.LOCATION_SCALING_FACTOR
        assert north == pytest.approx(gx * 2400, abs=0.05)
        plat, plon = ap.block_points(lat, lon, 100)
        assert plat[1, 0] - plat[0, 0] == pytest.approx(100 / 111_319.5, rel=1e-3)  # x runs north
        known = np.zeros((28, 32), bool)
        for x in range(28):
            for y in range(32):
                known[x, y] = bitmap >> (8 * (x // 4) + y // 4) & 1
        inside = t.covers(plat.ravel(), plon.ravel()).reshape(28, 32)
        assert not (known & ~inside).any()  # never a height where the DEM has none
        # Against the surface itself: rounding to metres + the 1" DEM's bilinear error (away from its edge,
        # where the sampling holds the edge pixel's value for half a pixel).
        interior = known & (plat > 21.2 + STEP) & (plat < 21.5 - STEP) & (plon > 103.0 + STEP) & (plon < 103.35 - STEP)
        err = np.abs(heights - surface(plat, plon))[interior]
        assert err.size == 0 or err.max() <= 0.51
        assert (heights[known] == np.rint(t.elevation(plat.ravel(), plon.ravel())).reshape(28, 32)[known]).all()
    assert seen == res.blocks > 50
    assert res.partial_blocks > 0  # with their unknown 4 x 4 sub-grids left out of the bitmap


def test_autopilot_lookup_matches_the_dem(dem_path, tmp_path):
    t = open_dem(dem_path)
    ap.export(t, AREA, tmp_path, spacing=100)
    rng = np.random.default_rng(7)
    lat = rng.uniform(21.24, 21.43, 200)
    lon = rng.uniform(103.04, 103.28, 200)
    got = np.array([ap.height_amsl(tmp_path, a, o, 100) for a, o in zip(lat, lon, strict=True)])
    assert np.isfinite(got).all()
    # Bilinear over a 100 m grid of a smooth surface: well within 3 m here.
    assert np.abs(got - surface(lat, lon)).max() < 3.0
    assert math.isnan(ap.height_amsl(tmp_path, 21.6, 103.1, 100))  # beyond the DEM: unknown
    assert math.isnan(ap.height_amsl(tmp_path, 21.3, 103.1, 30))  # files of another spacing are not read


def test_a_damaged_block_is_refused(dem_path, tmp_path):
    ap.export(open_dem(dem_path), AREA, tmp_path, spacing=100)
    path = tmp_path / "N21E103.DAT"
    lat_deg, lon_deg, gx, gy, *_ = ap.grid_info(21.3, 103.1, 100)
    slot = ap.east_blocks(21, 103, 100) * gx + gy
    data = bytearray(path.read_bytes())
    assert math.isfinite(ap.height_amsl(tmp_path, 21.3, 103.1, 100))
    data[slot * 2048 + 500] ^= 0xFF  # one height byte flipped: the crc no longer matches
    path.write_bytes(bytes(data))
    assert math.isnan(ap.height_amsl(tmp_path, 21.3, 103.1, 100))
    _, block, crc_ok = next(b for b in ap.read_file(path) if b[0] == slot)
    assert not crc_ok and block.grid_idx_x == gx


def test_synthetic_terrain_is_refused(tmp_path):
    fake = Terrain(np.zeros((10, 10), np.float32), from_origin(103, 21.5, 0.01, 0.01), "EPSG:4326",
                   synthetic=True)
    with pytest.raises(TerrainError, match="SYNTHETIC"):
        ap.export(fake, AREA, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_cli_export(dem_path, tmp_path):
    out = tmp_path / "APM" / "TERRAIN"
    r = CliRunner().invoke(cli, ["terrain", "export-ardupilot", "--out", str(out), "--dem", str(dem_path),
                                 "--bbox", ",".join(map(str, AREA)), "--spacing", "200"])
    assert r.exit_code == 0, r.output
    assert (out / "N21E103.DAT").stat().st_size % 2048 == 0
    assert "heights above EGM2008" in r.output and "real" in r.output
    assert ap.height_amsl(out, 21.3, 103.1, 200) == pytest.approx(surface(21.3, 103.1), abs=8.0)
    r = CliRunner().invoke(cli, ["terrain", "export-ardupilot", "--out", str(tmp_path / "x"), "--bbox",
                                 "103.5,21.5,103.6,21.6", "--dem", str(dem_path)])
    assert r.exit_code == 1 and r.output.count("\n") == 1 and "no known terrain" in r.output


@settings(max_examples=200, deadline=None)
@given(lat=st.floats(-59.99, 59.99), lon=st.floats(-179.99, 179.99), spacing=st.sampled_from([30, 100, 200]))
def test_every_point_falls_inside_the_block_the_autopilot_picks(lat, lon, spacing):
    lat_deg, lon_deg, gx, gy, ix, iy, fx, fy = ap.grid_info(lat, lon, spacing)
    assert (lat_deg, lon_deg) == (math.floor(lat), math.floor(lon)) or abs(lat - round(lat)) < 1e-6 \
        or abs(lon - round(lon)) < 1e-6
    assert 0 <= ix < ap.SPACING_X and 0 <= iy < ap.SPACING_Y and 0 <= fx <= 1 and 0 <= fy <= 1
    assert gy < ap.east_blocks(lat_deg, lon_deg, spacing)  # the slot stays inside its file row
    o_lat, o_lon = ap.block_origin(lat_deg, lon_deg, gx, gy, spacing)
    north, east = ap.distance_ne(o_lat, o_lon, round(lat * 1e7), round(lon * 1e7))
    # The point lies inside the block's 28 x 32 grid (with the interpolation cell ix+1, iy+1 too).
    assert -0.01 * spacing <= float(north) <= (ap.SIZE_X - 1) * spacing
    assert -0.05 * spacing <= float(east) <= (ap.SIZE_Y - 1) * spacing
    assert float(north) == pytest.approx((ix + fx) * spacing, abs=0.02 * spacing)


SHARED_DEM = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dem" / "dienbien_srtm30plus.tif"


def test_real_sandbox_dem_exports_and_reads_back(tmp_path):
    if not SHARED_DEM.exists():
        pytest.skip(f"shared real DEM not found at {SHARED_DEM}")
    t = open_dem(SHARED_DEM)
    assert t.vertical_datum == "EGM96" and not t.synthetic
    res = ap.export(t, (102.95, 21.25, 103.55, 21.95), tmp_path, spacing=100)
    assert sorted(Path(f).name for f in res.files) == ["N21E102.DAT", "N21E103.DAT"]
    rng = np.random.default_rng(3)
    lat, lon = rng.uniform(21.3, 21.9, 300), rng.uniform(103.0, 103.5, 300)
    got = np.array([ap.height_amsl(tmp_path, a, o, 100) for a, o in zip(lat, lon, strict=True)])
    want = t.elevation(lat, lon)
    assert np.isfinite(got).all()
    for a, o, g, w in zip(lat, lon, got, want, strict=True):
        # The autopilot interpolates the 4 grid heights around the point: its answer lies within their range
        # (rounded to metres), and differs from the DEM by at most the DEM's own variation over that cell.
        lat_deg, lon_deg, gx, gy, ix, iy, _, _ = ap.grid_info(a, o, 100)
        o_lat, o_lon = ap.block_origin(lat_deg, lon_deg, gx, gy, 100)
        c_lat, c_lon = ap.add_offset(np.full(4, o_lat), np.full(4, o_lon), 100.0 * np.array([ix, ix + 1, ix, ix + 1]),
                                     100.0 * np.array([iy, iy, iy + 1, iy + 1]))
        corners = t.elevation(c_lat * 1e-7, c_lon * 1e-7)
        assert corners.min() - 0.5 <= g <= corners.max() + 0.5
        assert abs(g - w) <= max(corners.max(), w) - min(corners.min(), w) + 0.5
    assert np.abs(got - want).mean() < 2.0
