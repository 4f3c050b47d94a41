"""`uavsim stats`: JSON keys and values against an independent computation, strata, errors."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from scipy.stats import beta

from uavsim.cli.main import cli
from uavsim.report.sample import sample_flights
from uavsim.store import Store


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    flights = sample_flights(300, seed=21, unsafe_rate=0.03, points=20)
    path = tmp_path_factory.mktemp("stats") / "s.db"
    with Store(path) as s:
        s.add_run("run-1", [f for f in flights if f.source == "sim"], scenario="test", seed=21)
        s.add_file("ab" * 32, "day1.tlog", [f for f in flights if f.source == "log"])
    return path, flights


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_json_matches_an_independent_computation(store_path):
    path, flights = store_path
    res = _run("stats", "--db", str(path), "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    n = len(flights)
    u = sum(f.outcome == "unsafe" for f in flights)
    assert u > 0
    assert (doc["flights"], doc["unsafe"]) == (n, u)
    assert doc["safety_rate"] == pytest.approx((n - u) / n, rel=1e-12)
    assert doc["lower_bound"] == pytest.approx(beta.ppf(0.05, n - u, u + 1), rel=1e-9)
    assert (doc["confidence"], doc["target"]) == (0.95, 0.99)
    assert doc["meets_target"] is (doc["lower_bound"] > 0.99)
    assert doc["by"] == []
    # Clusters are local (UTC+7) flying days: 23:30 UTC belongs to the next day.
    local_days = {(datetime.fromisoformat(f.start_utc) + timedelta(hours=7)).date() for f in flights}
    assert doc["clustered"]["clusters"] == len(local_days)
    assert len(local_days) != len({f.start_utc[:10] for f in flights})


@pytest.mark.parametrize("by", ["mission_type", "site", "aircraft", "month", "source"])
def test_by_groups_partition_the_flights(store_path, by):
    path, flights = store_path
    doc = json.loads(_run("stats", "--db", str(path), "--by", by, "--json").stdout)
    assert sum(g["flights"] for g in doc["by"]) == len(flights)
    assert sum(g["unsafe"] for g in doc["by"]) == doc["unsafe"]
    for g in doc["by"]:
        for key in ("group", "flights", "unsafe", "safety_rate", "lower_bound", "confidence", "target",
                    "meets_target"):
            assert key in g
        assert g["lower_bound"] <= g["safety_rate"]
    if by == "source":
        assert {g["group"] for g in doc["by"]} == {"sim", "log"}


def test_confidence_and_target_options(store_path):
    path, _ = store_path
    low = json.loads(_run("stats", "--db", str(path), "--confidence", "0.8", "--json").stdout)
    high = json.loads(_run("stats", "--db", str(path), "--confidence", "0.99", "--target", "0.9", "--json").stdout)
    assert low["lower_bound"] > high["lower_bound"]
    assert high["target"] == 0.9
    assert high["meets_target"] is (high["lower_bound"] > 0.9)


def test_text_output_names_the_verdict(store_path):
    path, flights = store_path
    res = _run("stats", "--db", str(path), "--by", "site")
    assert res.exit_code == 0
    assert f"{len(flights)} flights" in res.output
    assert "target" in res.output
    assert "muong-thanh" in res.output


def test_missing_and_empty_store_exit_1_with_a_message(tmp_path):
    res = _run("stats", "--db", str(tmp_path / "none.db"), "--json")
    assert res.exit_code == 1
    assert res.stdout == ""
    assert "no flight store" in res.stderr
    Store(tmp_path / "empty.db").close()
    res = _run("stats", "--db", str(tmp_path / "empty.db"))
    assert res.exit_code == 1
    assert "holds no flights" in res.stderr


def test_bad_by_is_a_usage_error(store_path):
    res = _run("stats", "--db", str(store_path[0]), "--by", "colour")
    assert res.exit_code == 2


def test_source_filter(store_path):
    path, flights = store_path
    for source in ("sim", "log"):
        doc = json.loads(_run("stats", "--db", str(path), "--source", source, "--json").stdout)
        mine = [f for f in flights if f.source == source]
        assert doc["flights"] == len(mine)
        assert doc["unsafe"] == sum(f.outcome == "unsafe" for f in mine)
