"""``uavsim ingest`` and ``uavsim flights`` through click's CliRunner: JSON contract, idempotent re-import,
parallel workers, and a fuzz test that no damaged input lets an exception out or leaves a partial record."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uavsim.cli.main import cli
from uavsim.logs.ingest import _init_worker, parse_file

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
LOGS = ROOT / ".." / "shared" / "data" / "logs"
FIXTURES = [DATA / "ac30_gps_noweek.log", DATA / "vehicle_gcs_camera.tlog"]
SMALL_SHARED = ["dronekit-dronekit-python/test.tlog", "erlerobot-logs/pxf_copter_27-9-2014_70.BIN",
                "erlerobot-logs/pxf_copter_23-9-2014_53.BIN", "px4-pyulog/sample_log_small.ulg",
                "ardupilot-ardupilot/mechanical_fail.log"]
needs_logs = pytest.mark.skipif(not LOGS.is_dir(), reason="shared logs (../shared/data/logs) not present")


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=True)


def dump(db: Path) -> dict[str, list]:
    """Everything in the store except import times."""
    con = sqlite3.connect(db)
    try:
        return {
            "files": con.execute("SELECT sha256, path, status, error, n_flights, corruption FROM files ORDER BY sha256").fetchall(),
            "flights": con.execute("SELECT * FROM flights ORDER BY id").fetchall(),
            "events": con.execute("SELECT * FROM events ORDER BY flight_id, seq").fetchall(),
            "telemetry": con.execute("SELECT * FROM telemetry ORDER BY flight_id").fetchall(),
        }
    finally:
        con.close()


def assert_no_partial_records(db: Path) -> None:
    con = sqlite3.connect(db)
    try:
        for sha, status, n in con.execute("SELECT sha256, status, n_flights FROM files"):
            got = con.execute("SELECT COUNT(*) FROM flights WHERE file_sha256 = ?", (sha,)).fetchone()[0]
            assert got == (n if status == "imported" else 0)
        orphans = con.execute("SELECT COUNT(*) FROM flights WHERE source = 'log' AND file_sha256 NOT IN "
                              "(SELECT sha256 FROM files WHERE status = 'imported')").fetchone()[0]
        assert orphans == 0
        assert con.execute("SELECT COUNT(*) FROM events WHERE flight_id NOT IN (SELECT id FROM flights)").fetchone()[0] == 0
    finally:
        con.close()


def test_ingest_json_contract_and_duplicates(tmp_path):
    db = tmp_path / "s.db"
    res = run("ingest", *map(str, FIXTURES), "--db", str(db), "--no-terrain", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)  # exactly one JSON document on stdout
    assert [f["status"] for f in doc["files"]] == ["imported", "imported"]
    for f in doc["files"]:
        assert set(f) >= {"path", "sha256", "status", "error", "flights"}
        assert len(f["sha256"]) == 64 and f["error"] is None
    tl = doc["files"][1]["flights"]
    assert [f["id"] for f in tl] == [f"{doc['files'][1]['sha256'][:16]}-{i}" for i in range(2)]
    assert tl[0]["source"] == "log" and tl[0]["source_ref"] == f"{doc['files'][1]['sha256']}:0"
    assert [f["severity"] for f in tl] == ["incident", "serious_incident"]
    assert tl[1]["events"][-1]["kind"] == "LOG_TRUNCATED_IN_AIR"
    assert tl[0]["start_utc"].startswith("2025-06-15T15:06")
    before = dump(db)
    again = run("ingest", *map(str, FIXTURES), "--db", str(db), "--no-terrain", "--json")
    assert again.exit_code == 0
    assert [f["status"] for f in json.loads(again.stdout)["files"]] == ["duplicate", "duplicate"]
    assert dump(db) == before


def test_flights_command_lists_the_store(tmp_path):
    db = tmp_path / "s.db"
    assert run("ingest", *map(str, FIXTURES), "--db", str(db), "--no-terrain").exit_code == 0
    res = run("flights", "--db", str(db), "--json")
    assert res.exit_code == 0
    flights = json.loads(res.stdout)["flights"]
    assert len(flights) == 3
    assert sum(f["outcome"] == "unsafe" for f in flights) == 1
    table = run("flights", "--db", str(db))
    assert "3 flights, 1 unsafe" in table.output
    assert "LOG_TRUNCATED_IN_AIR" in table.output


def test_rejected_file_exits_1_and_is_recorded(tmp_path):
    db = tmp_path / "s.db"
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x00" * 100)
    res = run("ingest", str(FIXTURES[0]), str(bad), "--db", str(db), "--no-terrain")
    assert res.exit_code == 1
    assert "rejected" in res.stderr and "bad.bin" in res.stderr
    with sqlite3.connect(db) as con:
        rows = dict(con.execute("SELECT path, status FROM files").fetchall())
    assert rows == {str(FIXTURES[0]): "imported", str(bad): "rejected"}


def test_bad_dem_is_a_clear_error(tmp_path):
    res = run("ingest", str(FIXTURES[0]), "--db", str(tmp_path / "s.db"), "--dem", str(tmp_path / "nope.tif"))
    assert res.exit_code == 1
    assert res.stderr.startswith("Error: ") and "nope.tif" in res.stderr


@needs_logs
def test_shared_folder_twice_gives_the_same_store_and_terrain_is_outside(tmp_path):
    db = tmp_path / "s.db"
    first = run("ingest", str(LOGS), "--db", str(db), "--json")
    assert first.exit_code == 0, first.stderr
    doc = json.loads(first.stdout)
    assert len(doc["files"]) == 22
    assert {f["status"] for f in doc["files"]} == {"imported"}
    checks = {f["extra"]["checks"].get("terrain") for d in doc["files"] for f in d["flights"]}
    assert checks <= {"outside_dem", "no_position"}  # the shared logs are not in Dien Bien
    before = dump(db)
    second = run("ingest", str(LOGS), "--db", str(db), "--json")
    assert {f["status"] for f in json.loads(second.stdout)["files"]} == {"duplicate"}
    assert dump(db) == before
    assert_no_partial_records(db)


@needs_logs
def test_workers_give_the_same_store_as_one_process(tmp_path):
    files = [str(LOGS / r) for r in SMALL_SHARED] + [str(f) for f in FIXTURES]
    one, two = tmp_path / "one.db", tmp_path / "two.db"
    assert run("ingest", *files, "--db", str(one), "--no-terrain").exit_code == 0
    assert run("ingest", *files, "--db", str(two), "--no-terrain", "--workers", "2").exit_code == 0
    assert dump(one) == dump(two)


def _damaged_corpus(folder: Path, rng: np.random.Generator) -> None:
    sources = list(FIXTURES) + ([LOGS / r for r in SMALL_SHARED] if LOGS.is_dir() else [])
    for k, src in enumerate(sources):
        data = src.read_bytes()
        for j, frac in enumerate((0.0, 0.013, 0.31, 0.77, 0.999)):
            (folder / f"trunc{k}_{j}{src.suffix}").write_bytes(data[: int(len(data) * frac)])
        flipped = bytearray(data)
        for pos in rng.integers(0, len(flipped), size=max(1, len(flipped) // 2000)):
            flipped[pos] ^= 1 << int(rng.integers(0, 8))
        (folder / f"flip{k}{src.suffix}").write_bytes(bytes(flipped))
        (folder / f"wrongext{k}{'.ulg' if src.suffix != '.ulg' else '.tlog'}").write_bytes(data)
    for j, ext in enumerate((".bin", ".BIN", ".tlog", ".log", ".ulg")):
        (folder / f"random{j}{ext}").write_bytes(rng.integers(0, 256, size=int(rng.integers(1, 5000)), dtype=np.uint8).tobytes())
        (folder / f"empty{j}{ext}").write_bytes(b"")
    (folder / "a_directory.bin").mkdir()
    (folder / "a_directory.bin" / "inner.tlog").write_bytes(FIXTURES[1].read_bytes()[:3000])


def test_fuzz_never_escapes_the_cli_and_never_leaves_a_partial_record(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _damaged_corpus(corpus, np.random.default_rng(20260623))
    db = tmp_path / "s.db"
    res = run("ingest", str(corpus), str(corpus / "a_directory.bin"), str(tmp_path / "missing.tlog"),
              "--db", str(db), "--no-terrain", "--json")
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert res.exit_code == 1  # empty and random files are rejected
    doc = json.loads(res.stdout)
    statuses = {Path(f["path"]).name: f["status"] for f in doc["files"]}
    assert statuses["missing.tlog"] == "rejected"
    assert all(statuses[f"empty{j}{e}"] == "rejected" for j, e in enumerate((".bin", ".BIN", ".tlog", ".log", ".ulg")))
    assert statuses["wrongext1.ulg"] == "imported"  # a tlog named .ulg is still a tlog
    for f in doc["files"]:
        assert (f["error"] is None) == (f["status"] != "rejected")
    assert_no_partial_records(db)
    # A second pass changes nothing.
    before = dump(db)
    run("ingest", str(corpus), "--db", str(db), "--no-terrain", "--json")
    assert dump(db) == before


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=40), st.integers(0, 10**9))
def test_bit_flips_and_cuts_never_raise(tmp_path, flips, cut):
    _init_worker(None, None, None, False)
    for src in FIXTURES:
        data = bytearray(src.read_bytes())
        for f in flips:
            data[f % len(data)] ^= 1 << (f % 8)
        p = tmp_path / f"f{src.suffix}"
        p.write_bytes(bytes(data[: max(1, cut % (len(data) + 1))]))
        res = parse_file(str(p))
        assert res.status in ("imported", "rejected")
        assert (res.error is None) == (res.status == "imported")
        for fl in res.flights:
            assert fl.outcome in ("safe", "unsafe")


def test_folder_search_is_recursive_and_by_extension(tmp_path):
    sub = tmp_path / "day1" / "drone2"
    sub.mkdir(parents=True)
    shutil.copy(FIXTURES[1], sub / "flight.TLOG")
    (sub / "notes.txt").write_text("not a log")
    res = run("ingest", str(tmp_path), "--db", str(tmp_path / "s.db"), "--no-terrain", "--json")
    doc = json.loads(res.stdout)
    assert [Path(f["path"]).name for f in doc["files"]] == ["flight.TLOG"]


def test_flights_inside_the_terrain_are_checked_against_it(tmp_path):
    """The tlog fixture flies at the Muong Ang medical centre: the embedded terrain covers it."""
    res = run("ingest", str(FIXTURES[1]), "--db", str(tmp_path / "s.db"), "--json")
    assert res.exit_code == 0, res.stderr
    flights = json.loads(res.stdout)["files"][0]["flights"]
    for f in flights:
        assert f["extra"]["checks"]["terrain"] in ("pass", "fail", "unknown")
        assert f["min_terrain_clearance_m"] is not None and f["max_agl_m"] is not None
    # Zones are checked too; the medical centre lies outside every restricted zone, and is the launch site.
    assert {f["extra"]["checks"]["zones"] for f in flights} == {"pass"}
    assert {f["site"] for f in flights} == {"ttyt-muong-ang"}


GOLDEN = DATA / "flights_table.golden"


def test_flights_table_matches_the_golden_file(tmp_path):
    """Human-facing output is pinned. Regenerate after an intended change with
    UAVSIM_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/test_cli_ingest.py -k golden"""
    import os

    db = tmp_path / "s.db"
    files = [DATA / "ac30_gps_noweek.log", DATA / "vehicle_gcs_camera.tlog", DATA / "two_vehicles.tlog",
             DATA / "brownout.tlog"]
    assert run("ingest", *map(str, files), "--db", str(db), "--no-terrain").exit_code == 0
    table = run("flights", "--db", str(db)).stdout
    if os.environ.get("UAVSIM_REGEN_GOLDEN"):
        GOLDEN.write_text(table, encoding="utf-8")
    assert table == GOLDEN.read_text(encoding="utf-8")


def test_the_same_flight_in_two_logs_is_marked_not_counted_twice(tmp_path):
    """The GCS's .tlog and another copy of the flight's log (different bytes, same flights)."""
    other = tmp_path / "same_flights.tlog"
    other.write_bytes(FIXTURES[1].read_bytes() + b"\x00" * 5)  # different file, same flights
    db = tmp_path / "s.db"
    doc = json.loads(run("ingest", str(FIXTURES[1]), str(other), str(DATA / "two_vehicles.tlog"), "--db", str(db),
                         "--no-terrain", "--json").stdout)
    first, second, unrelated = (f["flights"] for f in doc["files"])
    assert [f["extra"].get("same_flight_as") for f in first] == [None, None]
    assert [f["extra"]["same_flight_as"] for f in second] == [f["id"] for f in first]
    assert all(f["extra"]["same_flight_gap_m"] == 0.0 for f in second)
    # Aircraft 2 of two_vehicles.tlog flies at the same time 5 km away: not the same flight. (Its aircraft 1
    # flies the fixture's very track at the very time, so that one matches, as it should.)
    assert unrelated[1]["aircraft_id"] == "mavlink-2/1-ARDUPILOTMEGA-QUADROTOR"
    assert "same_flight_as" not in unrelated[1]["extra"]
    assert doc["files"][1]["corruption"]["same_flights"] == [[s["id"], f["id"]] for s, f in zip(second, first, strict=True)]


def test_flights_on_a_missing_store_is_a_clear_error_and_creates_nothing(tmp_path):
    res = CliRunner().invoke(cli, ["flights", "--db", str(tmp_path / "none.db")])
    assert res.exit_code == 1
    assert "no flight store here" in res.output
    assert not (tmp_path / "none.db").exists()
