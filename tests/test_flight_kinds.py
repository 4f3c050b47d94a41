"""Flights and ground runs apart (issue 11): the JSON and CLI contract, the store migration, the statistics
(ground runs never counted, unverified flights counted apart, out-of-area flights left out of the headline)
and the same flight recorded twice (the more complete record decides how it ended)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from uavsim.cli.main import cli
from uavsim.logs.ingest import analyse
from uavsim.logs.raw import RawBuilder
from uavsim.records import Event, Flight
from uavsim.safety import stats
from uavsim.safety.rules import default_rules
from uavsim.store import _MIGRATIONS, SCHEMA_VERSION, Store

LOGS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "logs"
needs_logs = pytest.mark.skipif(not LOGS.is_dir(), reason="shared logs (../shared/data/logs) not present")
RULES = default_rules()


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=True)


@needs_logs
def test_bench_log_gives_ground_runs_in_json_and_flights_lists_none(tmp_path):
    # pxf_copter_25-9-2014_1.BIN: six armed segments on a bench or run-up, never airborne (labels).
    db = tmp_path / "s.db"
    doc = json.loads(run("ingest", str(LOGS / "erlerobot-logs/pxf_copter_25-9-2014_1.BIN"), "--db", str(db),
                         "--no-terrain", "--json").stdout)
    (entry,) = doc["files"]
    assert entry["flights"] == [] and len(entry["ground_runs"]) == 6
    g = entry["ground_runs"][0]
    assert g["kind"] == "ground_run" and g["takeoff_s"] is None and g["log_clock"] == "boot"
    assert g["log_t0_s"] == pytest.approx(16.4, abs=0.2)  # the labels' armed start, on the log's own clock
    assert g["airborne_evidence"]["decided_by"].startswith("ground run")
    listed = json.loads(run("flights", "--db", str(db), "--ground-runs", "--json").stdout)["ground_runs"]
    assert [x["id"] for x in listed] == [x["id"] for x in entry["ground_runs"]]
    assert json.loads(run("flights", "--db", str(db), "--json").stdout)["flights"] == []
    assert "6 ground runs" in run("flights", "--db", str(db), "--ground-runs").stdout


@needs_logs
def test_a_flight_records_take_off_landing_and_its_log_window(tmp_path):
    db = tmp_path / "s.db"
    doc = json.loads(run("ingest", str(LOGS / "beastayyg-ardupilot-log-diagnosis/sample.bin"), "--db", str(db),
                         "--no-terrain", "--json").stdout)
    first = doc["files"][0]["flights"][0]
    # Labels: armed 208.6 s, take-off 214.5 s, landing 249.5 s (boot clock).
    assert first["log_t0_s"] == pytest.approx(208.6, abs=0.2)
    assert first["log_t0_s"] + first["takeoff_s"] == pytest.approx(214.5, abs=2.0)
    assert first["log_t0_s"] + first["landing_s"] == pytest.approx(249.5, abs=2.0)
    assert "terrain_not_loaded" in first["checks_not_run"] and not first["unverified"]
    again = json.loads(run("ingest", str(LOGS / "beastayyg-ardupilot-log-diagnosis/sample.bin"), "--db", str(db),
                           "--json").stdout)
    assert again["files"][0]["status"] == "duplicate"  # re-importing stays a no-op
    stored = Store.existing(db).flights()
    assert [(f.takeoff_s, f.landing_s, f.log_clock) for f in stored] == [
        (f["takeoff_s"], f["landing_s"], f["log_clock"]) for f in doc["files"][0]["flights"]]


def test_a_flight_without_position_says_which_checks_did_not_run():
    b = RawBuilder("nofix", "dataflash-bin")
    for t in np.arange(0.0, 60.0, 0.2):
        b.clock(t)
        b.add("baro", t, float(np.interp(t, [0, 10, 20, 40, 50, 60], [0, 0, 10, 10, 0, 0])))
    raw = b.finish()
    raw.arm = [(2.0, True, "EV Id=10 (ARMED)"), (58.0, False, "EV Id=11 (DISARMED)")]
    (f,), _ = analyse(raw, "1" * 64, rules=RULES)
    assert f.kind == "flight" and f.unverified
    assert {"position", "terrain", "area"} <= set(f.checks_not_run)


def _flight(i: int, outcome: str = "safe", checks=(), kind: str = "flight", **kw) -> Flight:
    sev = "none" if outcome == "safe" else "accident"
    return Flight(id=f"f{i}", source="log", source_ref=str(i), start_utc=f"2025-01-{1 + i % 28:02d}T01:00:00Z",
                  duration_s=600.0, outcome=outcome, severity=sev, kind=kind, checks_not_run=list(checks), **kw)


def test_stats_count_unverified_apart_and_leave_out_ground_runs_and_out_of_area():
    flights = ([_flight(i) for i in range(90)] + [_flight(100 + i, checks=["position", "terrain", "area"])
                                                  for i in range(3)]
               + [_flight(200 + i, checks=["terrain"]) for i in range(5)] + [_flight(300, "unsafe")]
               + [_flight(400 + i, kind="ground_run", outcome="unsafe") for i in range(4)])
    s = stats.summarize(flights, n_boot=50)
    o = s.overall
    assert (o.flights, o.unsafe, o.unverified) == (96, 1, 5)
    assert (s.out_of_area, s.ground_runs) == (3, 4)
    assert o.lower_bound == pytest.approx(stats.clopper_pearson_lower(95, 96))
    assert o.lower_bound_unverified_unsafe == pytest.approx(stats.clopper_pearson_lower(90, 96))
    d = s.to_dict()
    assert (d["unverified"], d["out_of_area"], d["ground_runs_excluded"]) == (5, 3, 4)


def _event(kind: str, severity: str) -> Event:
    return Event(kind=kind, severity=severity, t_s=10.0, detail=kind, evidence="test")


def test_a_truncated_copy_cannot_turn_a_landed_flight_into_a_log_truncated_in_the_air():
    landed = _flight(1, landing_s=590.0, events=[_event("VIBRATION", "observation")])
    landed.severity = "observation"
    cut = _flight(2, "unsafe", landing_s=None, extra={"same_flight_as": "f1"},
                  events=[_event("LOG_TRUNCATED_IN_AIR", "serious_incident")])
    cut.severity, cut.duration_s = "serious_incident", 300.0
    (merged,) = stats._merge_repeats([landed, cut])
    assert (merged.severity, merged.outcome) == ("observation", "safe")
    assert sorted(e.kind for e in merged.events) == ["LOG_TRUNCATED_IN_AIR", "VIBRATION"]  # both kept
    assert merged.extra["end_decided_by"] == "f1" and merged.extra["superseded_events"]
    # When neither record saw a landing, the truncation stands.
    a = _flight(3, "unsafe", events=[_event("LOG_TRUNCATED_IN_AIR", "serious_incident")])
    a.severity = "serious_incident"
    b = _flight(4, extra={"same_flight_as": "f3"})
    (m,) = stats._merge_repeats([a, b])
    assert (m.severity, m.outcome) == ("serious_incident", "unsafe")


def test_a_version_1_store_migrates_and_keeps_its_rows_as_flights(tmp_path):
    db = tmp_path / "old.db"
    con = sqlite3.connect(db)
    con.executescript(_MIGRATIONS[0])
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    con.execute("INSERT INTO schema_version VALUES (1)")
    con.execute("INSERT INTO flights (id, source, source_ref, mission_type, outcome, severity, duration_s) "
                "VALUES ('old-0', 'sim', 'r:0', 'spray', 'safe', 'none', 60.0)")
    con.commit()
    con.close()
    with Store(db) as store:
        assert store.schema_version == SCHEMA_VERSION
        (f,) = store.flights()
        assert (f.id, f.kind, f.takeoff_s, f.checks_not_run) == ("old-0", "flight", None, [])
        assert store.count() == 1 and store.count(kind="ground_run") == 0


@needs_logs
def test_the_report_data_section_shows_ground_runs_and_unverified_flights(tmp_path):
    from uavsim.report.content import source_lines
    from uavsim.report.data import gather

    db = tmp_path / "s.db"
    files = [LOGS / "erlerobot-logs/pxf_copter_25-9-2014_1.BIN", LOGS / "beastayyg-ardupilot-log-diagnosis/sample.bin"]
    assert run("ingest", *map(str, files), "--db", str(db), "--no-terrain").exit_code == 0
    data = gather(db, n_boot=20, terrain=False)
    assert len(data.ground_runs) == 6 and len(data.flights) == 2
    lines = source_lines(data, "en")
    assert any(line.startswith("6 ground runs (armed but never airborne") for line in lines)
    assert any("ground runs" not in line for line in lines)


@needs_logs
def test_flights_far_from_the_scenario_are_left_out_of_its_headline_and_counted(tmp_path):
    db = tmp_path / "s.db"
    doc = json.loads(run("ingest", str(LOGS / "beastayyg-ardupilot-log-diagnosis/sample.bin"), "--db", str(db),
                         "--json").stdout)  # default terrain and Dien Bien scenario; the log was flown elsewhere
    flights = doc["files"][0]["flights"]
    assert len(flights) == 2 and all({"terrain", "area"} <= set(f["checks_not_run"]) for f in flights)
    s = json.loads(run("stats", "--db", str(db), "--json").stdout)
    assert (s["flights"], s["out_of_area"], s["ground_runs_excluded"]) == (0, 2, 0)
    assert "left out: 2 flights outside the terrain/scenario area" in run("stats", "--db", str(db)).stdout
