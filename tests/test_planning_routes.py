"""Delivery routes: detours around no-go zones, terrain clearance, unknown terrain, energy, the medical network."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, box

from uavsim import geo
from uavsim.planning import plan_route
from uavsim.planning.profile import lowest_profile, simplify_profile
from uavsim.planning.routes import shortest_path
from uavsim.scenario import DEFAULT_SCENARIO, Scenario
from uavsim.terrain import Terrain

AIRPORT = (21.40222, 103.00056)
WEST, EAST = (21.40222, 102.97), (21.40222, 103.031)

AIRPORT_PERMIT = """
[[permit]]
id = "test-airport-area"
aircraft = ["delivery-2kg"]
waives = ["BORDER-LA", "AIRPORT-BUFFER"]
source = "test only"
areas = [[[21.34, 102.95], [21.34, 103.06], [21.47, 103.06], [21.47, 102.95]]]
"""


@pytest.fixture(scope="module")
def airport_sc(tmp_path_factory):
    d = tmp_path_factory.mktemp("airport") / "sc"
    shutil.copytree(DEFAULT_SCENARIO, d)
    with open(d / "permits.toml", "a", encoding="utf-8") as f:
        f.write(AIRPORT_PERMIT)
    return Scenario.load(d)


def _site(sc, sid):
    s = sc.site(sid)
    return s.lat, s.lon


def test_muong_dang_route_figures(sc, terrain):
    p = plan_route(sc, "ttyt-muong-ang", "tyt-muong-dang", terrain=terrain)
    assert p.feasible, p.reasons
    assert p.aircraft_id == "delivery-2kg"
    assert p.distance_m == pytest.approx(11806, rel=0.01)  # straight out and back: 2 x 5.9 km
    assert 15 * 60 < p.duration_s < 25 * 60
    assert 0 <= p.extra["shadowed_fraction"] <= 1
    assert p.waypoints[0, 2] == pytest.approx(p.waypoints[-1, 2])  # lands where it took off
    t, lat, lon, alt, gs = p.track(5.0)
    assert t[-1] == pytest.approx(p.duration_s, abs=5.0)
    assert np.nanmax(gs) <= 16.0 + 1e-6


def test_straight_line_through_airport_nfz_is_detoured(airport_sc, terrain):
    nfz = next(z.geom for z in airport_sc.airspace.zones if z.rule == "AIRPORT-NFZ")
    ax, ay = geo.to_utm([WEST[0], EAST[0]], [WEST[1], EAST[1]])
    assert LineString(list(zip(ax, ay, strict=True))).intersects(nfz)  # the straight line crosses it
    p = plan_route(airport_sc, WEST, EAST, "delivery-2kg", terrain, return_leg=False, mission_type="cargo")
    assert p.extra["detoured"]
    x, y = geo.to_utm(p.waypoints[:, 0], p.waypoints[:, 1])
    assert not LineString(list(zip(x, y, strict=True))).intersects(nfz)
    assert "AIRPORT-NFZ" not in p.zones
    assert p.feasible, p.reasons
    assert p.extra["path_m"] > p.extra["straight_m"] * 1.05


def test_end_inside_no_go_is_rejected(sc, terrain):
    p = plan_route(sc, AIRPORT, EAST, "delivery-2kg", terrain, mission_type="cargo")
    assert not p.feasible
    assert any("origin" in r and "no-go" in r for r in p.reasons)


def test_unknown_terrain_makes_route_not_feasible(sc, terrain):
    g = terrain.grid.copy()
    c0, r0 = terrain.pixel_xy(21.545, 103.20)
    g[int(r0[0]) - 40:int(r0[0]) + 40, int(c0[0]) - 40:int(c0[0]) + 40] = np.nan  # a copy: the cached terrain stays whole
    holey = Terrain(g, terrain.transform, terrain.crs, "holey.tif")
    p = plan_route(sc, "ttyt-muong-ang", "tyt-muong-dang", terrain=holey)
    assert not p.feasible
    assert any("terrain unknown" in r for r in p.reasons)


def test_strong_wind_beyond_limit_rejected(sc, terrain):
    p = plan_route(sc, "ttyt-muong-ang", "tyt-ang-to", terrain=terrain, wind_mps=11.0, wind_dir_deg=90.0)
    assert not p.feasible and any("wind" in r for r in p.reasons)


def test_headwind_costs_more_than_calm(sc, terrain):
    calm = plan_route(sc, "ttyt-muong-ang", "tyt-ang-to", terrain=terrain, return_leg=False)
    windy = plan_route(sc, "ttyt-muong-ang", "tyt-ang-to", terrain=terrain, return_leg=False, wind_mps=6.0,
                       wind_dir_deg=75.0)  # the station lies to the east-north-east: a headwind
    assert windy.duration_s > calm.duration_s * 1.2
    assert windy.energy_wh > calm.energy_wh


def test_shortest_path_goes_around_a_square():
    obst = box(-100, -100, 100, 100)
    path = shortest_path(obst, (-500.0, 0.0), (500.0, 0.0), margin_m=20.0)
    line = LineString(path)
    assert not line.intersects(obst)
    assert line.length < 1000 + 2 * 120  # close to the taut-string length around the corners
    assert shortest_path(obst, (-500.0, 500.0), (500.0, 500.0)) == [(-500.0, 500.0), (500.0, 500.0)]


@settings(max_examples=40, deadline=None)
@given(st.floats(-300, 300), st.floats(50, 400), st.floats(20, 200))
def test_shortest_path_never_crosses_a_disc(cy, r, margin):
    obst = Point(0, cy).buffer(r)
    path = shortest_path(obst, (-1500.0, 0.0), (1500.0, 10.0), margin_m=margin)
    assert path is not None and not LineString(path).intersects(obst)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 300), min_size=3, max_size=60), st.floats(0.05, 1.0), st.floats(0.05, 1.0))
def test_lowest_profile_respects_floor_and_gradients(floor, cg, dg):
    d = np.arange(len(floor)) * 25.0
    f = np.array(floor)
    a = lowest_profile(d, f, cg, dg)
    assert np.all(a >= f - 1e-9)
    slope = np.diff(a) / 25.0
    assert np.all(slope <= cg + 1e-9) and np.all(slope >= -dg - 1e-9)
    keep = simplify_profile(d, a, a + 10.0)
    interp = np.interp(d, d[keep], a[keep])
    assert np.all(interp >= a - 1e-6) and np.all(interp <= a + 10.0 + 1e-6)


@pytest.fixture(scope="module")
def network(sc, terrain):
    from uavsim.planning import plan_network

    return plan_network(sc, terrain)


def test_plan_network_covers_every_route_and_field(sc, network):
    assert len(network) == len(sc.routes) + len(sc.fields)
    assert {p.extra.get("route_id") for p in network if p.kind == "route"} == set(sc.routes)
    assert {p.extra.get("field_id") for p in network if p.kind == "field"} == set(sc.fields)
    for p in network:
        assert p.feasible == (not p.reasons)
        doc = p.to_dict()
        assert doc["feasible"] == p.feasible and len(doc["waypoints"]) == len(p.waypoints)


def test_every_route_plans_or_is_rejected_with_reasons(sc, network):
    for p in (p for p in network if p.kind == "route"):
        r = sc.routes[p.extra["route_id"]]
        assert p.aircraft_id == r.aircraft and p.mission_type == r.mission_type
        assert p.distance_m > 2 * float(geo.geodesic_distance(*_site(sc, r.origin), *_site(sc, r.destination))) - 1
        if p.feasible:
            assert p.min_terrain_clearance_m >= 30.0
            assert p.max_agl_m <= 120.0
            assert p.reserve_pct >= 20.0
            assert p.zones == []


def test_every_field_plans_or_is_rejected_with_reasons(network):
    for p in (p for p in network if p.kind == "field"):
        if p.feasible:
            assert p.extra["covered_fraction"] >= 0.99
            assert p.sorties and all(s.feasible for s in p.sorties)
            assert p.reserve_pct >= 20.0
            assert p.max_agl_m <= 120.0 and p.zones == []


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 300), min_size=5, max_size=60), st.floats(10, 100))
def test_taut_profile_stays_in_band_and_climbs_less(ground, band):
    from uavsim.planning.routes import taut

    lo = np.array(ground) + 50.0
    hi = lo + band
    a = taut(lo.copy(), lo, hi)
    assert np.all(a >= lo - 1e-9) and np.all(a <= hi + 1e-9)
    assert a[0] == lo[0] and a[-1] == lo[-1]
    assert np.sum(np.abs(np.diff(a))) <= np.sum(np.abs(np.diff(lo))) + 1e-6  # never more up and down


def test_vtol_reaches_na_tau_on_its_wing(sc, terrain):
    p = plan_route(sc, "ttyt-muong-ang", "na-tau", terrain=terrain)
    assert p.aircraft_id == "medical-vtol" and p.feasible, p.reasons
    assert 20.0 <= p.reserve_pct < 60.0
    assert p.max_agl_m <= 120.0 and p.min_terrain_clearance_m >= 30.0
    assert len(p.waypoints) < 150  # simplified, not one waypoint per DEM cell
