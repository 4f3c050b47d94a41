"""Flying plans as the autopilot does: terrain following, wind on every leg, return-home reserve, radio decision,
sprayer output per lane, holes, terrain-frame export."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import rasterio
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uavsim import geo
from uavsim.aircraft import get_aircraft, power_w
from uavsim.planning import Limits, Wind, check_mission, plan_field, plan_route
from uavsim.planning.assess import Conditions, Flight, assess
from uavsim.planning.autopilot import autopilot_for
from uavsim.planning.missionfile import export_plan, read_items, read_mission
from uavsim.planning.profile import fly
from uavsim.planning.trajectory import autopilot_trajectory, follow_copter, follow_plane
from uavsim.terrain.dem import Terrain


# -- terrain following --------------------------------------------------------------------------------------------
def _terrain(seed: int, relief: float) -> Terrain:
    rng = np.random.default_rng(seed)
    n = 80
    y, x = np.mgrid[0:n, 0:n] / n
    grid = 500 + sum(relief * rng.uniform(0.2, 1) * np.sin(2 * np.pi * (k * x * rng.uniform(0.5, 2) + k * y
                                                                      * rng.uniform(0.5, 2) + rng.uniform()))
                     for k in (1, 2, 3))
    return Terrain(grid, rasterio.transform.from_bounds(103.20, 21.50, 103.24, 21.54, n, n), "EPSG:4326")


def _terrain_mission(tmp_path, offsets, legs):
    rows = ["QGC WPL 110", "0\t1\t0\t16\t0\t0\t0\t0\t21.5050\t103.2050\t0\t1", "1\t0\t3\t22\t0\t0\t0\t0\t0\t0\t20\t1"]
    for k, ((la, lo), off) in enumerate(zip(legs, offsets, strict=True), start=2):
        rows.append(f"{k}\t0\t10\t16\t0\t0\t0\t0\t{la}\t{lo}\t{off}\t1")
    rows.append(f"{len(legs) + 2}\t0\t3\t21\t0\t0\t0\t0\t0\t0\t0\t1")
    f = tmp_path / "terrain.waypoints"
    f.write_text("\n".join(rows) + "\n")
    return f


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), relief=st.floats(20, 250), vtol=st.booleans(),
       offsets=st.lists(st.floats(25, 80), min_size=2, max_size=4))
def test_terrain_frame_legs_stay_in_their_band_within_the_limits(sc, tmp_path, seed, relief, vtol, offsets):
    t = _terrain(seed, relief)
    rng = np.random.default_rng(seed)
    legs = [(21.505 + rng.uniform(0, 0.03), 103.205 + rng.uniform(0, 0.03)) for _ in offsets]
    ac = get_aircraft(sc, "medical-vtol" if vtol else "delivery-2kg")
    m = read_mission(_terrain_mission(tmp_path, offsets, legs), t, ac)
    ap = autopilot_for(ac)
    tr = autopilot_trajectory(m, t, ac, ap, "EPSG:32648")
    wp, v = tr.waypoints, tr.speed_mps
    followed = 0
    # the target: the terrain plus the offset interpolated along each leg; the copter keeps within half the margin
    for j in range(len(m.waypoints) - 1):
        a, b = int(tr.vertex[j]), int(tr.vertex[j + 1])
        if not math.isfinite(m.terrain_agl[j + 1]) or b - a < 2:
            continue
        followed += 1
        seg = wp[a:b + 1]
        x, y = geo.to_utm(seg[:, 0], seg[:, 1])
        rate = np.diff(seg[:, 2]) / (np.hypot(np.diff(x), np.diff(y)) / v[a:b])
        assert np.all(rate <= ap.climb_mps + 1e-6) and np.all(rate >= -ap.descent_mps - 1e-6)  # within the limits
        ground = t.elevation(seg[:, 0], seg[:, 1])
        f = np.linspace(0, 1, seg.shape[0])
        o0 = m.terrain_agl[j] if math.isfinite(m.terrain_agl[j]) else seg[0, 2] - ground[0]
        target = ground + o0 + (m.terrain_agl[j + 1] - o0) * f
        if ap.copter:
            assert np.all(np.abs(seg[1:-1, 2] - target[1:-1]) <= 0.5 * ap.terrain_margin_m + 1e-6)
            assert np.all(v[a:b] <= ap.wp_speed_mps + 1e-9)  # slows down, never speeds up
        else:
            assert np.allclose(v[a:b], ap.wp_speed_mps)  # a plane holds its airspeed and lags instead
    assert followed >= len(offsets) - 1

def test_copter_slows_on_a_steep_slope_and_plane_lags():
    target = np.array([0.0, 0.0, 50.0, 100.0, 100.0])
    ds = np.full(4, 20.0)
    z, dt = follow_copter(target, ds, 0.0, 10.0, 2.5, 1.5, 5.0)
    assert dt[1] == pytest.approx((50.0 - 5.0) / 2.5)  # slowed so the height error stops at the buffer
    assert z[2] == pytest.approx(45.0)
    zp, dtp = follow_plane(target, ds, 0.0, 25.0, 5.0, 5.0)
    assert np.allclose(dtp, 0.8) and zp[2] == pytest.approx(4.0)  # 0.8 s at 5 m/s: far below its target


# -- wind --------------------------------------------------------------------------------------------------------
def test_wind_acts_by_band_and_direction(sc):
    ac = get_aircraft(sc, "delivery-2kg")
    wp = np.array([[21.5, 103.2, 600.0], [21.5, 103.2, 650.0], [21.5, 103.25, 650.0], [21.5, 103.25, 600.0]])
    calm = fly(ac, wp, 9.5, None, Wind())
    head = fly(ac, wp, 9.5, None, Wind(2.0, 90.0))  # from the east, the leg flies east
    tail = fly(ac, wp, 9.5, None, Wind(2.0, 270.0))
    cross = fly(ac, wp, 9.5, None, Wind(2.0, 0.0))
    assert head.leg_airspeed_mps[1] == pytest.approx(ac.cruise_mps + 2.0, rel=1e-4)
    assert tail.leg_airspeed_mps[1] == pytest.approx(ac.cruise_mps - 2.0, rel=1e-4)
    assert cross.leg_airspeed_mps[1] == pytest.approx(math.hypot(ac.cruise_mps, 2.0), rel=3e-3)  # grid convergence
    assert cross.leg_ground_speed_mps[1] == pytest.approx(ac.cruise_mps)  # holds its ground speed
    strong = fly(ac, wp, 9.5, None, Wind(8.0, 90.0))  # needs more than its 16 m/s: slowed to 16 - 8 over ground
    assert strong.leg_ground_speed_mps[1] == pytest.approx(ac.max_speed_mps - 8.0, rel=1e-3)
    assert head.energy_wh > calm.energy_wh and tail.energy_wh >= calm.energy_wh - 1e-9  # no tailwind credit
    banded = Wind(bands=((20.0, 0.0, 0.0), (200.0, 2.0, 90.0)))  # calm low down, the headwind aloft
    assert fly(ac, wp, 9.5, None, banded).leg_airspeed_mps[1] == pytest.approx(head.leg_airspeed_mps[1])
    assert banded.at(10.0) == (0.0, 0.0) and banded.at(500.0) == (2.0, 90.0)


def test_vtol_energy_never_falls_with_wind(sc, terrain):
    base = plan_route(sc, "ttyt-muong-ang", "na-tau", terrain=terrain)
    for d in (0.0, 45.0, 135.0, 225.0):
        p = plan_route(sc, "ttyt-muong-ang", "na-tau", terrain=terrain, wind_mps=10.0, wind_dir_deg=d)
        assert p.energy_wh > base.energy_wh


def test_return_home_reserve_names_the_failing_leg(sc, terrain):
    """Out with a tailwind, the payload released far away, back empty into 11 m/s: the plan lands with its
    reserve, but a return with the payload still on board (the release failed) from the far point does not."""
    ac = get_aircraft(sc, "cargo-flycart")
    x0, y0 = (float(v) for v in geo.to_utm(21.5197, 103.2174))
    far = geo.from_utm(x0, y0 + 4000.0)
    g0 = float(terrain.elevation(21.5197, 103.2174)[0])
    z = g0 + 250.0
    wp = np.array([[21.5197, 103.2174, g0], [21.5197, 103.2174, z], [float(far[0]), float(far[1]), z],
                   [21.5197, 103.2174, z], [21.5197, 103.2174, g0]])
    mass = np.array([ac.mass_kg(), ac.mass_kg(), ac.operating_kg, ac.operating_kg])
    flight = Flight("route", wp, mass_kg=mass, labels=["launch", "climb", "far", "back", "land"])
    lim = Limits.from_rules(max_shadowed_frac=None)
    p = assess(flight, sc, terrain, ac, Conditions(lim, Wind(11.0, 180.0), 10.0))
    assert p.reserve_pct >= 100 * lim.reserve_frac
    msg = [r for r in p.reasons if r.startswith("return home from the end of leg")]
    assert msg and msg[0].startswith("return home from the end of leg climb -> far needs")
    calm = assess(Flight("route", wp, mass_kg=mass, labels=flight.labels), sc, terrain, ac, Conditions(lim, Wind(), 10.0))
    assert not any(r.startswith("return home") for r in calm.reasons)


# -- radio ----------------------------------------------------------------------------------------------------------
def test_radio_shadow_fails_without_a_lost_link_procedure(sc, terrain, monkeypatch):
    from uavsim.planning import routes

    real = routes.get_aircraft

    def no_procedure(source, aid):
        return dataclasses.replace(real(source, aid), lost_link="")

    monkeypatch.setattr(routes, "get_aircraft", no_procedure)
    p = plan_route(sc, "ttyt-muong-ang", "tyt-ang-to", terrain=terrain)
    limit = Limits.from_rules().max_shadowed_frac
    assert p.extra["shadowed_fraction"] > limit and not p.feasible
    assert any("declares no lost-link procedure" in r for r in p.reasons)
    monkeypatch.undo()
    q = plan_route(sc, "ttyt-muong-ang", "tyt-ang-to", terrain=terrain)
    assert q.extra["lost_link"] == "return"
    assert not any("declares no lost-link procedure" in r for r in q.reasons)


# -- spraying -------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rice(sc, terrain):
    return plan_field(sc, "mt-rice-1", terrain=terrain)


def test_sprayer_is_on_along_lanes_only_and_off_over_the_hole(sc, rice):
    fa = sc.field_area("mt-rice-1")
    hole = shapely.Polygon([tuple(float(v) for v in geo.to_utm(la, lo)) for la, lo in fa.holes[0]])
    for s in rice.sorties:
        pairs = s.extra["spray_pairs"]
        assert len(pairs) > 1  # several lanes per sortie: on and off at each
        x, y = geo.to_utm(s.waypoints[:, 0], s.waypoints[:, 1])
        for a, b in pairs:
            for i in range(a, b):
                mid = shapely.Point((x[i] + x[i + 1]) / 2, (y[i] + y[i + 1]) / 2)
                assert not hole.contains(mid)
    assert sum(s.extra["hole_crossings"] for s in rice.sorties) > 0


def test_holes_are_crossed_at_a_safe_height(sc, terrain, rice):
    fa = sc.field_area("mt-rice-1")
    hole = shapely.Polygon([tuple(float(v) for v in geo.to_utm(la, lo)) for la, lo in fa.holes[0]])
    over = []
    for s in rice.sorties:
        x, y = geo.to_utm(s.waypoints[:, 0], s.waypoints[:, 1])
        inside = shapely.contains_xy(hole, x, y)
        agl = s.waypoints[:, 2] - terrain.elevation(s.waypoints[:, 0], s.waypoints[:, 1])
        over += list(agl[inside])
    assert over and min(over) >= rice.sorties[0].extra["hole_agl_m"] - 1e-6 >= Limits.from_rules().min_clearance_m


def test_spray_export_is_per_lane_and_in_terrain_frame(sc, terrain, rice, tmp_path):
    s = rice.sorties[0]
    [f] = export_plan(s, tmp_path / "rice.waypoints", terrain)
    _, items, _, _ = read_items(f)
    on = [it for it in items if it.command == 216 and it.params[0] == 1]
    off = [it for it in items if it.command == 216 and it.params[0] == 0]
    assert len(on) == len(off) == len(s.extra["spray_pairs"])
    assert {it.frame for it in items if it.command == 16} == {10}
    c = check_mission(f, sc, terrain, "sprayer-t40")
    assert c.distance_m == pytest.approx(s.distance_m, rel=1e-6)
    assert c.energy_wh == pytest.approx(s.energy_wh, rel=0.03)
    assert c.extra["spray_on_index"] is not None and 10 in c.extra["frames"]


def test_sortie_split_uses_the_real_wind_direction(sc, terrain):
    along = plan_field(sc, "bc-macadamia-1", terrain=terrain, angle_deg=0.0, wind_mps=5.0, wind_dir_deg=0.0)
    across = plan_field(sc, "bc-macadamia-1", terrain=terrain, angle_deg=0.0, wind_mps=5.0, wind_dir_deg=90.0)
    ac = get_aircraft(sc, "sprayer-t40")
    v = ac.spray_speed_mps
    m = ac.mass_kg()
    # along the lanes the airspeed alternates v +- 5, across it is sqrt(v^2 + 25): different energies per metre
    along_wh = (power_w(ac, m, v + 5) + max(power_w(ac, m, v - 5), power_w(ac, m, v))) / 2
    across_wh = max(power_w(ac, m, math.hypot(v, 5.0)), power_w(ac, m, v))
    assert (along.energy_wh > across.energy_wh) == (along_wh > across_wh)
    assert along.energy_wh != pytest.approx(across.energy_wh, rel=1e-3)
