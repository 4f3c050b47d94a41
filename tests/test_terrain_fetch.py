"""`terrain fetch` against loopback mirrors only: tiles made here from a known surface, in the real layout."""

from __future__ import annotations

import json
import math
import socket

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from rasterio.transform import from_bounds

from uavsim.cli.main import cli
from uavsim.terrain import mirror, mosaic, open_dem, resolve_dem
from uavsim.terrain.download import FetchError, HttpConfig
from uavsim.terrain.fetch import fetch, verify_tile
from uavsim.terrain.sources import SOURCES, cells, source

GLO90 = SOURCES["copernicus-glo90"]
AREA = (102.95, 21.3, 103.4, 21.7)  # inside cells N21E102 and N21E103 with a 3 km margin
FAST = HttpConfig(timeout_s=5.0, retries=1, backoff_s=0.01)


def surface(lat, lon):
    """A known, smooth, non-separable surface (metres)."""
    return 600.0 + 300.0 * np.sin(lat * 7.0) * np.cos(lon * 5.0) + 40.0 * (lon - 103.0)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("UAVSIM_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("mirror")
    for lat, lon in ((21, 102), (21, 103)):
        mirror.write_tile(root, GLO90, lat, lon, surface)
    return root


@pytest.fixture
def server(served):
    srv = mirror.MirrorServer(served).start()
    yield srv
    srv.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_tile_names_and_geometry_follow_the_public_layout():
    glo30 = source("copernicus-glo30")
    assert glo30.tile_path(21, 103) == ("Copernicus_DSM_COG_10_N21_00_E103_00_DEM/"
                                        "Copernicus_DSM_COG_10_N21_00_E103_00_DEM.tif")
    assert GLO90.tile_id(21, 103) == "Copernicus_DSM_COG_30_N21_00_E103_00_DEM"
    assert glo30.tile_id(-14, -172) == "Copernicus_DSM_COG_10_S14_00_W172_00_DEM"
    # gdalinfo of the public S14 W172 tile: 3600 x 3600, origin (-172.000138888888898, -12.999861111111111).
    width, height, (w, s, e, n) = glo30.expected_grid(-14, -172)
    assert (width, height) == (3600, 3600)
    assert w == pytest.approx(-172.000138888888898, abs=1e-12)
    assert n == pytest.approx(-12.999861111111111, abs=1e-12)
    assert glo30.columns(55) == 2400 and glo30.columns(-56) == 2400 and glo30.columns(49) == 3600
    assert GLO90.columns(72) == 400
    assert cells((102.95, 21.3, 103.4, 21.7)) == [(21, 102), (21, 103)]


def test_fetch_mosaic_equals_the_surface_and_becomes_the_default(cache, server):
    res = fetch(AREA, "copernicus-glo90", server.url, http=FAST)
    assert [t.status for t in res.tiles] == ["downloaded", "downloaded"]
    assert all(len(t.sha256) == 64 for t in res.tiles)
    assert res.tiles[1].url == server.url + GLO90.tile_path(21, 103)
    with rasterio.open(res.path) as ds:
        z = ds.read(1)
        tags, profile, t = ds.tags(), ds.profile, ds.transform
    assert profile["tiled"] and profile["compress"] == "deflate"
    assert tags["SOURCE"] == "copernicus-glo90" and tags["VERTICAL_DATUM"].startswith("EGM2008")
    assert tags["TILES"].split(",") == [GLO90.tile_id(21, 102), GLO90.tile_id(21, 103)]
    assert tags["DATE"].endswith("Z")
    # Pixel centres on whole 3-second steps, values equal to the surface there: no shift, no resampling.
    rows = t.f + (np.arange(z.shape[0]) + 0.5) * t.e
    cols = t.c + (np.arange(z.shape[1]) + 0.5) * t.a
    assert np.round(cols[0] * 1200, 6) == np.round(cols[0] * 1200)
    np.testing.assert_array_equal(z, surface(rows[:, None], cols[None, :]).astype(np.float32))
    w, s, e, n = res.bounds
    assert w < AREA[0] - 0.02 and e > AREA[2] + 0.02 and s < AREA[1] - 0.02 and n > AREA[3] + 0.02
    assert res.resolution_m == pytest.approx(92.6, abs=1.0)

    dem = open_dem(area=AREA)  # no --dem: the fetched mosaic of the area
    assert dem.path == res.path and not dem.synthetic
    assert dem.source == "Copernicus DEM GLO-90" and dem.vertical_datum == "EGM2008"
    assert "EGM2008" in dem.label() and "real" in dem.label()
    assert mosaic.default_for((10.0, 10.0, 10.5, 10.5)) is None  # another area keeps the synthetic default
    assert resolve_dem("https://example.org/dem.tif") == "https://example.org/dem.tif"

    server.requests.clear()
    again = fetch(AREA, "copernicus-glo90", server.url, http=FAST)
    assert [t.status for t in again.tiles] == ["cached", "cached"]
    assert [t.sha256 for t in again.tiles] == [t.sha256 for t in res.tiles]
    assert server.requests == []  # re-used, not re-downloaded


def test_missing_tile_is_recorded_and_stays_unknown(cache, server):
    area = (103.5, 21.5, 104.3, 21.8)  # N21E103 exists, N21E104 does not (404)
    res = fetch(area, "copernicus-glo90", server.url, margin_km=0.0, http=FAST)
    status = {t.name: (t.status, t.sha256) for t in res.tiles}
    assert status[GLO90.tile_id(21, 104)] == ("missing", None)
    assert status[GLO90.tile_id(21, 103)][0] == "downloaded"
    dem = open_dem(res.path)
    z = dem.elevation([21.6, 21.6], [103.7, 104.2])
    assert z[0] == pytest.approx(surface(21.6, 103.7), abs=0.5)
    assert np.isnan(z[1])  # nodata: unknown, never clear
    c = dem.path_clearance([(np.array([21.6, 21.6]), np.array([103.7, 104.2]), np.array([2000.0, 2000.0]))])
    assert 0.3 < c.unknown_fraction[0] < 0.9
    with rasterio.open(res.path) as ds:
        assert GLO90.tile_id(21, 104) in ds.tags()["MISSING_TILES"]


def test_a_server_that_dies_mid_download_leaves_no_corrupt_cache(cache, served):
    size = (served / GLO90.tile_path(21, 102)).stat().st_size
    dying = mirror.MirrorServer(served, die_after_bytes=size // 2).start()
    url = dying.url
    with pytest.raises(FetchError, match="cannot reach") as err:
        fetch(AREA, "copernicus-glo90", url, http=FAST)
    dying.stop()
    assert "\n" not in str(err.value) and "embedded synthetic terrain stays in use" in str(err.value)
    folder = cache / "terrain" / "copernicus-glo90"
    assert list(folder.glob("*.tif")) == []  # no tile under a final name
    parts = list(folder.glob("*.part"))
    assert len(parts) == 1 and 0 < parts[0].stat().st_size <= size // 2
    part_size = parts[0].stat().st_size
    assert mosaic.cached() == [] and mosaic.default_for(AREA) is None

    port = int(url.rsplit(":", 1)[1].strip("/"))
    revived = mirror.MirrorServer(served, port=port).start()
    try:
        res = fetch(AREA, "copernicus-glo90", url, http=FAST)
    finally:
        revived.stop()
    assert [t.status for t in res.tiles] == ["downloaded", "downloaded"]
    ranges = [r for _, path, r in revived.requests if GLO90.tile_id(21, 102) in path]
    assert ranges[0] == f"bytes={part_size}-"  # resumed where it stopped
    assert verify_tile(folder / f"{GLO90.tile_id(21, 102)}.tif", GLO90, 21, 102) is None
    assert not list(folder.glob("*.part"))
    assert open_dem(area=AREA).elevation(21.5, 103.0)[0] == pytest.approx(surface(21.5, 103.0), abs=0.5)


def test_a_wrong_file_on_the_server_is_rejected(cache, tmp_path):
    root = tmp_path / "bad"
    good = mirror.write_tile(root, GLO90, 21, 103, surface)
    wrong = root / GLO90.tile_path(21, 102)
    wrong.parent.mkdir(parents=True)
    wrong.write_bytes(good.read_bytes())  # a real GeoTIFF, but of the wrong cell
    srv = mirror.MirrorServer(root).start()
    try:
        with pytest.raises(FetchError, match="not a valid Copernicus DEM GLO-90 tile .*bounds"):
            fetch(AREA, "copernicus-glo90", srv.url, http=FAST)
    finally:
        srv.stop()
    folder = cache / "terrain" / "copernicus-glo90"
    assert not (folder / f"{GLO90.tile_id(21, 102)}.tif").exists()
    assert not list(folder.glob("*.part")) and mosaic.cached() == []


def test_no_server_is_exit_1_with_one_line(cache):
    base = f"http://127.0.0.1:{_free_port()}/"
    r = CliRunner().invoke(cli, ["terrain", "fetch", "--bbox", "103.0,21.3,103.2,21.5", "--base-url", base,
                                 "--retries", "0"])
    assert r.exit_code == 1
    lines = r.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: cannot reach " + base)
    assert lines[0].endswith("the embedded synthetic terrain stays in use")


def test_a_silent_server_times_out(cache):
    with socket.socket() as s:  # listens, never answers
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        base = f"http://127.0.0.1:{s.getsockname()[1]}/"
        with pytest.raises(FetchError, match=r"no answer within 0.3 s|timed out"):
            fetch((103.0, 21.3, 103.2, 21.5), "copernicus-glo90", base,
                  http=HttpConfig(timeout_s=0.3, retries=0))


def test_cli_fetch_json_then_info_names_the_dem(cache, server):
    runner = CliRunner()
    r = runner.invoke(cli, ["terrain", "fetch", "--bbox", ",".join(map(str, AREA)), "--source", "copernicus-glo90",
                            "--base-url", server.url, "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert {"path", "source", "tiles", "bounds", "resolution_m", "vertical_datum", "synthetic"} <= doc.keys()
    assert doc["synthetic"] is False and doc["vertical_datum"] == "EGM2008"
    assert {"name", "url", "status", "sha256"} <= doc["tiles"][0].keys()
    r = runner.invoke(cli, ["terrain", "info", "--json"])
    info = json.loads(r.output)
    assert info["path"] == doc["path"] and info["source"] == "Copernicus DEM GLO-90"
    assert info["vertical_datum"] == "EGM2008" and info["synthetic"] is False
    assert {"crs", "bounds", "resolution_m", "min_elev_m", "max_elev_m"} <= info.keys()
    assert info["egm2008_minus_egm96"]["computed"] in (True, False)
    r = runner.invoke(cli, ["terrain", "profile", "--from", "21.4,103.0", "--to", "21.5,103.1", "--json"])
    prof = json.loads(r.output)
    assert prof["dem"] == doc["path"] and prof["vertical_datum"] == "EGM2008"
    assert prof["max_elev_m"] == pytest.approx(max(s["elev_m"] for s in prof["samples"]))


def test_dem_url_is_read_through_vsicurl(server):
    url = server.url + GLO90.tile_path(21, 103)
    dem = open_dem(url)
    assert dem.path == url and dem.vertical_datum == "EGM2008" and not dem.synthetic
    assert dem.elevation(21.45, 103.55)[0] == pytest.approx(surface(21.45, 103.55), abs=0.5)
    assert any(r and r.startswith("bytes=") for _, _, r in server.requests)  # GDAL read by ranges


@settings(max_examples=200, deadline=None)
@given(w=st.floats(-179.0, 178.0), s=st.floats(-80.0, 79.0), dw=st.floats(0.001, 1.0), ds=st.floats(0.001, 1.0))
def test_snapped_mosaic_box_contains_the_area_on_the_tile_grid(w, s, dw, ds):
    src = SOURCES["copernicus-glo30"]
    width, height, (tw, ts, te, tn) = src.expected_grid(math.floor(s), math.floor(w))
    transform = from_bounds(tw, ts, te, tn, width, height)
    sw, ss, se, sn = mosaic.snap_bounds((w, s, w + dw, s + ds), transform)
    assert sw <= w + 1e-9 and ss <= s + 1e-9 and se >= w + dw - 1e-9 and sn >= s + ds - 1e-9
    for edge, origin, step in ((sw, tw, transform.a), (se, tw, transform.a), (sn, tn, -transform.e),
                               (ss, tn, -transform.e)):
        k = (edge - origin) / step
        assert abs(k - round(k)) < 1e-6  # on the tiles' pixel edges: nothing resampled
    assert se - sw <= dw + 2 * transform.a + 1e-9 and sn - ss <= ds + 2 * -transform.e + 1e-9
