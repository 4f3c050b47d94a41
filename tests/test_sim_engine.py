"""The campaign engine: determinism, volume, pre-emption by medical requests, weather groundings."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from uavsim.records import SEVERITY_RANK
from uavsim.sim.campaign import plan_campaign, run_campaign
from uavsim.sim.config import HOUR_S, MedicalDemand

SHORT_DAYS = 12  # 23 June – 4 July: rice seeding, coffee fertilising, tea transport and medical all active


@pytest.fixture(scope="module")
def prep():
    return plan_campaign()


@pytest.fixture(scope="module")
def year(prep):
    """The one full default year of the suite (about 1 s of engine time)."""
    return run_campaign(prep, seed=prep.campaign.seed)


def _sig(res):
    return [(f.id, f.start_utc, f.aircraft_id, f.mission_type, f.site, round(f.duration_s, 6), f.severity,
             tuple(e.kind for e in f.events)) for f in res.flights]


def test_same_seed_gives_identical_records(prep):
    a = run_campaign(prep, seed=7, days=SHORT_DAYS)
    b = run_campaign(prep, seed=7, days=SHORT_DAYS)
    assert len(a.flights) > 100
    assert _sig(a) == _sig(b)
    assert np.array_equal(a.flights[5].telemetry.lat, b.flights[5].telemetry.lat)
    assert a.summary == b.summary


def test_different_seeds_give_different_records(prep):
    a = run_campaign(prep, seed=7, days=SHORT_DAYS)
    b = run_campaign(prep, seed=8, days=SHORT_DAYS)
    assert _sig(a) != _sig(b)
    assert [f.start_utc for f in a.flights] != [f.start_utc for f in b.flights]


def test_default_year_volume_and_summary(year, prep):
    s = year.summary
    assert 5400 <= s["flights"] <= 6600
    assert s["flights"] == len(year.flights)
    assert set(s["flights_by_type"]) >= {"medical", "seed", "spray", "fertilise", "cargo", "survey", "monitor"}
    assert sum(s["flights_by_type"].values()) == s["flights"]
    assert s["unsafe"] == sum(f.outcome == "unsafe" for f in year.flights)
    assert s["safety_rate"] == pytest.approx(1 - s["unsafe"] / s["flights"])
    assert 0.9 < s["lower_bound"] < s["safety_rate"]
    # weather groundings appear: rain and fog delay flights, wind grounds the 6 m/s sprayers for hours
    assert s["weather_groundings"]["heavy_rain"] > 0 and s["weather_groundings"]["fog"] > 0
    assert s["weather_grounded_hours"]["sprayer-t40"]["wind"] > s["weather_grounded_hours"]["cargo-flycart"]["wind"]
    w = s["medical_wait_min"]
    assert w["n"] == s["flights_by_type"]["medical"] - sum(
        1 for f in year.flights if f.mission_type == "medical" and f.extra.get("contingency") == "abort")
    assert 0 <= w["median"] <= w["p95"]


def test_flight_records_follow_the_contract(year):
    f = year.flights[0]
    assert f.id == f"sim-{year.run_id}-00000" and f.source == "sim" and f.source_ref == f"{year.run_id}:0"
    assert f.start_utc.endswith("Z") and f.start_utc.startswith("2026-06-2")
    assert "#" in f.aircraft_id
    assert 24 <= len(f.telemetry) <= 60
    starts = [x.start_utc for x in year.flights]
    assert starts == sorted(starts)
    # the local launch hour lies inside the daylight window (07:00–17:30 local = 00:00–10:30 UTC)
    hours = np.array([int(x.start_utc[11:13]) for x in year.flights])
    assert hours.min() >= 0 and hours.max() <= 10
    for x in year.flights:
        worst = max((SEVERITY_RANK[e.severity] for e in x.events), default=0)
        assert SEVERITY_RANK[x.severity] == worst
        assert (x.outcome == "unsafe") == (SEVERITY_RANK[x.severity] >= SEVERITY_RANK["serious_incident"])


def test_failures_become_events_and_outcomes(year):
    crashed = [f for f in year.flights if f.extra.get("contingency") == "crash"]
    returned = [f for f in year.flights if f.extra.get("contingency") == "rtl"]
    assert returned, "a year has failures that end in a return to launch"
    for f in crashed:
        assert f.severity == "accident" and any(e.kind == "CRASH" for e in f.events)
    for f in returned:
        assert f.telemetry.mode_names[f.telemetry.mode[-1]] == "RTL"
    nominal = [f for f in year.flights if "failure" not in f.extra]
    assert all(f.outcome == "safe" for f in nominal[:500])


def test_medical_requests_preempt_farm_sorties(prep):
    c = prep.campaign
    busy = dataclasses.replace(c, medical=tuple(MedicalDemand(m.route, 6.0) for m in c.medical))
    res = run_campaign(dataclasses.replace(prep, campaign=busy), seed=3, days=SHORT_DAYS)
    s = res.summary
    assert s["recalled_in_flight"] + s["preempted_before_launch"] > 0
    aborted = [f for f in res.flights if f.extra.get("contingency") == "abort"]
    assert aborted and all(f.mission_type in ("fertilise",) for f in aborted)  # the base shared with medical
    ab = aborted[0]
    ev = next(e for e in ab.events if e.kind == "MISSION_ABORTED")
    assert ab.outcome == "safe" and ev.severity == "observation"
    t_abort = np.datetime64(ab.start_utc[:-1]) + np.timedelta64(int(ev.t_s), "s")
    # a medical flight took the crew: it launched from the same base within minutes of the recall
    med = [np.datetime64(f.start_utc[:-1]) for f in res.flights if f.mission_type == "medical"]
    gaps = [(m - t_abort) / np.timedelta64(1, "s") for m in med]
    assert any(0 <= g <= 20 * 60 for g in gaps)


def test_strong_wind_grounds_the_sprayers(prep):
    c = prep.campaign
    windy = dataclasses.replace(c, weather=dataclasses.replace(c.weather, wind_c_mps=(60.0,) * 12))
    res = run_campaign(dataclasses.replace(prep, campaign=windy), seed=1, days=5)
    calm = run_campaign(prep, seed=1, days=5)

    def sprays(r):
        return sum(f.aircraft_id.startswith("sprayer") for f in r.flights)

    assert sprays(calm) > 50
    assert sprays(res) <= 0.1 * sprays(calm)  # only the rare calm hour (P(w < 6 m/s) ~ 1 %) lets them fly
    assert res.summary["weather_groundings"]["wind"] > 0
    assert res.summary["weather_grounded_hours"]["sprayer-t40"]["wind"] >= 40  # nearly every daylight hour
    assert res.summary["unflown"] > 0


def test_flight_hours_match_records(year):
    assert year.summary["flight_hours"] == pytest.approx(sum(f.duration_s for f in year.flights) / HOUR_S)


def test_hazard_scale_raises_failures(prep):
    base = run_campaign(prep, seed=5, days=SHORT_DAYS)
    risky = run_campaign(dataclasses.replace(prep, campaign=prep.campaign.with_hazard_scale(30.0)), seed=5,
                         days=SHORT_DAYS)
    safe = run_campaign(dataclasses.replace(prep, campaign=prep.campaign.with_hazard_scale(0.0)), seed=5,
                        days=SHORT_DAYS)

    def failed(r):
        return sum("failure" in f.extra and f.extra["failure"] != "recall" for f in r.flights)

    assert failed(safe) == 0 and safe.summary["unsafe"] == 0
    assert failed(risky) > 5 * max(failed(base), 1)
    assert risky.summary["unsafe"] > base.summary["unsafe"]
