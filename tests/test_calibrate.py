"""Calibration (issue 15): the Gamma–Poisson update, the event table, the overlay, and recovery of known rates."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace as dataclass_replace
from datetime import date

import pytest
from click.testing import CliRunner
from scipy.stats import gamma

from uavsim.cli.main import cli
from uavsim.errors import DataFileError
from uavsim.records import Event, Flight
from uavsim.scenario import DEFAULT_SCENARIO, Scenario
from uavsim.sim.calibrate import (
    EVENT_HAZARD,
    INTERVAL,
    apply_overlay,
    calibrate,
    fit_rates,
    flight_hazards,
    posterior_campaign,
    select_since,
    write_overlay,
)
from uavsim.sim.config import HAZARD_MODES, load_campaign
from uavsim.sim.dynamics import Dynamics, load_dynamics


@pytest.fixture(scope="module")
def camp():
    return load_campaign(Scenario.load())


def _flight(i: int, hours: float, kinds: tuple[str, ...] = (), level: str = "fail", day: str = "2026-07-01",
            shadow: float = 0.0) -> Flight:
    ev = [Event(kind=k, severity="incident", t_s=10.0, level=level) for k in kinds]
    return Flight(id=f"f{i}", source="log", source_ref=f"x:{i}", mission_type="medical",
                  start_utc=f"{day}T03:00:00Z", duration_s=hours * 3600.0, outcome="safe", severity="none",
                  events=ev, extra={"shadowed_fraction": shadow})


def test_event_table_maps_onto_the_campaign_hazards():
    assert set(EVENT_HAZARD.values()) == set(HAZARD_MODES)
    f = _flight(0, 1.0, ("LINK_LOSS", "FAILSAFE_RADIO", "GPS_DEGRADED"))
    assert flight_hazards(f) == {"radio_link", "gps"}  # two radio events are one radio failure
    assert flight_hazards(_flight(1, 1.0, ("LINK_LOSS",), level="warn")) == set()  # an observation is no failure


def test_gamma_poisson_update_is_exact(camp):
    # 100 flights of 2 h; 3 show a motor failure, 1 a radio failsafe; prior worth 500 h
    flights = [_flight(i, 2.0, ("MOTOR_FAILURE",) if i < 3 else ("FAILSAFE_RADIO",) if i == 3 else ()) for i in range(100)]
    dyn = Dynamics(rate_prior_shadow_frac=0.0)
    fits, unmapped = fit_rates(flights, camp.hazards, 500.0, dyn)
    by = {r.kind: r for r in fits}
    m = next(h for h in camp.hazards if h.mode == "motor_esc")
    a0 = m.per_fh * 500.0
    at_risk_h = 96 * 2.0 + 4 * 10.0 / 3600.0  # a flight is at risk until its first failure (t = 10 s)
    shape, rate = a0 + 3, a0 + m.per_fh * at_risk_h
    r = by["motor_esc"]
    assert r.events == 3 and r.hours == pytest.approx(at_risk_h)
    assert r.posterior_mean_per_fh == pytest.approx(m.per_fh * shape / rate)
    assert r.lo == pytest.approx(m.per_fh * gamma.ppf((1 - INTERVAL) / 2, shape, scale=1 / rate))
    assert r.hi == pytest.approx(m.per_fh * gamma.ppf((1 + INTERVAL) / 2, shape, scale=1 / rate))
    assert by["radio_link"].events == 1 and by["battery"].events == 0
    assert by["battery"].posterior_mean_per_fh < by["battery"].prior_per_fh  # 200 h without one lowers it
    assert unmapped == {}


def test_shadow_hours_weigh_the_radio_link_expectation(camp):
    link = next(h for h in camp.hazards if h.mode == "radio_link")
    fits, _ = fit_rates([_flight(0, 10.0, shadow=0.5)], camp.hazards, 1000.0, Dynamics(rate_prior_shadow_frac=0.28))
    r = next(x for x in fits if x.kind == "radio_link")
    assert r.expected_events == pytest.approx(link.per_fh * 10.0 + link.shadow_per_fh * 5.0)
    assert r.prior_shape == pytest.approx((link.per_fh + link.shadow_per_fh * 0.28) * 1000.0)


def test_since_keeps_local_dates_from_the_day_on():
    fl = [_flight(0, 1.0, day="2026-07-01"), _flight(1, 1.0, day="2026-08-01")]
    assert [f.id for f in select_since(fl, date(2026, 7, 15))] == ["f1"]
    assert [f.id for f in select_since(fl, None, date(2026, 7, 15))] == ["f0"]


def test_overlay_round_trip_and_provenance(camp, tmp_path):
    flights = [_flight(i, 1.5, ("BATTERY_LOW",) if i % 10 == 0 else ()) for i in range(50)]
    cal = calibrate(flights, camp.hazards, 1000.0, store="x.db", store_sha256="ab" * 32, source="log")
    path = write_overlay(cal, tmp_path / "cal.toml")
    text = path.read_text(encoding="utf-8")
    assert "fitted from 50 flights, 75.0 hours, store sha256 abababababab" in text
    camp2, dyn2 = apply_overlay(camp, load_dynamics(camp.path), path)
    want, dyn_want = posterior_campaign(camp, load_dynamics(camp.path), cal)
    for a, b in zip(camp2.hazards, want.hazards, strict=True):
        assert a.per_fh == pytest.approx(b.per_fh) and a.shadow_per_fh == pytest.approx(b.shadow_per_fh)
        assert dyn2.rate_shape[a.mode] == pytest.approx(dyn_want.rate_shape[a.mode])
    bat = next(h for h in camp2.hazards if h.mode == "battery")
    assert bat.source.startswith("fitted from 50 flights")
    assert dyn2.rate_shape["battery"] == pytest.approx(0.4e-3 * 1000.0 + 5)


def test_a_bad_overlay_is_one_clear_error(camp, tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[calibration]\nflights = 1\n[hazards.warp_drive]\nper_fh = 1.0\nrate_shape = 1.0\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="warp_drive"):
        apply_overlay(camp, Dynamics(), p)
    p.write_text("[hazards.gps]\nper_fh = 1.0\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="not a calibration overlay"):
        apply_overlay(camp, Dynamics(), p)


@pytest.fixture(scope="module")
def exact_scenario(tmp_path_factory):
    """The default scenario with no rate uncertainty and no frailty: the rates are exactly what they say."""
    root = tmp_path_factory.mktemp("exact") / "dienbien"
    shutil.copytree(DEFAULT_SCENARIO, root)
    p = root / "campaign.toml"
    text = p.read_text(encoding="utf-8").replace("rate_prior_fh = 1000.0", "rate_prior_fh = 1.0e12")
    p.write_text(text.replace("frailty_cv = 0.5", "frailty_cv = 0.0").replace(
        "common_cause_rain_factor = 4.0", "common_cause_rain_factor = 1.0"), encoding="utf-8")
    return root


def test_recovery_of_three_times_the_rates(exact_scenario, tmp_path):
    """A store simulated at 3x the scenario's rates (four sandbox years, ~3,600 h) calibrates back: the radio
    link (hundreds of events) to within its interval, which rules out 1x; the rare component hazards pooled
    (a common multiplier, ~10 events) likewise. Each rare hazard alone has too few events for its interval
    to carry weight, so it is not asked to."""
    from uavsim.sim.campaign import plan_campaign, run_campaign
    from uavsim.store import Store

    plan = plan_campaign(exact_scenario, "synthetic").with_hazard_scale(3.0)
    db = tmp_path / "sim.db"
    n = hours = 0
    with Store(db) as s:
        for seed in (1, 2, 3, 4):
            res = run_campaign(plan, seed=seed)
            s.add_run(res.run_id, res.flights)
            n, hours = n + len(res.flights), hours + res.summary["flight_hours"]
    out = CliRunner().invoke(cli, ["calibrate", "--db", str(db), "--scenario", str(exact_scenario), "--source", "sim",
                                   "--prior-weight-h", "100", "--out", str(tmp_path / "c.toml"), "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["flights"] == n and doc["flight_hours"] == pytest.approx(hours)
    assert {"kind", "prior_per_fh", "posterior_mean_per_fh", "lo", "hi", "events", "hours"} <= set(doc["rates"][0])
    def interval(rates: list[dict], p: float) -> tuple[float, float]:
        shape = sum(r["posterior_shape"] for r in rates)
        rate = sum(r["prior_shape"] + r["expected_events_at_prior"] for r in rates)
        return tuple(gamma.ppf([(1 - p) / 2, (1 + p) / 2], shape, scale=1.0 / rate))

    link = next(r for r in doc["rates"] if r["kind"] == "radio_link")
    assert link["events"] >= 100 and link["lo"] > 1.5 * link["prior_per_fh"]  # informative: 1x is ruled out
    lo, hi = interval([link], 0.99)  # a 90 % interval misses one time in ten by design: test at 99 %
    assert lo <= 3.0 <= hi
    rare = [r for r in doc["rates"] if r["kind"] != "radio_link"]
    lo, hi = interval(rare, 0.99)
    assert sum(r["events"] for r in rare) >= 4 and lo <= 3.0 <= hi and lo > 1.0
    assert (tmp_path / "c.toml").is_file()


def test_cli_missing_store_is_one_line(tmp_path):
    out = CliRunner().invoke(cli, ["calibrate", "--db", str(tmp_path / "none.db"), "--out", str(tmp_path / "c.toml")])
    assert out.exit_code == 1 and out.output.startswith("Error:") and "no flight store" in out.output
    assert not (tmp_path / "c.toml").exists()


def test_simulate_takes_the_overlay(camp, tmp_path):
    flights = [_flight(i, 1.0, ("GPS_DEGRADED",) if i < 20 else ()) for i in range(200)]
    path = write_overlay(calibrate(flights, camp.hazards, 1000.0, store="x.db", store_sha256="cd" * 32), tmp_path / "c.toml")
    out = CliRunner().invoke(cli, ["simulate", "--no-store", "--days", "2", "--dem", "synthetic", "--calibration",
                                   str(path), "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["calibration"] == str(path) and doc["flights"] > 0
    from uavsim.sim.campaign import plan_campaign

    plan = plan_campaign(terrain="synthetic").with_calibration(path)
    gps = next(h for h in plan.campaign.hazards if h.mode == "gps")
    assert gps.per_fh > 10 * 3.0e-4 and plan.dynamics.rate_shape["gps"] == pytest.approx(0.3 + 20)


def test_rates_by_aircraft_class(camp):
    fl = [dataclass_replace(_flight(i, 1.0, ("MOTOR_FAILURE",) if i < 5 else ()), aircraft_id=f"sprayer-t40#{i % 3 + 1}")
          for i in range(50)]
    fl += [dataclass_replace(_flight(100 + i, 2.0), aircraft_id="medical-vtol#1") for i in range(20)]
    doc = calibrate(fl, camp.hazards, 1000.0).to_dict()
    by = {c["aircraft_class"]: c for c in doc["by_class"]}
    assert set(by) == {"sprayer-t40", "medical-vtol"}
    assert by["sprayer-t40"]["flights"] == 50 and by["medical-vtol"]["flight_hours"] == pytest.approx(40.0)
    motor = {c: next(r for r in by[c]["rates"] if r["kind"] == "motor_esc") for c in by}
    assert motor["sprayer-t40"]["events"] == 5 and motor["medical-vtol"]["events"] == 0
    assert motor["sprayer-t40"]["posterior_mean_per_fh"] > motor["medical-vtol"]["posterior_mean_per_fh"]
