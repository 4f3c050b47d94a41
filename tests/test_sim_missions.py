"""Flight templates: planned by the planner, planner rejections, hazards and their contingencies."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uavsim.sim.campaign import plan_campaign, run_campaign
from uavsim.sim.config import HOUR_S, Hazard
from uavsim.sim.hazards import Failure, draw_failure, nominal, replay


@pytest.fixture(scope="module")
def prep():
    return plan_campaign()


def test_templates_come_from_the_planner_and_fly_safely(prep):
    from uavsim.planning import plan_route

    med = prep.templates["route:med-muong-dang:delivery-2kg"][0]
    planned = plan_route(prep.scenario, "ttyt-muong-ang", "tyt-muong-dang", aircraft_id="delivery-2kg",
                         terrain=prep.terrain, return_leg=True, mission_type="medical")
    assert med.feasible and med.mission_type == "medical" and med.site == "tyt-muong-dang"
    assert med.distance_m == pytest.approx(planned.distance_m, rel=1e-9)  # the planner's flight, not another
    assert med.distance_m >= 2 * 5903 * 0.98  # out and back, at least the ~5.9 km geodesic each way
    assert np.all(np.diff(med.t_s) <= 1.0 + 1e-9)  # 1 Hz track
    assert med.nominal.outcome == "safe"
    seed = prep.templates["field:mt-rice-1:seed:sprayer-t40"]
    assert len(seed) >= 2  # a field takes several tank loads
    # Seeding at work height over the field is the job, not a clearance loss, under the shared rules.
    assert all(t.nominal.outcome == "safe" for t in seed if t.feasible)
    assert not any(e.kind == "TERRAIN_CLEARANCE" for t in seed if t.feasible for e in t.nominal.events)
    res = run_campaign(prep, seed=2, days=6)
    assert len(res.flights) > 50


def test_rejected_mission_is_counted_and_never_flown(prep):
    key = "route:med-ang-to:delivery-2kg"
    bad = dataclasses.replace(prep.templates[key][0], feasible=False, reasons=("test: rejected",))
    p = dataclasses.replace(prep, templates={**prep.templates, key: [bad]})
    res = run_campaign(p, seed=4, days=20)
    assert res.summary["rejected"]["med-ang-to"] > 0
    assert not any(f.extra["template"] == key for f in res.flights)
    assert any(f.mission_type == "medical" for f in res.flights)  # the other stations are still served


def test_draw_failure_rates(prep):
    tpl = prep.templates["route:tea-ta-la-cao:cargo-flycart"][0]
    hz = (Hazard("motor_esc", 1.0 / (tpl.duration_s / HOUR_S), 0.0, (0.0, 0.0, 1.0), "test"),)
    rng = np.random.default_rng(1)
    draws = [draw_failure(tpl, hz, rng) for _ in range(4000)]
    # one failure expected per flight duration: P(at least one) = 1 - e^-1
    share = sum(d is not None for d in draws) / len(draws)
    assert share == pytest.approx(1 - np.exp(-1), abs=0.03)
    assert all(d.action == "crash" and 0 <= d.t_s < tpl.duration_s for d in draws if d is not None)
    assert draw_failure(tpl, (dataclasses.replace(hz[0], per_fh=0.0),), rng) is None


def test_contingencies_shape_the_track(prep):
    tpl = prep.templates["route:med-muong-dang:delivery-2kg"][0]
    t_f = 0.3 * tpl.duration_s
    rtl = replay(tpl, Failure("radio_link", t_f, "rtl"), prep.rules)
    land = replay(tpl, Failure("gps", t_f, "land"), prep.rules)
    crash = replay(tpl, Failure("motor_esc", t_f, "crash"), prep.rules)
    full = nominal(tpl)
    # RTL ends at the launch point on the ground; land ends where it failed; crash falls in seconds
    assert rtl.lat[-1] == pytest.approx(tpl.launch[0]) and rtl.alt_msl_m[-1] == pytest.approx(tpl.alt_msl_m[0])
    assert land.lat[-1] == pytest.approx(land.lat[land.cut]) and land.duration_s < full.duration_s
    assert crash.duration_s == pytest.approx(t_f + 4.0)
    assert [e.kind for e in rtl.events] == ["LINK_LOSS", "FAILSAFE_RADIO"]
    assert {e.kind for e in crash.events} == {"MOTOR_FAILURE", "CRASH"}
    assert {e.severity for e in crash.events} == {"accident"}
    assert rtl.mode[rtl.cut] == 0 and rtl.mode[-1] == 1
    assert rtl.energy_wh < full.energy_wh and rtl.battery_end_pct > full.battery_end_pct


@settings(max_examples=60, deadline=None)
@given(frac=st.floats(0.0, 1.0), action=st.sampled_from(["rtl", "land", "crash", "abort"]),
       key=st.sampled_from(["route:med-ngoi-cay:delivery-2kg", "field:mt-rice-1:seed:sprayer-t40",
                            "route:tea-ta-la-cao:cargo-flycart"]))
def test_replay_invariants(prep, frac, action, key):
    tpl = prep.templates[key][0]
    rp = replay(tpl, Failure("battery" if action != "abort" else "recall", frac * tpl.duration_s, action), prep.rules)
    assert np.all(np.diff(rp.t_s) > 0)  # time runs forward
    assert rp.t_s[rp.cut] == pytest.approx(min(frac * tpl.duration_s, tpl.duration_s))
    assert np.all(rp.mode[: rp.cut + 1] == 0) and np.all(rp.mode[rp.cut + 1:] > 0)
    n = rp.t_s.size
    assert all(a.shape == (n,) for a in (rp.lat, rp.lon, rp.alt_msl_m, rp.gs_mps))
    if action in ("rtl", "abort"):
        assert rp.alt_msl_m[-1] == pytest.approx(tpl.alt_msl_m[0])  # back on the launch point
    else:
        ground = float(np.interp(rp.t_s[rp.cut], tpl.t_s, tpl.ground_m))
        assert rp.alt_msl_m[-1] == pytest.approx(ground)  # down where it failed
        assert rp.duration_s <= tpl.duration_s + (tpl.alt_msl_m.max() - ground) / 3.0 + 5.0
    assert 0 <= rp.energy_wh and rp.battery_end_pct <= 100.0
