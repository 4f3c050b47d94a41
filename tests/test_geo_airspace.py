"""CRS round trips, geodesic distances and the sandbox's zones."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Geod

from uavsim import geo
from uavsim.errors import ScenarioError
from uavsim.safety.rules import default_rules
from uavsim.scenario import Scenario


@given(st.floats(21.0, 22.2), st.floats(102.5, 103.9))
def test_utm_round_trip(lat, lon):
    x, y = geo.to_utm(lat, lon)
    lat2, lon2 = geo.from_utm(x, y)
    assert float(lat2) == pytest.approx(lat, abs=1e-9) and float(lon2) == pytest.approx(lon, abs=1e-9)


def test_geodesic_distance_matches_pyproj():
    d = geo.geodesic_distance(21.5197, 103.2174, 21.572, 103.154)
    _, _, ref = Geod(ellps="WGS84").inv(103.2174, 21.5197, 103.154, 21.572)
    assert float(d) == pytest.approx(ref, rel=1e-12)
    lat, lon, dd = geo.geodesic_points(21.5197, 103.2174, 21.572, 103.154, 100.0)
    assert dd[-1] == pytest.approx(ref) and (lat[-1], lon[-1]) == (21.572, 103.154)


def test_sites_use_mission_ids(sc):
    ids = {"ttyt-muong-ang", "tyt-muong-dang", "tyt-ngoi-cay", "tyt-ang-to", "na-tau", "ta-la-cao", "hua-nam",
           "ban-cu", "muong-thanh", "dien-bien-phu", "vvdb"}
    assert ids <= set(sc.sites)
    assert all(s.source and s.confidence for s in sc.sites.values())


def test_medical_cluster_is_clear_and_airport_is_no_fly(sc):
    a = sc.airspace
    for sid in ("ttyt-muong-ang", "tyt-muong-dang", "tyt-ngoi-cay", "tyt-ang-to", "na-tau"):
        s = sc.site(sid)
        assert a.zones_hit([s.lat], [s.lon], [60.0]) == [], sid
    ap = sc.site("vvdb")
    assert "AIRPORT-NFZ" in a.zones_hit([ap.lat], [ap.lon], [60.0])
    # Within 10 km of the border (the city is ~8-10 km away) is restricted.
    assert "BORDER-LA" in a.zones_hit([21.3925], [103.0158], [60.0])


def test_muong_thanh_is_no_go_without_its_permit(sc, tmp_path):
    f = sc.field_area("mt-rice-1")
    lat, lon = zip(*f.polygon, strict=True)
    assert sc.airspace.zones_hit(lat, lon, [3.0] * 4, aircraft="sprayer-t40") == []
    for name in ("sites.toml", "zones.toml", "fields.toml", "routes.toml"):
        (tmp_path / name).write_text((sc.root / name).read_text(encoding="utf-8"), encoding="utf-8")
    text = (sc.root / "permits.toml").read_text(encoding="utf-8")
    (tmp_path / "permits.toml").write_text(text.split("# Mường Thanh lies inside")[0], encoding="utf-8")
    hit = Scenario.load(tmp_path).airspace.zones_hit(lat, lon, [3.0] * 4, aircraft="sprayer-t40")
    assert {"BORDER-LA", "PERMIT"} <= set(hit)


@given(st.floats(0, 1), st.floats(0, 1))
def test_point_inside_nfz_never_reports_outside(u, v):
    a = Scenario.load().airspace
    nfz = next(z for z in a.zones if z.id == "airport-nfz")
    x0, y0, x1, y1 = nfz.geom.bounds
    x, y = x0 + u * (x1 - x0), y0 + v * (y1 - y0)
    if not nfz.geom.contains(__import__("shapely").Point(x, y)):
        return
    lat, lon = geo.from_utm(x, y)
    assert "AIRPORT-NFZ" in a.zones_hit([float(lat)], [float(lon)], [10.0])


def test_track_events_carry_evidence(sc):
    t = np.arange(3.0)
    ev = sc.airspace.track_events(t, np.full(3, 21.40222), np.full(3, 103.00056), np.full(3, 50.0), default_rules())
    kinds = {e.evidence.split(":")[0] for e in ev}
    assert "rule AIRPORT-NFZ" in kinds and all(e.kind == "ZONE_VIOLATION" for e in ev)
    assert all(e.severity == "serious_incident" for e in ev)


def test_bad_scenario_names_file_and_field(tmp_path):
    (tmp_path / "sites.toml").write_text('[[site]]\nid = "x"\nname = "X"\nkind = "farm"\nlat = 21.0\n')
    with pytest.raises(ScenarioError, match=r"sites\.toml: site\[0\]: missing field 'lon'"):
        _ = Scenario.load(tmp_path).sites


def _flight(sc, a, b, agl=60.0):
    from uavsim.records import Telemetry
    from uavsim.terrain import open_dem

    t = open_dem()
    lat = np.linspace(a[0], b[0], 40)
    lon = np.linspace(a[1], b[1], 40)
    alt = t.elevation(lat, lon) + agl
    alt[[0, -1]] -= agl  # on the ground at both ends
    n = lat.size
    return Telemetry(np.arange(n) * 10.0, lat, lon, alt, np.full(n, agl), np.full(n, 12.0), np.full(n, 70.0),
                     np.zeros(n), ["AUTO"]), t


def test_landing_away_from_every_site_is_an_emergency_landing(sc):
    from uavsim.safety.classify import classify

    a, b = sc.site("ttyt-muong-ang"), sc.site("tyt-ang-to")
    tel, t = _flight(sc, (a.lat, a.lon), (b.lat, b.lon))
    v = classify([], tel, t, sc.airspace)
    assert v.outcome == "safe", [e.detail for e in v.events]
    assert v.checks["landing"] == "pass"
    tel, t = _flight(sc, (a.lat, a.lon), (21.545, 103.26))  # a hillside ~2 km beyond the station
    v = classify([], tel, t, sc.airspace)
    assert [e.kind for e in v.events] == ["EMERGENCY_LANDING"]
    assert v.outcome == "unsafe"
    assert "lat=21.545000" in v.events[0].evidence


def test_spraying_low_inside_a_field_is_the_job_but_not_outside(sc):
    from uavsim.safety.classify import classify

    f = sc.field_area("mt-rice-1")
    lats = [p[0] for p in f.polygon]
    lons = [p[1] for p in f.polygon]
    inside = (np.mean(lats), np.mean(lons))
    tel, t = _flight(sc, (inside[0] - 0.0015, inside[1] - 0.0025), (inside[0] + 0.0015, inside[1] + 0.0025), agl=2.5)
    # 2.5 m over the field: not a clearance loss; the same height 3 km away is.
    assert "TERRAIN_CLEARANCE" not in {e.kind for e in classify([], tel, t, sc.airspace).events}
    tel, t = _flight(sc, (inside[0] + 0.0285, inside[1] - 0.0025), (inside[0] + 0.0315, inside[1] + 0.0025), agl=2.5)
    ev = [e for e in classify([], tel, t, sc.airspace).events if e.kind == "TERRAIN_CLEARANCE"]
    assert len(ev) == 1
    assert ev[0].value == pytest.approx(2.5, abs=0.01)
