"""Simulated flights written as MAVLink .tlog files read back with pymavlink."""

from __future__ import annotations

import dataclasses
import struct
from collections import Counter
from datetime import UTC, datetime

import pytest
from pymavlink import mavutil

from uavsim.sim.campaign import plan_campaign, run_campaign
from uavsim.sim.tlog_writer import write_logs, write_tlog


@pytest.fixture(scope="module")
def run():
    # Ten times the default failure rates, so that 40 days hold enough failures and contingencies to write.
    return run_campaign(plan_campaign().with_hazard_scale(10.0), seed=7, days=40)


def _read(path):
    m = mavutil.mavlink_connection(str(path))
    msgs = []
    while True:
        msg = m.recv_match()
        if msg is None:
            return msgs
        msgs.append(msg)


def test_nominal_flight_round_trip(run, tmp_path):
    f = next(x for x in run.flights if not x.events)
    path = write_tlog(f, tmp_path / "a.tlog")
    msgs = _read(path)
    kinds = Counter(m.get_type() for m in msgs)
    assert kinds["BAD_DATA"] == 0
    n = int(f.duration_s) + 1
    assert kinds["GLOBAL_POSITION_INT"] in (n, n + 1)
    assert kinds["GPS_RAW_INT"] == kinds["SYS_STATUS"] == kinds["GLOBAL_POSITION_INT"]
    hb = [m for m in msgs if m.get_type() == "HEARTBEAT"]
    armed = [bool(m.base_mode & mavutil.mavlink.MAV_MODE_FLAG_SAFETY_ARMED) for m in hb]
    assert armed[:3] == [False] * 3 and armed[-3:] == [False] * 3 and all(armed[3:-3])
    assert all(m.autopilot == mavutil.mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA for m in hb)
    assert {m.custom_mode for m in hb} == {3}  # AUTO throughout
    # the 8-byte big-endian timestamp of the first armed sample is the flight's start time
    start = datetime.strptime(f.start_utc, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    gp = [m for m in msgs if m.get_type() == "GLOBAL_POSITION_INT"]
    assert gp[0]._timestamp == pytest.approx(start + 0.001, abs=1e-5)
    with open(path, "rb") as fh:
        (t_us,) = struct.unpack(">Q", fh.read(8))
    assert t_us == int(start * 1e6) - 3_000_000
    # positions and heights survive to the encoder's resolution
    assert gp[0].lat / 1e7 == pytest.approx(f.telemetry.lat[0], abs=1e-7)
    assert gp[-1].alt / 1e3 == pytest.approx(f.telemetry.alt_msl_m[-1], abs=1e-3)
    assert max(m.relative_alt for m in gp) / 1e3 == pytest.approx(f.telemetry.rel_alt_m.max(), abs=3.0)  # 1 Hz resampling
    sys = [m for m in msgs if m.get_type() == "SYS_STATUS"]
    assert sys[0].battery_remaining == 100
    assert sys[-1].battery_remaining == round(f.battery_end_pct)


def test_failsafe_flight_has_statustext_and_mode_change(run, tmp_path):
    f = next(x for x in run.flights if x.extra.get("contingency") == "rtl")
    msgs = _read(write_tlog(f, tmp_path / "b.tlog"))
    texts = [m.text for m in msgs if m.get_type() == "STATUSTEXT"]
    assert texts
    modes = [m.custom_mode for m in msgs if m.get_type() == "HEARTBEAT"]
    assert 6 in modes  # RTL
    if f.extra["failure"] == "radio_link":
        assert any("Radio Failsafe" in t for t in texts)


def test_write_logs_limits_and_names(run, tmp_path):
    paths = write_logs(run.flights, tmp_path / "logs", max_logs=2)
    assert [p.name for p in paths] == [f"{run.flights[0].id}.tlog", f"{run.flights[1].id}.tlog"]
    assert all(p.stat().st_size > 1000 for p in paths)


def test_round_trip_through_the_importer_keeps_outcomes(run, tmp_path):
    """simulate -> .tlog -> ingest: the importer's classification agrees with the simulator's."""
    ingest = pytest.importorskip("uavsim.logs.ingest")
    prep = plan_campaign()
    failed = [i for i, f in enumerate(run.flights) if "failure" in f.extra][:15]
    sample = failed + list(range(0, len(run.flights), max(1, len(run.flights) // 10)))
    assert len(failed) >= 5
    for i in sample:
        f = run.flights[i]
        path = write_tlog(f, tmp_path / f"{f.id}.tlog", run.dense_telemetry(i))
        got, _ = ingest.analyse(ingest.read_log(path), ingest.sha256_of(path), prep.terrain,
                                prep.scenario.airspace, prep.rules)
        assert len(got) == 1, f.id
        assert got[0].outcome == f.outcome, (f.id, f.extra, got[0].events)
        # pilot-reported occurrences (a recall, a bird, a gust) leave no autopilot message to recognise
        if not {e.kind for e in f.events} & {"MISSION_ABORTED", "BIRD_STRIKE", "WEATHER"}:
            assert got[0].severity == f.severity, (f.id, f.extra, got[0].events)


def test_identical_sorties_make_distinct_files(run, tmp_path):
    f = run.flights[0]
    twin = dataclasses.replace(f, id=f.id + "x", aircraft_id=f.aircraft_id + "0")
    a = write_tlog(f, tmp_path / "a.tlog", run.track_of(f)).read_bytes()
    b = write_tlog(twin, tmp_path / "b.tlog", run.track_of(f)).read_bytes()
    assert a != b
    msgs = _read(tmp_path / "a.tlog")
    assert msgs[3].get_type() == "STATUSTEXT" and msgs[3].text == f"uavsim {f.id}"
