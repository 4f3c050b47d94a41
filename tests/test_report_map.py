"""The map: tracks as one collection per outcome, events marked, relief from the terrain, synthetic labelled."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import LineCollection

from uavsim.errors import StoreError
from uavsim.report.data import TRACK_POINTS, gather
from uavsim.report.maps import fig_map, relief
from uavsim.report.sample import sample_flights
from uavsim.store import Store


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("map") / "s.db"
    flights = sample_flights(60, seed=2, unsafe_rate=0.1, points=200)
    with Store(path) as s:
        s.add_run("r", flights)
    return path, flights


def _texts(fig) -> str:
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts)


def test_tracks_are_subsampled_and_drawn_as_two_collections(db):
    path, flights = db
    data = gather(path, n_boot=50, terrain=False)
    assert len(data.tracks) == len(flights)
    assert all(a.size == TRACK_POINTS for a in data.tracks.lat)
    # First and last samples are kept, so the subsampled track starts and ends where the flight did.
    f0 = flights[0]
    i0 = [f.id for f in data.flights].index(f0.id)
    assert data.tracks.lat[i0][0] == f0.telemetry.lat[0]
    assert data.tracks.lon[i0][-1] == f0.telemetry.lon[-1]
    fig = fig_map(data, "en")
    ax = fig.axes[0]
    colls = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert sum(len(c.get_segments()) for c in colls) == len(flights)
    assert len(colls) == 2  # safe and unsafe tracks
    assert not ax.images
    assert "no terrain relief" in _texts(fig)
    n_events = sum(1 for f in flights for e in f.events if e.severity not in ("none", "observation"))
    assert data.tracks.event_lat.size == n_events


def test_relief_from_the_embedded_terrain_is_labelled_synthetic(db):
    path, _ = db
    data = gather(path, n_boot=50)
    if data.terrain is None:
        pytest.skip("terrain package not available")
    w, s, e, n = 103.15, 21.45, 103.30, 21.60
    elev, shade = relief(data.terrain, (w, s, e, n))
    assert elev.shape == shade.shape
    assert np.isfinite(elev).mean() > 0.99
    assert 300.0 < np.nanmedian(elev) < 2500.0  # Mường Ảng hills, metres above sea level
    assert np.nanmin(shade) >= 0.0
    assert np.nanmax(shade) <= 1.0
    fig = fig_map(data, "vi")
    (image,) = fig.axes[0].images  # elevation colours lit by the hillshade, in one image
    cbar = next(a for a in fig.axes[1:] if a.get_ylabel() == "m MSL")
    # The colour bar's scale is the relief's own: the bar runs over the drawn elevations' range.
    lo, hi = cbar.get_ylim()
    assert lo <= float(np.nanmin(data.cache[next(k for k in data.cache if k[0] == "relief")][0])) + 1.0
    assert hi >= float(np.nanmax(data.cache[next(k for k in data.cache if k[0] == "relief")][0])) - 1.0
    assert image.get_array().shape[-1] == 4  # RGBA: the colours are the colour map's, lit
    if data.terrain.synthetic:
        assert "địa hình tổng hợp" in _texts(fig)
    if data.context is not None:  # the scenario's places and zones lie under the tracks
        assert "Trung tâm Y tế Mường Ảng" in _texts(fig)
        assert fig.axes[0].patches  # zone and permit outlines
        labels = fig.axes[0].get_legend().get_texts()
        assert "vùng được phép bay thí điểm" in [x.get_text() for x in labels]


def test_empty_track_set_draws_a_no_data_map(tmp_path):
    path = tmp_path / "s.db"
    flights = sample_flights(3, seed=1, points=10)
    for f in flights:
        f.telemetry = None
        f.events = []
    with Store(path) as s:
        s.add_run("r", flights)
    data = gather(path, n_boot=20, terrain=False)
    fig = fig_map(data, "en")
    assert not fig.axes
    assert "No data" in [t.get_text() for t in fig.texts]


def test_store_telemetry_columns_match_full_telemetry(db):
    path, flights = db
    with Store(path) as s:
        cols = dict(s.telemetry_columns(("lat", "lon", "alt_msl_m")))
        assert set(cols) == {f.id for f in flights}
        for f in flights[:5]:
            full = s.telemetry(f.id)
            for k in ("lat", "lon", "alt_msl_m"):
                np.testing.assert_array_equal(cols[f.id][k], getattr(full, k))
        with pytest.raises(StoreError, match="unknown telemetry fields"):
            next(s.telemetry_columns(("lat", "colour")))
