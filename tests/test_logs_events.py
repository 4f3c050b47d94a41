"""The shared real logs: every one imports, the README's ERR/EV codes become events of the right kind,
the crash logs are accidents, and in-air time agrees with pymavlink's mavflighttime rule."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from pymavlink import mavutil

from uavsim.logs import analyse, read_log
from uavsim.records import Flight

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / ".." / "shared" / "data"
LOGS = DATA_DIR / "logs"
pytestmark = pytest.mark.skipif(not LOGS.is_dir(), reason="shared logs (../shared/data/logs) not present")

# The kind each ArduPilot ERR subsystem must produce (AP_Logger.h LogErrorSubsystem), written out here
# independently of uavsim.logs.codes so that a wrong table entry fails.
EXPECTED_ERR_KIND = {
    "FAILSAFE_RADIO": "FAILSAFE_RADIO", "FAILSAFE_BATT": "FAILSAFE_BATTERY", "FAILSAFE_GPS": "FAILSAFE_GPS",
    "FAILSAFE_FENCE": "FAILSAFE_FENCE", "CRASH_CHECK": "CRASH", "EKFCHECK": "EKF_VARIANCE",
    "GPS": "GPS_DEGRADED", "BARO": "SENSOR_ERROR", "FLIGHT_MODE": "SYSTEM_ERROR",
}
ERR_IDS = {"FAILSAFE_RADIO": 5, "FAILSAFE_BATT": 6, "FAILSAFE_GPS": 7, "FAILSAFE_FENCE": 9, "FLIGHT_MODE": 10,
           "GPS": 11, "CRASH_CHECK": 12, "EKFCHECK": 16, "BARO": 18}
# Safety-relevant EV ids (AP_Logger.h LogEvent) and their kinds.
EXPECTED_EV_KIND = {"MOTORS_EMERGENCY_STOPPED": ("MOTOR_FAILURE", 54), "LOST_GPS": ("GPS_DEGRADED", 19),
                    "PARACHUTE_RELEASED": ("EMERGENCY_LANDING", 51)}
CRASH_LOGS = ["ardupilot-ardupilot/mechanical_fail.log",
              "beastayyg-ardupilot-log-diagnosis/log_0036_mechanical_failure.bin",
              "erlerobot-logs/pxf_copter_10-11-2014_103.BIN", "erlerobot-logs/pxf_copter_15-12-2014_16.BIN",
              "erlerobot-logs/pxf_copter_09-10-2014_25.BIN"]  # the labels' accidents (23-9 is a bench board)


def _readme_rows() -> dict[str, list[str]]:
    """file -> the README's 'events read by pymavlink' entries."""
    rows = {}
    for line in (DATA_DIR / "README.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"\|\s*`([^`]+)`\s*\|", line)
        if m and m.group(1).startswith(tuple(p.name for p in LOGS.iterdir())):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows[m.group(1)] = [e.strip() for e in cells[-1].split(",") if e.strip() not in ("", "—")]
    return rows


def _all_logs() -> list[str]:
    return sorted(str(p.relative_to(LOGS)) for p in LOGS.rglob("*") if p.is_file())


@cache
def _records(rel: str) -> tuple[list[Flight], dict]:
    """Every record of the file (flights and ground runs) and its summary."""
    return analyse(read_log(LOGS / rel), "0" * 64)


def _flights(rel: str) -> tuple[list[Flight], dict]:
    """The file's flights (ground runs left out) and its summary."""
    records, summary = _records(rel)
    return [f for f in records if f.kind == "flight"], summary


def _evidence(rel: str) -> list[tuple[str, str]]:
    flights, summary = _records(rel)  # a ground run's occurrences are kept with their evidence too
    return [(e.kind, e.evidence) for f in flights for e in f.events]


def test_readme_lists_all_22_logs():
    assert sorted(_readme_rows()) == _all_logs()
    assert len(_all_logs()) == 22


@pytest.mark.parametrize("rel", _all_logs() if LOGS.is_dir() else [])
def test_every_shared_log_imports(rel):
    flights, summary = _flights(rel)
    assert summary["messages_read"] > 0
    for f in flights:
        assert f.duration_s >= 0
        assert f.outcome in ("safe", "unsafe")
        assert all(0 <= e.t_s <= f.duration_s + 2.5 for e in f.events), "events lie inside their flight"


@pytest.mark.parametrize("rel", _all_logs() if LOGS.is_dir() else [])
def test_every_err_code_becomes_an_event_of_the_right_kind(rel):
    entries = _readme_rows()[rel]
    evidence = _evidence(rel)
    for entry in entries:
        if "/" not in entry or entry.split("/")[0] not in EXPECTED_ERR_KIND:
            continue
        name, code = entry.split("/")
        needle = f"ERR Subsys={ERR_IDS[name]} ECode={code} "
        kinds = {k for k, ev in evidence if needle in ev}
        assert kinds == {EXPECTED_ERR_KIND[name]}, f"{entry} in {rel}: found as {kinds}"
    # The README is a floor: every ERR pymavlink decodes in the file is found too.
    mlog = mavutil.mavlink_connection(str(LOGS / rel)) if (LOGS / rel).suffix != ".ulg" else None
    if mlog is None or not hasattr(mlog, "formats"):
        return
    while (m := mlog.recv_match(type="ERR")) is not None:
        needle = f"ERR Subsys={m.Subsys} ECode={m.ECode} "
        assert any(needle in ev for _, ev in evidence), f"{needle} of {rel} is not in any event"


def test_safety_relevant_ev_codes_become_events():
    seen = 0
    for rel, entries in _readme_rows().items():
        for name, (kind, ev_id) in EXPECTED_EV_KIND.items():
            if any(e.startswith(name) for e in entries):
                seen += 1
                assert (kind, True) in {(k, f"EV Id={ev_id} " in ev) for k, ev in _evidence(rel)}, f"{name} in {rel}"
    assert seen >= 1  # sample01.bin's MOTORS_EMERGENCY_STOPPED


def test_routine_ev_codes_are_not_events():
    for rel in _readme_rows():
        for kind, ev in _evidence(rel):
            for routine in ("(ARMED)", "(DISARMED)", "(LAND_COMPLETE)", "(NOT_LANDED)", "(AUTO_ARMED)", "(EKF_YAW_RESET)"):
                assert routine not in ev.split(";")[0], f"{kind} from a routine EV in {rel}"


@pytest.mark.parametrize("rel", CRASH_LOGS)
def test_crash_logs_are_accidents(rel):
    flights, _ = _flights(rel)
    assert any(f.severity == "accident" and f.outcome == "unsafe" for f in flights)
    assert any(e.kind == "CRASH" for f in flights for e in f.events)


def test_sample_bin_is_safe():
    flights, _ = _flights("beastayyg-ardupilot-log-diagnosis/sample.bin")
    assert len(flights) == 2
    assert all(f.outcome == "safe" and f.severity == "none" for f in flights)
    assert flights[0].start_utc.startswith("2019-03-27T14:53")


def test_a_log_that_ends_armed_after_a_crash_on_the_ground_is_not_truncated_in_the_air():
    """103.BIN ends armed with the aircraft inverted on the ground: a crash, not a log cut in flight."""
    flights, _ = _flights("erlerobot-logs/pxf_copter_10-11-2014_103.BIN")
    assert flights[-1].extra["end_reason"] == "log_end"
    kinds = {e.kind: e for e in flights[-1].events}
    assert "LOG_TRUNCATED_IN_AIR" not in kinds
    assert kinds["CRASH"].severity == "accident" and "at rest tilted" in kinds["CRASH"].detail


def _mavflighttime(path: Path, threshold: float = 3.0) -> float:
    """pymavlink's tools/mavflighttime.py flight_time(), with float time stamps instead of whole seconds."""
    mlog = mavutil.mavlink_connection(str(path))
    in_air, start, total, t = False, 0.0, 0.0, None
    while (m := mlog.recv_match(type=["GPS", "GPS_RAW_INT"])) is not None:
        if m.get_type() == "GPS_RAW_INT":
            speed, status = m.vel * 0.01, m.fix_type
        else:
            if getattr(m, "I", 0):
                continue
            speed, status = m.Spd, m.Status
        if status < 3:
            continue
        t = m._timestamp
        if speed > threshold and not in_air:
            in_air, start = True, t
        elif speed < threshold and in_air:
            in_air, total = False, total + t - start
    if in_air and t is not None:
        total += t - start
    return total


@pytest.mark.parametrize("rel", [r for r in _all_logs() if not r.endswith((".ulg", "underpowered.log"))]
                         if LOGS.is_dir() else [])
def test_in_air_time_agrees_with_mavflighttime(rel):
    """Where both apply (a GPS with a 3D fix; underpowered.log has no GPS and stock pymavlink cannot read
    an AC 3.0 GPS anyway), mavflighttime's rule (moving > 3 m/s with a 3D fix) over uavsim's GPS stream gives the
    same time as over pymavlink's messages, within 5 % (or 1 s): uavsim's clock is the boot clock, pymavlink's
    its own clock model. (Airborne time itself is decided from physics: tests/test_logs_segment.py.)"""
    ref = _mavflighttime(LOGS / rel)
    g = read_log(LOGS / rel).stream("gps")
    fix = g["fix"] >= 3
    t, v = g["t"][fix], g["gspd_mps"][fix]
    ours, start = 0.0, None
    for ti, vi in zip(t.tolist(), v.tolist(), strict=True):
        if vi > 3.0 and start is None:
            start = ti
        elif vi < 3.0 and start is not None:
            ours, start = ours + ti - start, None
    if start is not None:
        ours += t[-1] - start
    assert ours == pytest.approx(ref, rel=0.05, abs=1.0)


def test_flight_tlog_splits_into_flights_with_battery_and_energy():
    flights, summary = _flights("dronekit-dronekit-python/flight.tlog")
    assert len(flights) == 5 and summary["ground_runs"] == 2
    ends = [f.battery_end_pct for f in flights]
    assert ends == sorted(ends, reverse=True)  # one battery drained over the session
    assert all(f.energy_used_wh and f.energy_used_wh > 0 for f in flights)
    assert sum(f.extra["airborne_s"] for f in flights) > 100
