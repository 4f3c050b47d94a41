"""Safety statistics: values pinned from MISSION.md, invariants checked with hypothesis."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uavsim.errors import InputError, StoreError
from uavsim.records import Flight
from uavsim.safety import stats
from uavsim.store import Store


def _flights(n: int, unsafe: int, seed: int = 0, days: int = 30) -> list[Flight]:
    rng = np.random.default_rng(seed)
    bad = set(rng.choice(n, size=unsafe, replace=False).tolist())
    out = []
    for i in range(n):
        day = int(rng.integers(0, days))
        out.append(Flight(
            id=f"f{i:05d}", source="sim" if i % 3 else "log", source_ref=f"r:{i}",
            mission_type=("spray", "medical", "cargo")[i % 3], site=("hua-nam", "ban-cu", None)[i % 3],
            aircraft_id=f"ac{i % 4}", start_utc=None if i % 17 == 0 else f"2026-{7 + day // 28:02d}-{1 + day % 28:02d}T08:00:00Z",
            duration_s=float(rng.uniform(300, 1500)), outcome="unsafe" if i in bad else "safe",
            severity="accident" if i in bad else "none",
        ))
    return out


# -- MISSION.md pins -----------------------------------------------------------------------------------------
def test_6000_flights_47_unsafe_pass_48_do_not():
    assert stats.clopper_pearson_lower(6000 - 47, 6000, 0.95) > 0.99
    assert stats.clopper_pearson_lower(6000 - 48, 6000, 0.95) < 0.99
    assert stats.max_unsafe_for_target(6000, 0.99, 0.95) == 47


def test_zero_failures_need_299_flights():
    assert stats.clopper_pearson_lower(299, 299, 0.95) > 0.99
    assert stats.clopper_pearson_lower(298, 298, 0.95) < 0.99
    assert stats.min_flights_for_target(0.0, 0.99, 0.95) == 299
    assert stats.flights_needed(0, 0) == 299
    assert stats.flights_needed(100, 0) == 199


@pytest.mark.parametrize(("n", "allowed"), [(500, 1), (1500, 8), (3000, 20), (6000, 47)])
def test_checkpoints(n, allowed):
    assert stats.max_unsafe_for_target(n) == allowed
    assert stats.rate_stats(_flights(n, allowed)).unsafe_allowed == allowed
    assert stats.rate_stats(_flights(n, allowed)).meets_target
    assert not stats.rate_stats(_flights(n, allowed + 1)).meets_target


def test_flights_needed_is_zero_once_shown_and_none_when_rate_too_high():
    assert stats.flights_needed(6000, 47) == 0
    more = stats.flights_needed(6000, 48)
    assert more is not None
    assert more > 0
    # At the projected total with the same rate, the bound passes; one flight fewer it does not.
    total = 6000 + more
    assert stats.clopper_pearson_lower(total * (1 - 48 / 6000), total) > 0.99
    assert stats.clopper_pearson_lower((total - 1) * (1 - 48 / 6000), total - 1) <= 0.99
    assert stats.flights_needed(100, 2) is None  # 2 % unsafe can never show 99 %


def test_wilson_matches_textbook_value():
    # Wilson 95 % for 95/100: (0.8882, 0.9785) (Newcombe 1998 method 3 formula)
    lo, hi = stats.wilson_interval(95, 100, 0.95)
    assert lo == pytest.approx(0.88825, abs=1e-4)
    assert hi == pytest.approx(0.97846, abs=1e-4)


def test_bad_arguments_raise_input_error():
    with pytest.raises(InputError, match="confidence"):
        stats.clopper_pearson_lower(5, 10, 1.5)
    with pytest.raises(InputError, match="successes"):
        stats.wilson_interval(11, 10)
    with pytest.raises(InputError, match="--by"):
        stats.summarize(_flights(10, 0), by="colour")
    with pytest.raises(InputError, match="target"):
        stats.rate_stats(_flights(10, 0), target=1.0)


# -- invariants ----------------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5000), st.data(), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_bounds_bracket_the_rate(n, data, conf):
    k = data.draw(st.integers(0, n))
    lower = stats.clopper_pearson_lower(k, n, conf)
    lo, hi = stats.wilson_interval(k, n, conf)
    assert 0.0 <= lower <= k / n <= stats.clopper_pearson_upper(k, n, conf) <= 1.0
    assert lo <= k / n + 1e-12
    assert k / n <= hi + 1e-12


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 3000), st.data())
def test_lower_bound_monotone_in_failures_and_confidence(n, data):
    unsafe = data.draw(st.integers(0, n - 1))
    assert stats.clopper_pearson_lower(n - unsafe - 1, n) <= stats.clopper_pearson_lower(n - unsafe, n)
    assert stats.clopper_pearson_lower(n - unsafe, n, 0.99) <= stats.clopper_pearson_lower(n - unsafe, n, 0.9)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 300), st.integers(0, 4))
def test_more_failures_never_need_fewer_flights(n, unsafe):
    unsafe = min(unsafe, n)
    a = stats.flights_needed(n + 10, unsafe)
    b = stats.flights_needed(n + 10, unsafe + 1)
    if a is None:
        assert b is None
    elif b is not None:
        assert b >= a


# -- summaries, strata, clusters ----------------------------------------------------------------------------
def test_summary_strata_add_up_and_unknowns_are_named():
    fl = _flights(600, 9, seed=3)
    for by in stats.STRATA:
        s = stats.summarize(fl, by=by, n_boot=200)
        assert sum(g.flights for g in s.by) == 600
        assert sum(g.unsafe for g in s.by) == 9
        assert s.overall.unsafe == 9
    sites = {g.group for g in stats.summarize(fl, by="site").by}
    assert sites == {"hua-nam", "ban-cu", "unknown"}
    months = {g.group for g in stats.summarize(fl, by="month").by}
    assert "unknown" in months
    assert "2026-07" in months


def test_rates_per_1000_flights_and_hours():
    fl = _flights(400, 4, seed=5)
    r = stats.rate_stats(fl)
    hours = sum(f.duration_s for f in fl) / 3600.0
    assert r.unsafe_per_1000_flights == pytest.approx(10.0)
    assert r.unsafe_per_1000_hours == pytest.approx(4000.0 / hours)
    assert r.severity_counts["accident"] == 4
    assert r.severity_counts["none"] == 396


def test_json_document_has_design_keys():
    d = stats.summarize(_flights(200, 1), by="mission_type", n_boot=100).to_dict()
    for key in ("flights", "unsafe", "safety_rate", "lower_bound", "confidence", "target", "meets_target", "by"):
        assert key in d
    assert d["safety_rate"] == pytest.approx(199 / 200)
    assert {g["group"] for g in d["by"]} == {"spray", "medical", "cargo"}
    assert all("lower_bound" in g and "meets_target" in g for g in d["by"])


def test_cluster_bootstrap_is_seeded_and_widens_when_failures_bunch():
    n = 3000
    safe = np.ones(n, bool)
    safe[:30] = False  # 30 failures
    spread = [str(i % 100) for i in range(n)]  # one failure on each of 30 days
    bunched = [str(i // 30) for i in range(n)]  # all 30 failures on day 0
    a = stats.cluster_bootstrap(safe, spread, rng=np.random.default_rng(7))
    b = stats.cluster_bootstrap(safe, spread, rng=np.random.default_rng(7))
    assert a == b
    c = stats.cluster_bootstrap(safe, bunched, rng=np.random.default_rng(7))
    width = lambda r: r["interval"][1] - r["interval"][0]  # noqa: E731
    assert width(c) > 1.5 * width(a)
    assert a["clusters"] == 100
    assert c["lower_bound"] < a["lower_bound"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.booleans()), min_size=1, max_size=200), st.integers(0, 2**31))
def test_cluster_bootstrap_bounds_are_ordered_and_in_range(rows, seed):
    days = [str(d) for d, _ in rows]
    safe = np.array([ok for _, ok in rows])
    r = stats.cluster_bootstrap(safe, days, n_boot=200, rng=np.random.default_rng(seed))
    lo, hi = r["interval"]
    assert 0.0 <= lo <= r["lower_bound"] <= hi <= 1.0  # the one-sided bound sits above the two-sided one
    assert r["clusters"] == len(set(days))
    if safe.all():
        assert (lo, hi) == (1.0, 1.0)


def test_cluster_labels_day_and_aircraft_day():
    fl = _flights(40, 0, seed=1)
    day = stats.cluster_labels(fl, "day")
    acday = stats.cluster_labels(fl, "aircraft-day")
    assert len(set(acday)) >= len(set(day))
    assert day[0].startswith("undated:")  # flight 0 has no start time: its own cluster
    with pytest.raises(InputError, match="cluster"):
        stats.cluster_labels(fl, "week")


def test_days_and_months_are_local():
    def fl(i: int, start: str) -> Flight:
        return Flight(id=f"f{i}", source="log", source_ref=f"x:{i}", aircraft_id="ac1", start_utc=start, outcome="safe")

    # 23:30 UTC on 1 July and 02:00 UTC on 2 July are both 2 July in Điện Biên (UTC+7).
    same_day = [fl(0, "2026-07-01T23:30:00Z"), fl(1, "2026-07-02T02:00:00.50Z")]
    assert stats.cluster_labels(same_day, "day") == ["2026-07-02", "2026-07-02"]
    assert stats.cluster_labels(same_day, "day", utc_offset_h=0.0) == ["2026-07-01", "2026-07-02"]
    assert stats.cluster_labels(same_day, "aircraft-day") == ["ac1|2026-07-02", "ac1|2026-07-02"]
    assert stats.stratum_of(fl(2, "2026-07-31T20:00:00Z"), "month") == "2026-08"
    assert stats.stratum_of(fl(2, "2026-07-31T20:00:00Z"), "month", utc_offset_h=0.0) == "2026-07"
    assert stats.stratum_of(fl(3, None), "month") == "unknown"


def test_cumulative_series_matches_pointwise_bound():
    safe = np.array([True] * 50 + [False] + [True] * 300)
    rate, lower = stats.cumulative_series(safe)
    for i in (0, 49, 50, 350):
        k = int(safe[: i + 1].sum())
        assert rate[i] == pytest.approx(k / (i + 1))
        assert lower[i] == pytest.approx(stats.clopper_pearson_lower(k, i + 1))


def test_load_flights_missing_and_empty_store(tmp_path):
    with pytest.raises(StoreError, match="no flight store"):
        stats.load_flights(tmp_path / "nope.db")
    assert not (tmp_path / "nope.db").exists()
    Store(tmp_path / "empty.db").close()
    with pytest.raises(StoreError, match="holds no flights"):
        stats.load_flights(tmp_path / "empty.db")
    with Store(tmp_path / "one.db") as s:
        s.add_run("r1", _flights(5, 1))
    assert len(stats.load_flights(tmp_path / "one.db")) == 5


def test_a_flight_recorded_twice_counts_once(tmp_path):
    from uavsim.records import Flight
    from uavsim.safety.stats import load_flights
    from uavsim.store import Store

    a = Flight("aaaa-0", "log", "aaaa:0", outcome="safe")
    b = Flight("bbbb-0", "log", "bbbb:0", outcome="unsafe", severity="accident", extra={"same_flight_as": "aaaa-0"})
    c = Flight("cccc-0", "log", "cccc:0", outcome="safe")
    with Store(tmp_path / "s.db") as st:
        st.add_file("aaaa", "gcs.tlog", [a])
        st.add_file("bbbb", "00000001.BIN", [b])
        st.add_file("cccc", "other.BIN", [c])
    once = {f.id: f for f in load_flights(tmp_path / "s.db")}
    assert sorted(once) == ["aaaa-0", "cccc-0"]
    # The aircraft's own log saw the accident the ground station missed: the worse verdict counts.
    assert (once["aaaa-0"].outcome, once["aaaa-0"].severity) == ("unsafe", "accident")
    assert len(load_flights(tmp_path / "s.db", include_repeats=True)) == 3
