"""Any DEM GDAL reads, in any CRS, through the same code path; bad input gives one clear line and exit 1."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.shutil import copy as rio_copy
from rasterio.transform import from_origin

from uavsim import geo
from uavsim.cli.main import cli
from uavsim.errors import TerrainError
from uavsim.terrain import Terrain


def _write(path, grid, transform, crs, nodata=None, driver="GTiff"):
    with rasterio.open(path, "w", driver=driver, height=grid.shape[0], width=grid.shape[1], count=1,
                       dtype=grid.dtype, crs=crs, transform=transform, nodata=nodata) as ds:
        ds.write(grid, 1)


def test_utm_dem_is_bilinear_exact_on_a_plane(tmp_path):
    # z = 0.01 x + 0.02 y - c in UTM metres: bilinear interpolation of a plane is exact.
    x0, y0, res = 500_000.0, 2_380_000.0, 30.0
    rows, cols = np.mgrid[0:200, 0:180]
    xs, ys = x0 + (cols + 0.5) * res, y0 - (rows + 0.5) * res

    def plane(x, y):
        return 0.01 * (x - x0) + 0.02 * (y - y0) + 600.0

    _write(tmp_path / "utm.tif", plane(xs, ys).astype(np.float32), from_origin(x0, y0, res, res), "EPSG:32648")
    t = Terrain.open(tmp_path / "utm.tif")
    lat, lon = geo.from_utm(np.array([x0 + 1234.5, x0 + 4000.0]), np.array([y0 - 2345.6, y0 - 5000.0]))
    z = t.elevation(lat, lon)
    np.testing.assert_allclose(z, plane(np.array([x0 + 1234.5, x0 + 4000.0]), np.array([y0 - 2345.6, y0 - 5000.0])),
                               atol=0.01)
    assert t.info()["crs"] == "EPSG:32648"
    assert t.resolution_m == (30.0, 30.0)


def test_srtm_hgt_opens(tmp_path):
    grid = (np.arange(1201 * 1201, dtype=np.int64).reshape(1201, 1201) % 1000 + 100).astype(np.int16)
    grid[600, 600] = -32768
    step = 1 / 1200
    _write(tmp_path / "src.tif", grid, from_origin(103 - step / 2, 22 + step / 2, step, step), "EPSG:4326", nodata=-32768)
    rio_copy(tmp_path / "src.tif", tmp_path / "N21E103.hgt", driver="SRTMHGT")
    t = Terrain.open(tmp_path / "N21E103.hgt")
    assert t.elevation(22.0, 103.0)[0] == pytest.approx(100.0)
    assert np.isnan(t.elevation(21.5, 103.5)[0]), "nodata must be unknown"
    assert np.isnan(t.elevation(20.5, 103.5)[0]), "outside must be unknown"


def test_open_errors_name_the_file(tmp_path):
    with pytest.raises(TerrainError, match="not found"):
        Terrain.open(tmp_path / "none.tif")
    (tmp_path / "junk.tif").write_bytes(b"not a raster")
    with pytest.raises(TerrainError, match=r"junk\.tif: not a raster"):
        Terrain.open(tmp_path / "junk.tif")
    with pytest.raises(TerrainError, match="directory"):
        Terrain.open(tmp_path)


@pytest.mark.parametrize(("args", "message"), [
    (["terrain", "info", "--dem", "missing.tif"], "DEM file not found"),
    (["terrain", "info", "--dem", "junk.tif"], "not a raster"),
    (["terrain", "profile", "--from", "30,100", "--to", "21.5,103.2"], "outside the DEM"),
])
def test_cli_bad_input_is_one_line_and_exit_1(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "junk.tif").write_bytes(b"\x00" * 100)
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 1
    assert message in res.output
    assert "Traceback" not in res.output


def test_cli_bad_coordinate_is_usage_error():
    res = CliRunner().invoke(cli, ["terrain", "profile", "--from", "abc", "--to", "21.5,103.2"])
    assert res.exit_code == 2


def test_cli_terrain_json_contract(tmp_path):
    res = CliRunner().invoke(cli, ["terrain", "info", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert {"path", "crs", "bounds", "resolution_m", "synthetic", "min_elev_m", "max_elev_m"} <= set(doc)
    assert doc["synthetic"] is True
    png = tmp_path / "p.png"
    res = CliRunner().invoke(cli, ["terrain", "profile", "--from", "21.5197,103.2174", "--to", "21.572,103.154",
                                   "--json", "--plot", str(png)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert {"length_m", "min_elev_m", "max_elev_m", "unknown_fraction", "samples"} <= set(doc)
    assert doc["length_m"] == pytest.approx(float(geo.geodesic_distance(21.5197, 103.2174, 21.572, 103.154)))
    assert doc["samples"][0]["elev_m"] == pytest.approx(600.0, abs=15)
    assert doc["unknown_fraction"] == 0.0
    assert png.stat().st_size > 10_000
