"""``uavsim simulate`` through click's CliRunner: JSON, store, logs, replications, bad scenarios."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

from uavsim.cli.main import cli
from uavsim.scenario import DEFAULT_SCENARIO
from uavsim.store import Store


def test_simulate_json_store_and_logs(tmp_path):
    db = tmp_path / "s.db"
    r = CliRunner().invoke(cli, ["simulate", "--days", "3", "--seed", "5", "--db", str(db), "--json",
                                 "--write-logs", str(tmp_path / "logs"), "--max-logs", "2"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert {"flights", "unsafe", "safety_rate", "lower_bound"} <= set(doc)
    assert doc["flights"] > 20 and doc["run_id"] == "dienbien-5"
    assert doc["logs_written"] == 2 and len(list((tmp_path / "logs").glob("*.tlog"))) == 2
    with Store(db) as s:
        flights = s.flights(run_id="dienbien-5")
    assert len(flights) == doc["flights"]
    assert all(f.source == "sim" for f in flights)
    assert sum(f.outcome == "unsafe" for f in flights) == doc["unsafe"]


def test_simulate_replications_in_workers(tmp_path):
    args = ["simulate", "--days", "2", "--seed", "9", "--replications", "3", "--no-store", "--json"]
    r2 = CliRunner().invoke(cli, args + ["--workers", "2"])
    r1 = CliRunner().invoke(cli, args + ["--workers", "1"])
    assert r2.exit_code == 0, r2.output
    d2, d1 = json.loads(r2.stdout), json.loads(r1.stdout)
    assert d2["replications"] == 3
    assert {"p_meets_target", "safety_rate_quantiles", "lower_bound_quantiles"} <= set(d2)
    assert 0.0 <= d2["p_meets_target"] <= 1.0
    def figures(doc):
        return [{k: v for k, v in r.items() if k not in ("cpu_s", "wall_s")} for r in doc["runs"]]

    assert figures(d2) == figures(d1)  # a replication depends on (seed, index), not on the workers
    assert len({r["flights"] for r in d2["runs"]} | {r["lower_bound"] for r in d2["runs"]}) > 1


def test_bad_scenario_exits_1_naming_field_and_file(tmp_path):
    root = tmp_path / "sc"
    shutil.copytree(DEFAULT_SCENARIO, root)
    p = root / "campaign.toml"
    p.write_text(p.read_text(encoding="utf-8").replace("crews = 3\n", "crews = \"three\"\n", 1), encoding="utf-8")
    r = CliRunner().invoke(cli, ["simulate", "--scenario", str(root), "--days", "1", "--no-store", "--json"])
    assert r.exit_code == 1
    assert "campaign.toml" in r.stderr and "crews" in r.stderr
    assert r.stdout == ""
