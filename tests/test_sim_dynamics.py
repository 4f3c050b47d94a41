"""The simulator's issue-15 dynamics: rate draws, frailty, common cause, in-flight wind, repair, link-loss shares."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy.special import ellipe

from uavsim.sim.campaign import plan_campaign, run_campaign
from uavsim.sim.dynamics import Dynamics, draw_world, load_dynamics, unit_rates, wind_energy_factor
from uavsim.sim.engine import CampaignModel, unit_ids
from uavsim.sim.hazards import draw_failure, replay
from uavsim.sim.weather import WeatherSeries


@pytest.fixture(scope="module")
def plan():
    return plan_campaign(terrain="synthetic")  # the embedded terrain, whatever mosaics the cache holds


def test_campaign_file_names_every_dynamic(plan):
    d = load_dynamics(plan.campaign.path)
    assert d.rate_prior_fh == 1000.0 and d.frailty_cv == 0.5 and d.common_cause_rain_factor == 4.0
    assert d.wind_energy_k == 0.75 and d.repair_crash_days == 14.0 and d.repair_landing_days == 2.0
    assert d.link_loss_land_shares == (0.0, 0.02, 0.08, 0.25)
    assert {"rate_prior_source", "frailty_source", "wind_energy_source", "repair_source"} <= set(d.sources)
    total = sum(h.per_fh for h in plan.campaign.hazards)
    assert total == pytest.approx(1.5e-3)  # the UK operator survey's order: ~1 per 1,000 flight hours


def test_wind_energy_factor_is_the_wind_triangle_to_second_order():
    for r in (0.05, 0.1, 0.2):
        exact = (2.0 / math.pi) * ellipe(r * r) / (1.0 - r * r)  # out-and-back at constant airspeed, all headings
        assert float(wind_energy_factor(r * 10.0, 10.0, 0.75)) == pytest.approx(exact, rel=2e-3)
    assert float(wind_energy_factor(0.0, 7.0, 0.75)) == 1.0


def test_rate_multipliers_and_frailty_have_their_moments(plan):
    hz = plan.campaign.hazards
    dyn = Dynamics(frailty_cv=0.5, rate_shape={h.mode: 4.0 for h in hz})
    rng = np.random.default_rng(1)
    worlds = [draw_world(hz, [f"u{i}" for i in range(50)], dyn, rng) for _ in range(2000)]
    m = np.array([w.multiplier for w in worlds])
    assert m.mean() == pytest.approx(1.0, abs=0.03) and m.var() == pytest.approx(1 / 4.0, rel=0.1)
    f = np.array([list(w.frailty.values()) for w in worlds]).ravel()
    assert f.mean() == pytest.approx(1.0, abs=0.01) and f.std() == pytest.approx(0.5, rel=0.03)


def test_rain_days_multiply_the_weather_hazard_only(plan):
    hz = plan.campaign.hazards
    w = draw_world(hz, ["a"], Dynamics(rate_shape={h.mode: 1e12 for h in hz}), np.random.default_rng(0))
    dry, _ = unit_rates(hz, w, "a", False, Dynamics(common_cause_rain_factor=4.0))
    wet, _ = unit_rates(hz, w, "a", True, Dynamics(common_cause_rain_factor=4.0))
    i = [h.mode for h in hz].index("weather")
    assert wet[i] == pytest.approx(4.0 * dry[i])
    assert np.allclose(np.delete(wet, i), np.delete(dry, i))


def _model(plan, **dyn):
    return CampaignModel(plan.campaign, plan.scenario, plan.templates, np.random.SeedSequence(1), plan.rules,
                         plan.terrain, 3, dataclasses.replace(plan.dynamics, **dyn))


def test_wind_rising_mid_flight_recalls_the_sortie(plan):
    m = _model(plan)
    u = next(x for x in m.units if x.cls == "sprayer-t40")
    tpl = next(t for ts in plan.templates.values() for t in ts if t.aircraft == "sprayer-t40" and t.feasible)
    n = m.days * 24
    wind = np.full(n, 1.0)
    wind[9:] = 9.0  # calm until 09:00, then above the T40's 6 m/s limit
    m.weather = WeatherSeries(wind, np.zeros(n, bool), np.zeros(n, bool), np.zeros(m.days, bool))
    m.env.run(until=9 * 3600.0 - 60.0)  # launch one minute before the wind rises
    failure, factor = m._fly(u, tpl)
    assert failure is not None and failure.mode == "recall" and failure.cause == "wind"
    assert failure.t_s == pytest.approx(60.0)
    assert factor > 1.0
    rp = replay(tpl, failure, plan.rules, failure.cause)
    ev = [e for e in rp.events if e.kind == "MISSION_ABORTED"]
    assert ev and "wind" in ev[0].detail and ev[0].severity == "observation"


def test_a_sortie_waits_for_a_wind_its_battery_can_fly(plan):
    m = _model(plan, wind_energy_k=50.0)  # an exaggerated factor: any wind makes the sortie too long
    tpl = next(t for ts in plan.templates.values() for t in ts if t.aircraft == "sprayer-t40" and t.feasible)
    n = m.days * 24
    wind = np.full(n, 4.0)
    wind[12] = 0.0
    m.weather = WeatherSeries(wind, np.zeros(n, bool), np.zeros(n, bool), np.zeros(m.days, bool))
    assert m._wind_hold(tpl, 10 * 3600.0) == 11 * 3600.0
    assert m._wind_hold(tpl, 12 * 3600.0 + 5) is None


def test_a_crashed_aircraft_is_out_of_service_for_its_repair(plan):
    hz = tuple(dataclasses.replace(h, per_fh=2.0, shadow_per_fh=0.0, p=(0.0, 0.0, 1.0)) for h in plan.campaign.hazards)
    risky = dataclasses.replace(plan, campaign=dataclasses.replace(plan.campaign, hazards=hz))
    res = run_campaign(risky, seed=2, days=20, records=False)
    assert res.summary["out_of_service_days"] > 0
    for unit in {fl.unit for fl in res.logs}:
        mine = sorted((fl for fl in res.logs if fl.unit == unit), key=lambda fl: fl.launch_s)
        for a, b in zip(mine, mine[1:], strict=False):
            if a.failure is not None and a.failure.action == "crash":
                assert b.launch_s - (a.launch_s + a.replay.duration_s) >= 14 * 86400.0 - 1.0


def test_link_loss_can_fly_on(plan):
    tpl = next(t for ts in plan.templates.values() for t in ts if t.feasible and t.shadowed_fraction > 0)
    link = tuple(h for h in plan.campaign.hazards if h.mode == "radio_link")
    f = draw_failure(tpl, link, np.random.default_rng(0), np.array([50.0]), np.array([0.0]), link_continue=1.0)
    assert f is not None and f.action == "continue"
    rp = replay(tpl, f, plan.rules)
    assert [e.kind for e in rp.events] == ["LINK_LOSS"] and np.array_equal(rp.lat, tpl.lat)


def test_the_default_year_reports_its_dynamics(plan):
    s = run_campaign(plan, seed=plan.campaign.seed, days=40, records=False).summary
    assert {"wind_recalls", "wind_energy_holds", "out_of_service_days", "link_loss_sensitivity"} <= set(s)
    sens = s["link_loss_sensitivity"]
    assert [x["land_share"] for x in sens] == [0.0, 0.02, 0.08, 0.25]
    assert [x["expected_unsafe"] for x in sens] == sorted(x["expected_unsafe"] for x in sens)
    assert unit_ids(plan.campaign)[0].endswith("#1")
