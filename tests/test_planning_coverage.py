"""Coverage planner: property tests on random convex and concave fields with holes, and the scenario fields."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPoint, Polygon, box

from uavsim.aircraft import load_catalogue
from uavsim.planning import plan_field
from uavsim.planning.coverage import LANE_TOLERANCE_M, M2_PER_HA, best_angle, plan_coverage
from uavsim.planning.split import split_sorties

T40 = load_catalogue()["sprayer-t40"]


@st.composite
def fields(draw):
    """Random convex (hull of points) or concave (star) fields of 1.5-30 ha, with up to two holes."""
    r = draw(st.floats(90.0, 300.0))
    if draw(st.booleans()):
        pts = draw(st.lists(st.tuples(st.floats(-1, 1), st.floats(-1, 1)), min_size=5, max_size=12))
        poly = MultiPoint([(x * r, y * r) for x, y in pts]).convex_hull
    else:
        n = draw(st.integers(5, 10))
        radii = draw(st.lists(st.floats(0.6, 1.0), min_size=n, max_size=n))
        poly = Polygon([(rr * r * math.cos(2 * math.pi * i / n), rr * r * math.sin(2 * math.pi * i / n))
                        for i, rr in enumerate(radii)])
    assume(isinstance(poly, Polygon) and poly.is_valid and poly.area > 15_000)
    # no corner sharper than 45 degrees (a swath cannot reach into a needle)
    xy = np.asarray(poly.exterior.coords)[:-1]
    for i in range(len(xy)):
        a, b, c = xy[i - 1], xy[i], xy[(i + 1) % len(xy)]
        u, v = a - b, c - b
        assume(np.linalg.norm(u) > 1.0 and np.linalg.norm(v) > 1.0)
        ang = math.degrees(math.acos(np.clip(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)), -1, 1)))
        assume(ang > 45)
    swath = draw(st.floats(5.0, 15.0))
    holes = []
    for _ in range(draw(st.integers(0, 2))):
        cx, cy = draw(st.floats(-0.5, 0.5)) * r, draw(st.floats(-0.5, 0.5)) * r
        s = draw(st.floats(8.0, 30.0))
        h = box(cx - s / 2, cy - s / 2, cx + s / 2, cy + s / 2)
        if h.buffer(2 * swath).within(poly) and all(h.buffer(2 * swath).disjoint(o) for o in holes):
            holes.append(h)
    field = Polygon(poly.exterior.coords, [list(h.exterior.coords) for h in holes])
    return field, swath


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(fields(), st.one_of(st.none(), st.floats(0, 180)))
def test_swaths_cover_field_and_lanes_stay_inside(fs, angle):
    field, swath = fs
    cov = plan_coverage(field, swath, angle, start=(0.0, -400.0))
    assert cov.coverage_fraction >= 0.99
    inside = field.buffer(LANE_TOLERANCE_M)
    for lane in cov.lanes + cov.headland:
        assert lane.within(inside)
    # section control: what is applied is exactly the ground covered, never more
    assert cov.covered_m2 == pytest.approx(cov.covered.intersection(field).area, rel=1e-6)
    assert cov.covered_m2 <= field.area * (1 + 1e-9)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(fields(), st.floats(8.0, 20.0))
def test_litres_match_the_rate_and_tank(fs, rate):
    field, swath = fs
    cov = plan_coverage(field, swath, None, start=(0.0, -400.0))
    sorties = split_sorties(cov, T40, (0.0, -400.0), rate, T40.spray_speed_mps, 2.5, 20.0, 500.0, 0.2)
    litres = sum(s[2] for s in sorties)
    want = rate * field.area / M2_PER_HA
    assert want * 0.99 <= litres <= want * (1 + 1e-9)
    assert all(0 < s[2] <= T40.tank_l + 1e-9 for s in sorties)
    assert [s[0] for s in sorties[1:]] == [s[1] for s in sorties[:-1]]  # every piece flown once, in order
    assert sorties[-1][1] == len(cov.pieces)


def test_best_angle_follows_the_long_side():
    long_ns = box(0, 0, 100, 600)  # 100 m east-west, 600 m north-south: lanes run north-south
    assert best_angle(long_ns.buffer(-5.5), 11.0) % 180 == pytest.approx(0.0, abs=1e-6)
    rotated = Polygon([(0, 0), (600 * math.sin(math.radians(30)), 600 * math.cos(math.radians(30))),
                       (600 * math.sin(math.radians(30)) + 100 * math.cos(math.radians(30)),
                        600 * math.cos(math.radians(30)) - 100 * math.sin(math.radians(30))),
                       (100 * math.cos(math.radians(30)), -100 * math.sin(math.radians(30)))])
    assert best_angle(rotated.buffer(-5.5, join_style="mitre"), 11.0) == pytest.approx(30.0, abs=1e-6)


def test_lanes_are_clipped_around_holes():
    field = Polygon(box(0, 0, 300, 300).exterior.coords, [box(120, 120, 180, 180).exterior.coords])
    cov = plan_coverage(field, 10.0, 0.0)
    hole = box(120, 120, 180, 180)
    assert not any(lane.intersects(hole.buffer(-0.5)) for lane in cov.lanes)
    assert len(cov.lanes) > 300 / 10  # lanes through the hole's rows come in two pieces
    assert cov.coverage_fraction >= 0.99


def test_rice_seeding_totals(sc, terrain):
    p = plan_field(sc, "mt-rice-1", terrain=terrain)
    area = p.extra["hectares"]
    assert area == pytest.approx(29.5, rel=0.02)  # 0.004° x 0.0065° less a 0.35 ha hole
    assert p.extra["kg_seed"] == pytest.approx(15.0 * area * p.extra["covered_fraction"], rel=1e-6)
    assert p.extra["sortie_count"] >= math.ceil(p.extra["kg_seed"] / T40.tank_l)
    assert p.min_terrain_clearance_m > 1.5 and p.extra["work_agl_m"] == 2.5
    assert p.max_agl_m <= 30.0  # the Mường Thanh permit's ceiling
    assert p.extra["total_time_s"] > p.duration_s
    t, lat, lon, alt, gs = p.track(10.0)
    assert t.size > 100 and np.all(np.diff(t) > 0)


def test_survey_height_from_ground_resolution(sc, terrain):
    p = plan_field(sc, "tlc-tea-1", terrain=terrain, mission_type="survey")
    qd = load_catalogue()["survey-quad"]
    assert p.aircraft_id == "survey-quad"
    # 3 cm/px wants 109 m; the 120 m rule less margins (5 m, 8 m terrain-following tolerance) caps it at 107 m
    assert p.extra["work_agl_m"] == pytest.approx(min(qd.survey_gsd_m / qd.gsd_per_m, 107.0))
    assert p.extra["swath_m"] == pytest.approx(qd.camera_width_px * qd.gsd_per_m * 107.0 * (1 - qd.side_overlap))
    assert p.max_agl_m <= 120.0
    assert p.extra["litres"] == 0.0


def test_survey_under_a_permit_ceiling(sc, terrain):
    p = plan_field(sc, "mt-rice-1", "survey-quad", terrain, "monitor")
    assert p.feasible, p.reasons
    assert p.max_agl_m <= 30.0  # the Mường Thanh permit's ceiling
    assert p.extra["work_agl_m"] == pytest.approx(30.0 - 5.0 - 8.0)


def test_given_angle_is_used(sc, terrain):
    p = plan_field(sc, "bc-macadamia-1", terrain=terrain, angle_deg=45.0)
    assert p.extra["angle_deg"] == 45.0


def test_aircraft_without_tank_cannot_spray(sc, terrain):
    p = plan_field(sc, "bc-macadamia-1", "delivery-2kg", terrain, "spray")
    assert not p.feasible and "cannot spray" in p.reasons[0]


def test_wind_costs_sorties_but_stays_in_reserve(sc, terrain):
    calm = plan_field(sc, "bc-macadamia-1", terrain=terrain)
    windy = plan_field(sc, "bc-macadamia-1", terrain=terrain, wind_mps=5.0, wind_dir_deg=90.0)
    assert windy.feasible and windy.reserve_pct >= 20.0
    assert windy.energy_wh > calm.energy_wh
    assert windy.extra["litres"] == pytest.approx(calm.extra["litres"])
    assert not plan_field(sc, "bc-macadamia-1", terrain=terrain, wind_mps=7.0).feasible  # T40 limit 6 m/s


def test_sorties_carry_what_they_spray_and_stop_to_turn(sc, terrain):
    from uavsim.planning.split import TURN_S

    p = plan_field(sc, "hn-coffee-1", terrain=terrain)
    for s in p.sorties:
        assert 0 < s.extra["amount"] <= 40.0 and s.extra["payload_kg"] == pytest.approx(s.extra["amount"])
        assert s.reserve_pct >= 20.0
        assert float(np.sum(s.hold_s)) == pytest.approx(s.extra["turns"] * TURN_S)
    assert sum(s.extra["turns"] for s in p.sorties) > len(p.sorties)  # lanes end in stop-and-turns
    # the sorties add up to the field's litres
    assert sum(s.extra["amount"] for s in p.sorties) == pytest.approx(p.extra["litres"])
