"""The mid-campaign forecast (issue 15): contract, determinism, ordering, the hazard layer against its formula."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import numpy as np
import pytest
from click.testing import CliRunner

from uavsim.cli.main import cli
from uavsim.errors import DataFileError
from uavsim.records import Event
from uavsim.safety import stats
from uavsim.sim import forecast_layers as fl
from uavsim.sim.campaign import plan_campaign, run_campaign
from uavsim.sim.forecast import last_flight_date, run_forecast

AS_OF = date(2027, 5, 10)  # 21 days left: short exposure runs


@pytest.fixture(scope="module")
def plan():
    return plan_campaign(terrain="synthetic")  # the embedded terrain, whatever mosaics the cache holds


@pytest.fixture(scope="module")
def record(plan):
    """A flown record: the first 20 days of a simulated year."""
    return run_campaign(plan, seed=3, days=20).flights


def _fc(plan, flights, **kw):
    args = dict(as_of=AS_OF, replications=300, seed=5, exposure_runs=2)
    args.update(kw)
    return run_forecast(flights, plan, **args)


def test_contract_and_same_seed_same_answer(plan, record):
    a, b = _fc(plan, record), _fc(plan, record)
    assert a == b
    assert {"as_of", "flown", "remaining_days", "expected_remaining_flights", "p_meets_target",
            "final_lower_bound_quantiles", "unsafe_budget", "drivers", "replications"} <= set(a)
    n0, u0 = len(record), sum(f.outcome == "unsafe" for f in record)
    assert a["flown"] == {"flights": n0, "unsafe": u0,
                          "lower_bound": stats.clopper_pearson_lower(n0 - u0, n0, plan.campaign.confidence)}
    assert a["as_of"] == "2027-05-10" and a["remaining_days"] == 21 and a["replications"] == 300
    assert a["expected_remaining_flights"] > 100
    q = a["final_lower_bound_quantiles"]
    assert 0.9 < q["p5"] <= q["p50"] <= q["p95"] < 1.0
    n_final = int(np.median(n0 + np.full(1, a["expected_remaining_flights"])))
    assert abs(a["unsafe_budget"] - (stats.max_unsafe_for_target(n_final, 0.99, 0.95) - u0)) <= 1
    assert set(a["drivers"]) == {"hazards", "strata"}
    fan = a["fan"]
    assert fan["flown"]["dates"][0] == "2026-06-23" and fan["flown"]["dates"][-1] == "2027-05-10"
    assert fan["forecast"]["dates"][0] == "2027-05-11" and len(fan["forecast"]["p50"]) == 21
    assert fan["flown"]["flights"][-1] == n0
    assert [s["land_share"] for s in a["link_loss_sensitivity"]] == [0.0, 0.02, 0.08, 0.25]
    means = [s["final_unsafe_mean"] for s in a["link_loss_sensitivity"]]
    assert means == sorted(means)  # more landings in place, more unsafe flights (common random numbers)
    st = a["stress"]
    assert [x["rate_scale"] for x in st] == [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
    assert st[0]["final_unsafe_mean"] == pytest.approx(a["final_unsafe_mean"])
    assert [x["final_unsafe_mean"] for x in st] == sorted(x["final_unsafe_mean"] for x in st)
    ps = [x["p_meets_target"] for x in st]
    assert ps == sorted(ps, reverse=True)
    assert sum(c for _, c in a["final_unsafe_histogram"]) == 300


def test_another_seed_another_answer(plan, record):
    assert _fc(plan, record)["final_unsafe_mean"] != _fc(plan, record, seed=6)["final_unsafe_mean"]


def test_workers_do_not_change_the_answer(plan, record):
    one = _fc(plan, record, replications=100)
    two = _fc(plan, record, replications=100, workers=2)
    assert one == two


def _worse(record, k: int):
    """The same record with ``k`` more flights ending in a link loss and a landing in place (unsafe)."""
    out = list(record)
    safe = [i for i, f in enumerate(record) if f.outcome == "safe"][:k]
    for i in safe:
        f = record[i]
        ev = [Event(kind="LINK_LOSS", severity="incident", t_s=30.0, level="fail"),
              Event(kind="EMERGENCY_LANDING", severity="serious_incident", t_s=60.0, level="fail")]
        out[i] = dataclasses.replace(f, outcome="unsafe", severity="serious_incident", events=list(f.events) + ev)
    return out


def test_a_worse_record_lowers_p_meets_target(plan, record):
    good = _fc(plan, record)
    bad = _fc(plan, _worse(record, 8))
    assert bad["flown"]["unsafe"] == good["flown"]["unsafe"] + 8
    assert bad["p_meets_target"] < good["p_meets_target"]
    assert bad["final_lower_bound_quantiles"]["p50"] < good["final_lower_bound_quantiles"]["p50"]
    assert bad["unsafe_budget"] == good["unsafe_budget"] - 8
    link = {r["kind"]: r for r in bad["rates"]["rates"]}["radio_link"]
    assert link["events"] >= 8  # the record's link losses raised the posterior the forecast draws from


def test_nothing_left_is_the_record_alone(plan, record):
    d = run_forecast(record, plan, as_of=plan.campaign.end, replications=10, seed=1)
    n0, u0 = len(record), sum(f.outcome == "unsafe" for f in record)
    lb = stats.clopper_pearson_lower(n0 - u0, n0, 0.95)
    assert d["remaining_days"] == 0 and d["expected_remaining_flights"] == 0.0
    assert d["p_meets_target"] == float(lb > 0.99)
    assert d["final_lower_bound_quantiles"]["p50"] == pytest.approx(lb)


def test_as_of_defaults_to_the_last_flight_date(record):
    assert last_flight_date(record, 7.0) == date(2026, 7, 12)


def test_hazard_layer_matches_its_formula():
    """Without rate uncertainty or frailty, the failure share of each flight is 1 - exp(-rate * hours)."""
    n = 4000
    exp = fl.Exposure(np.zeros(n, np.int64), np.zeros(n, np.int64), np.full(n, 0.5), np.full(n, 0.2),
                      np.zeros(n, bool), np.zeros(n, np.int64), np.zeros(n, bool), np.zeros(n, np.int64))
    model = fl.HazardModel(("gps", "radio_link"), np.array([0.1, 0.05]), np.array([0.0, 1.0]),
                           np.array([1e12, 1e12]), np.array([[0, 0, 1.0, 0], [0, 0, 0, 1.0]]), 0.0, 1.0)
    table = np.zeros((1, 4, fl.TIME_BINS), bool)
    table[0, 3, :] = True  # only a crash is unsafe
    fails = crashes = 0
    rng = np.random.default_rng(0)
    for _ in range(20):
        unsafe, failed, mode, act = fl.draw_one(exp, model, table, rng, 1)
        fails += failed.size
        crashes += int(unsafe.sum())
        assert np.all((mode == 1) == (act == 3))  # the radio link crashes, GPS lands
    rate = 0.1 + 0.05 + 1.0 * 0.2
    p = -np.expm1(-rate * 0.5)
    assert fails / (20 * n) == pytest.approx(p, rel=0.03)
    assert crashes / fails == pytest.approx(0.25 / rate, rel=0.05)


def test_cli_forecast_json(tmp_path, plan):
    from uavsim.store import Store

    res = run_campaign(plan, seed=2, days=5)
    db = tmp_path / "flown.db"
    with Store(db) as s:
        s.add_run(res.run_id, res.flights)
    out = CliRunner().invoke(cli, ["forecast", "--db", str(db), "--source", "sim", "--as-of", "2027-05-25",
                                   "--replications", "50", "--exposure-runs", "1", "--seed", "1", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["flown"]["flights"] == len(res.flights) and doc["remaining_days"] == 6 and doc["replications"] == 50
    bad = CliRunner().invoke(cli, ["forecast", "--db", str(db), "--source", "sim", "--as-of", "2020-01-01"])
    assert bad.exit_code == 1 and "before the campaign starts" in bad.output


def test_report_gains_the_forecast_section(tmp_path, plan, record):
    from uavsim.report import build_report
    from uavsim.sim.forecast_figure import forecast_caption
    from uavsim.store import Store

    db = tmp_path / "flown.db"
    with Store(db) as s:
        s.add_run("r", record[:300])
    doc = run_forecast(record[:300], plan, as_of=AS_OF, replications=50, seed=1, exposure_runs=1)
    fc = tmp_path / "fc.json"
    fc.write_text(json.dumps(doc), encoding="utf-8")
    res = build_report(db, tmp_path / "rep", ("vi", "en"), ("png",), max_tracks=20, terrain=False, forecast=fc)
    assert str(tmp_path / "rep" / "figures" / "vi-forecast.png") in res["files"]
    assert (tmp_path / "rep" / "figures" / "en-forecast.png").stat().st_size > 10_000
    assert "as of 2027-05-10, 300 flights flown" in forecast_caption(doc, "en")
    assert "tính đến 2027-05-10 đã bay 300 chuyến" in forecast_caption(doc, "vi")
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    with pytest.raises(DataFileError, match="not a `uavsim forecast --json` document"):
        build_report(db, tmp_path / "rep2", ("en",), ("png",), terrain=False, forecast=bad)
    assert not (tmp_path / "rep2").exists()


def test_a_record_before_the_campaign_informs_the_rates_only(plan, record):
    trials = [dataclasses.replace(f, start_utc="2025-07-01" + f.start_utc[10:]) for f in record[:200]]
    trials = _worse(trials, 6)
    d = run_forecast(trials, plan, replications=50, seed=1, exposure_runs=1)
    assert d["as_of"] == "2026-06-22" and d["remaining_days"] == plan.campaign.days
    assert d["flown"] == {"flights": 0, "unsafe": 0, "lower_bound": 0.0}
    assert d["flights_before_campaign"] == 200
    link = {r["kind"]: r for r in d["rates"]["rates"]}["radio_link"]
    assert link["events"] >= 6 and link["posterior_mean_per_fh"] > link["prior_per_fh"]
