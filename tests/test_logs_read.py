"""Log readers against pymavlink and pyulog reading the same files, and the known traps of old logs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from pymavlink import DFReader, mavutil
from pyulog import ULog

from uavsim.errors import LogFormatError
from uavsim.logs import read_log, sniff

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / ".." / "shared" / "data" / "logs"
DATA = ROOT / "tests" / "data"
needs_logs = pytest.mark.skipif(not LOGS.is_dir(), reason="shared logs (../shared/data/logs) not present")


def _shared(rel: str) -> Path:
    return LOGS / rel


def test_stock_pymavlink_fails_on_ac30_gps_without_week_and_uavsim_reads_it():
    path = DATA / "ac30_gps_noweek.log"
    with pytest.raises(TypeError):  # the trap the data README warns about, still present in pymavlink
        mavutil.mavlink_connection(str(path))  # its clock set-up reads the GPS messages
    raw = read_log(path)
    gps = raw.stream("gps")
    # Every GPS line of the file is read, with its position; no week means no absolute time.
    n_lines = sum(1 for line in path.read_text().splitlines() if line.startswith("GPS,"))
    assert len(gps["t"]) == n_lines == 300
    assert gps["lat"][0] == pytest.approx(21.5197)
    assert np.isnan(gps["utc_s"]).all()
    # No boot clock anywhere: the GPS time of week (1e8 ms + 200 ms per row) spans the log.
    assert raw.time_source == "gps_time_of_week"
    assert raw.t_start == pytest.approx(1e5)
    assert raw.t_end - raw.t_start == pytest.approx(59.8)
    assert [a for _, a, _ in raw.arm] == [True, False]


def test_pymavlink_clock_is_left_alone_globally():
    """The workaround lives in uavsim's subclasses; pymavlink's own classes are untouched."""
    import uavsim.logs.dataflash as df

    assert DFReader.DFReader_text.init_clock is not df._Text.init_clock
    assert "init_clock" in vars(DFReader.DFReader)


def test_tlog_vehicle_is_chosen_and_other_heartbeats_ignored():
    path = DATA / "vehicle_gcs_camera.tlog"
    raw = read_log(path)
    assert raw.vehicle == "copter"
    # Reference: the vehicle's own HEARTBEATs as pymavlink decodes them.
    mlog = mavutil.mavlink_connection(str(path))
    states, srcs = [], set()
    while (m := mlog.recv_match(type="HEARTBEAT")) is not None:
        srcs.add((m.get_srcSystem(), m.get_srcComponent()))
        if (m.get_srcSystem(), m.get_srcComponent()) == (1, 1):
            armed = bool(m.base_mode & mavutil.mavlink.MAV_MODE_FLAG_SAFETY_ARMED)
            if not states or states[-1] != armed:
                states.append(armed)
    assert srcs == {(1, 1), (255, 190), (1, 100), (1, 154)}
    assert [a for _, a, _ in raw.arm] == states == [False, True, False, True]
    # The GCS's "Crash" text is not the vehicle's.
    assert {n.kind for n in raw.notes} == {"FAILSAFE_RADIO"}
    assert raw.corruption["unindexed_bytes"] == 7  # the junk between records
    assert raw.corruption["crc_errors"] == 1
    assert raw.corruption["other_sources_ignored"] > 0


@needs_logs
def test_dataflash_gps_matches_pymavlink():
    path = _shared("beastayyg-ardupilot-log-diagnosis/sample.bin")
    raw = read_log(path)
    ref = []
    mlog = mavutil.mavlink_connection(str(path))
    while (m := mlog.recv_match(type="GPS")) is not None:
        ref.append((m.TimeUS * 1e-6, m.Lat, m.Lng, m.Alt, m.Spd, m.NSats))
    ref_a = np.array(ref)
    g = raw.stream("gps")
    assert len(g["t"]) == len(ref_a)
    np.testing.assert_allclose(g["t"], ref_a[:, 0])
    np.testing.assert_allclose(g["lat"], ref_a[:, 1])
    np.testing.assert_allclose(g["lon"], ref_a[:, 2])
    np.testing.assert_allclose(g["alt_msl_m"], ref_a[:, 3])
    np.testing.assert_allclose(g["sats"], ref_a[:, 5])
    # UTC from GPS week/ms: the log's first GPS fix is in March 2019.
    first = g["utc_s"][np.isfinite(g["utc_s"])][0]
    assert 1.553e9 < first < 1.554e9


@needs_logs
def test_old_text_log_takes_time_from_gps_boot_field():
    path = _shared("ardupilot-ardupilot/mechanical_fail.log")
    raw = read_log(path)
    mlog = mavutil.mavlink_connection(str(path))
    t_ms = []
    while (m := mlog.recv_match(type="GPS")) is not None:
        t_ms.append(m.T)
    assert raw.t_start == pytest.approx(t_ms[0] / 1000.0)
    assert raw.t_end == pytest.approx(t_ms[-1] / 1000.0)


@needs_logs
def test_tlog_counts_and_boot_clock_against_pymavlink():
    path = _shared("dronekit-dronekit-python/flight.tlog")
    raw = read_log(path)
    mlog = mavutil.mavlink_connection(str(path))
    boot = []
    while (m := mlog.recv_match(type="GLOBAL_POSITION_INT")) is not None:
        if (m.get_srcSystem(), m.get_srcComponent()) == (1, 1):
            boot.append(m.time_boot_ms)
    assert len(raw.stream("alt")["t"]) == len(boot)
    # The autopilot rebooted once: its clock restarts and uavsim's axis stays monotonic.
    jumps = int(np.sum(np.diff(boot) < -1000))
    assert len(raw.boots) == jumps == 1
    assert np.all(np.diff(raw.stream("alt")["t"]) >= -1.0)
    assert raw.corruption["other_sources_ignored"] > 1000  # the GCS's own heartbeats and requests


@needs_logs
def test_ulog_matches_pyulog():
    path = _shared("px4-pyulog/sample_log_small.ulg")
    raw = read_log(path)
    u = ULog(str(path), ["vehicle_gps_position", "vehicle_status"])
    gps = next(d for d in u.data_list if d.name == "vehicle_gps_position")
    np.testing.assert_allclose(raw.stream("gps")["t"], gps.data["timestamp"] * 1e-6)
    np.testing.assert_allclose(raw.stream("gps")["lat"], gps.data["lat"] * 1e-7)
    vs = next(d for d in u.data_list if d.name == "vehicle_status")
    armed = vs.data["arming_state"] == 2
    first_arm = vs.data["timestamp"][np.argmax(armed)] * 1e-6
    assert raw.arm[0][:2] == (pytest.approx(first_arm), True)
    assert raw.corruption["file_corruption"] is False


def _df_fmt_of_fmt() -> bytes:
    """A DataFlash FMT message describing FMT itself, as every .bin begins."""
    import struct

    return b"\xa3\x95\x80" + struct.pack("<BB4s16s64s", 0x80, 89, b"FMT", b"BBnNZ", b"Type,Length,Name,Format,Columns")


@pytest.mark.parametrize(("head", "kind"), [
    (b"ULog\x01\x12\x35\x01" + b"\x00" * 8, "ulog"),
    (_df_fmt_of_fmt() * 4, "dataflash-bin"),
    (b"\nArduCopter\nFMT, 128, 89, FMT, BBnNZ, Type,Length,Name,Format\n", "dataflash-text"),
    ((DATA / "vehicle_gcs_camera.tlog").read_bytes()[:4000], "tlog"),
    # A ground station's log that starts with something else: records are found by scanning, not at byte 0.
    (b"Mission Planner 1.3 session log\n" * 40 + (DATA / "vehicle_gcs_camera.tlog").read_bytes()[:4000], "tlog"),
    (b"\x00" * 5000 + _df_fmt_of_fmt() * 4, "dataflash-bin"),
])
def test_sniff_by_content_not_extension(tmp_path, head, kind):
    p = tmp_path / "whatever.bin"
    p.write_bytes(head)
    assert sniff(p) == kind


@pytest.mark.parametrize("content", [b"", b"hello world, this is not a log" * 10, bytes(range(256)) * 4])
def test_unrecognised_files_raise_log_format_error_naming_the_file(tmp_path, content):
    p = tmp_path / "junk.tlog"
    p.write_bytes(content)
    with pytest.raises(LogFormatError, match="junk.tlog"):
        read_log(p)


def test_headers_without_data_are_rejected(tmp_path):
    p = tmp_path / "fmt_only.log"
    p.write_text("FMT, 128, 89, FMT, BBnNZ, Type,Length,Name,Format\n")
    with pytest.raises(LogFormatError, match="no readable flight data"):
        read_log(p)


def test_truncated_text_log_keeps_what_was_read(tmp_path):
    text = (DATA / "ac30_gps_noweek.log").read_text()
    p = tmp_path / "cut.log"
    p.write_text(text[: len(text) // 2])
    raw = read_log(p)
    assert 0 < len(raw.stream("gps")["t"]) < 300
    assert math.isfinite(raw.t_end)


@needs_logs
@pytest.mark.parametrize("rel", ["beastayyg-ardupilot-log-diagnosis/log_0036_mechanical_failure.bin",
                                 "erlerobot-logs/pxf_copter_09-10-2014_25.BIN",
                                 "pyflightcoach-flightdata/center_0003.bin", "ardupilot-pymavlink/test.BIN"])
def test_vectorised_binary_decoding_equals_pymavlink_message_by_message(rel):
    """uavsim decodes whole message types at once; pymavlink's per-message parser is the slow twin."""
    from uavsim.logs.dataflash import TYPES
    from uavsim.logs.dfbin import BinaryLog, binary_tables

    path = str(_shared(rel))
    reader = BinaryLog(path)  # uavsim's own framing; pymavlink's parser is the reference
    tables, cut = binary_tables(reader, TYPES)
    assert cut == 0
    mlog = mavutil.mavlink_connection(path)
    rows: dict[str, list] = {}
    while (m := mlog.recv_match(type=list(tables))) is not None:
        rows.setdefault(m.get_type(), []).append(m)
    assert set(rows) == set(tables)
    for name, msgs in rows.items():
        table = tables[name]
        assert len(table["_ofs"]) == len(msgs), name
        for col in msgs[0].fmt.columns:
            ref = [getattr(m, col) for m in msgs]
            if isinstance(ref[0], str):
                assert list(table[col]) == ref, f"{name}.{col}"
            else:
                np.testing.assert_array_equal(table[col], np.asarray(ref, dtype=np.float64), err_msg=f"{name}.{col}")


@pytest.mark.parametrize("path", [DATA / "vehicle_gcs_camera.tlog",
                                  LOGS / "dronekit-dronekit-python/flight.tlog",
                                  LOGS / "dronekit-dronekit-python/test.tlog"])
def test_vectorised_tlog_decoding_equals_pymavlink_message_by_message(path):
    """uavsim checks CRCs and decodes whole message types at once; pymavlink's parser is the slow twin."""
    if not path.exists():
        pytest.skip("shared logs (../shared/data/logs) not present")
    from pymavlink.dialects.v10 import ardupilotmega as mav

    from uavsim.logs.tlog import TYPES, _decode

    mlog = mavutil.mavlink_connection(str(path), dialect="ardupilotmega")
    data = np.frombuffer(mlog.data_map, dtype=np.uint8)
    ref_log = mavutil.mavlink_connection(str(path), dialect="ardupilotmega")
    ref: dict[str, list] = {}
    while (m := ref_log.recv_match(type=list(TYPES))) is not None:
        ref.setdefault(m.get_type(), []).append(m)
    for name in TYPES:
        mid = getattr(mav, f"MAVLINK_MSG_ID_{name}")
        if mid not in mlog.offsets:
            assert name not in ref
            continue
        table, _bad = _decode(data, np.asarray(mlog.offsets[mid], dtype=np.int64), mav.mavlink_map[mid])
        msgs = ref.get(name, [])
        assert len(table["_ofs"]) == len(msgs), name  # the same frames pass the CRC check
        assert table["_sys"].tolist() == [m.get_srcSystem() for m in msgs]
        for field in mav.mavlink_map[mid].fieldnames:
            got = table[field]
            want = [getattr(m, field) for m in msgs]
            if got.dtype.kind == "S":
                assert [g.split(b"\0", 1)[0].decode() for g in got] == [w.split("\0", 1)[0] for w in want]
            else:
                np.testing.assert_array_equal(got, np.asarray(want, dtype=np.float64), err_msg=f"{name}.{field}")


def test_damage_is_counted_in_the_file_summary_and_each_flight():
    from uavsim.logs import analyse

    flights, summary = analyse(read_log(DATA / "vehicle_gcs_camera.tlog"), "0" * 64)
    assert summary["crc_errors"] == 1 and summary["unindexed_bytes"] == 7
    assert all(f.extra["file_damage"] == {"crc_errors": 1, "unindexed_bytes": 7, "bad_records": 1} for f in flights)


@needs_logs
def test_log_without_any_clock_estimates_time_from_att_rate():
    """ArduCopter 3.0's underpowered.log has neither a boot clock nor GPS messages."""
    path = _shared("ardupilot-ardupilot/underpowered.log")
    raw = read_log(path)
    assert raw.time_source == "estimated_att_10hz"
    n_att = sum(1 for line in path.read_text().splitlines() if line.startswith("ATT,"))
    assert raw.t_end - raw.t_start == pytest.approx((n_att - 1) / 10.0, abs=0.11)
    assert raw.firmware == "ArduCopter V3.0.1" and raw.vehicle == "copter"


@needs_logs
def test_px4_failsafe_flags_round_trip_through_pyulog_writer(tmp_path):
    """parse(write(x)): raise PX4 failsafe flags in a real ULog with pyulog's writer, then read them back."""
    from uavsim.logs import analyse

    u = ULog(str(_shared("px4-pyulog/sample_log_small.ulg")))
    vs = next(d for d in u.data_list if d.name == "vehicle_status")
    t = vs.data["timestamp"] * 1e-6
    vs.data["rc_signal_lost"][5:9] = 1
    vs.data["data_link_lost"][7] = 1
    vs.data["failure_detector_status"][10] = 1 << 7  # FAILURE_MOTOR
    out = tmp_path / "flags.ulg"
    u.write_ulog(str(out))
    flights, _ = analyse(read_log(out), "0" * 64)
    events = {e.kind: e for f in flights for e in f.events}
    assert set(events) == {"FAILSAFE_RADIO", "FAILSAFE_GCS", "MOTOR_FAILURE"}
    start = flights[0].extra["segment"][0]
    assert events["FAILSAFE_RADIO"].t_s == pytest.approx(t[5] - start)
    assert "FAILURE_MOTOR" in events["MOTOR_FAILURE"].detail


def test_a_tlog_with_two_aircraft_gives_the_flights_of_both():
    from uavsim.logs import analyse

    flights, summary = analyse(read_log(DATA / "two_vehicles.tlog"), "ab" * 32)
    assert [(f.id, f.aircraft_id) for f in flights] == [("abababababababab-0", "mavlink-1/1-ARDUPILOTMEGA-QUADROTOR"),
                                                       ("abababababababab-1", "mavlink-2/1-ARDUPILOTMEGA-QUADROTOR")]
    assert [f.duration_s for f in flights] == [pytest.approx(25.0), pytest.approx(25.0)]
    assert flights[1].start_utc.startswith("2025-06-15T15:06:59.8")
    assert summary["other_sources_ignored"] == 50  # the ground station's own heartbeats


def test_a_reboot_in_the_air_ends_the_flight_with_an_unknown_end():
    """A brownout: the first heartbeat after the reboot ("disarmed") must not look like a normal landing."""
    from uavsim.logs import analyse

    raw = read_log(DATA / "brownout.tlog")
    assert len(raw.boots) == 1
    flights, _ = analyse(raw, "0" * 64)
    assert len(flights) == 1
    f = flights[0]
    assert f.extra["end_reason"] == "reboot"
    assert f.duration_s == pytest.approx(20.0, abs=1.5)
    truncated = [e for e in f.events if e.kind == "LOG_TRUNCATED_IN_AIR"]
    assert truncated and truncated[0].severity == "serious_incident"
    assert f.outcome == "unsafe"


@needs_logs
def test_concatenated_logs_keep_every_flight_across_reboots(tmp_path):
    """A file holding several boots (logs appended) gives one flight per arming, none swallowed."""
    from uavsim.logs import analyse

    one = _shared("erlerobot-logs/pxf_copter_15-12-2014_16.BIN").read_bytes()
    p = tmp_path / "three.bin"
    p.write_bytes(one * 3)
    flights, _ = analyse(read_log(p), "0" * 64)
    assert len(flights) == 3
    assert [f.extra["end_reason"] for f in flights] == ["reboot", "reboot", "log_end"]
    assert all(f.severity == "accident" for f in flights)


@needs_logs
def test_px4_flight_termination_is_an_emergency_landing(tmp_path):
    from uavsim.logs import analyse

    u = ULog(str(_shared("px4-pyulog/sample_log_small.ulg")))
    vs = next(d for d in u.data_list if d.name == "vehicle_status")
    vs.data["nav_state"][6:] = 13  # NAVIGATION_STATE_TERMINATION
    out = tmp_path / "term.ulg"
    u.write_ulog(str(out))
    flights, _ = analyse(read_log(out), "0" * 64)
    kinds = {e.kind: e.severity for f in flights for e in f.events}
    assert kinds["EMERGENCY_LANDING"] == "serious_incident"
    assert ("TERMINATION" in {m for _, m in read_log(out).modes})
