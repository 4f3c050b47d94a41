"""Aircraft identity and configuration read from real logs, checked against pymavlink and pyulog reading the
same files; the ULog reader degrades missing fields of old versions to unknown."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from pymavlink import mavutil
from pyulog import ULog

from uavsim.logs import read_log
from uavsim.logs.identity import aircraft_identity, fingerprint, identity_fields, scan_text
from uavsim.logs.params import config_hazards, ekf_in_control, mode_needs_gps
from uavsim.logs.raw import RawBuilder
from uavsim.records import Flight

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT.parent / "shared" / "data" / "logs"
needs_logs = pytest.mark.skipif(not LOGS.is_dir(), reason="shared logs (../shared/data/logs) not present")


@cache
def _raw(rel: str):
    return read_log(LOGS / rel)


def _pymavlink(rel: str) -> tuple[dict[str, float], list[str]]:
    """Parameters (last value) and text messages as pymavlink reads them."""
    m = mavutil.mavlink_connection(str(LOGS / rel), dialect="ardupilotmega")
    params: dict[str, float] = {}
    texts: list[str] = []
    while (x := m.recv_match(type=["PARM", "MSG", "PARAM_VALUE", "STATUSTEXT"])) is not None:
        t = x.get_type()
        if t == "PARM":
            params[x.Name] = x.Value
        elif t == "PARAM_VALUE":
            params[x.param_id] = x.param_value
        else:
            texts.append(x.Message if t == "MSG" else x.text)
    return params, texts


@needs_logs
@pytest.mark.parametrize("rel", ["beastayyg-ardupilot-log-diagnosis/sample.bin",
                                 "erlerobot-logs/pxf_copter_10-11-2014_103.BIN",
                                 "dronekit-dronekit-python/flight.tlog", "ardupilot-ardupilot/mechanical_fail.log"])
def test_parameters_equal_pymavlink(rel):
    ref, _ = _pymavlink(rel)
    got = _raw(rel).params
    assert len(got) == len(ref) > 280
    for k, v in ref.items():
        assert got[k] == pytest.approx(v, rel=1e-6, abs=1e-9), k


@needs_logs
def test_board_unique_id_and_firmware_come_from_the_start_up_messages():
    rel = "beastayyg-ardupilot-log-diagnosis/sample.bin"
    _, texts = _pymavlink(rel)
    board = next(t for t in texts if re.fullmatch(r"\w+( [0-9A-F]{8}){3}", t))  # "fmuv5 00290019 ..."
    name, *uid = board.split()
    f = identity_fields(_raw(rel))
    assert f["aircraft_id"] == f"{name}-{''.join(uid)}" == "fmuv5-002900193237511832363435"
    assert f["aircraft_id_source"].startswith("board unique id")
    assert f["firmware"] == "ArduCopter 3.6.4 (6c4da9e3)"
    assert f["hardware"] == "fmuv5 / ChibiOS ff603d11"
    assert (f["vehicle_type"], f["frame"]) == ("copter", "quad")


@needs_logs
def test_px4_identity_is_the_ulog_info_fields():
    rel = "px4-pyulog/sample_log_small.ulg"
    info = ULog(str(LOGS / rel), ["vehicle_status"]).msg_info_dict
    f = identity_fields(_raw(rel))
    assert f["aircraft_id"] == f"{info['ver_hw']}-{info['sys_uuid']}"
    assert f["hardware"] == "CUBEPILOT_CUBEORANGE"
    assert f["firmware"] == f"PX4 1.11.2 ({info['ver_sw']})"  # ver_sw_release 0x010B02xx
    assert f["vehicle_type"] == "vtol"


@needs_logs
def test_tlog_identity_is_sysid_autopilot_and_mav_type():
    f = identity_fields(_raw("dronekit-dronekit-python/flight.tlog"))
    assert f["aircraft_id"] == "mavlink-1/1-ARDUPILOTMEGA-QUADROTOR"
    assert "MAV_TYPE" in f["aircraft_id_source"]


@needs_logs
def test_logs_without_a_board_id_get_a_calibration_fingerprint_named_as_such():
    a = identity_fields(_raw("erlerobot-logs/pxf_copter_27-9-2014_70.BIN"))
    b = identity_fields(_raw("erlerobot-logs/pxf_copter_29-09-2014_3.BIN"))
    c = identity_fields(_raw("erlerobot-logs/pxf_copter_10-11-2014_103.BIN"))
    assert a["aircraft_id"].startswith("fingerprint-") and "fingerprint" in a["aircraft_id_source"]
    # Two days, one calibration: the same aircraft; another calibration: another id.
    assert a["aircraft_id"] == b["aircraft_id"] != c["aircraft_id"]


def test_fingerprint_ignores_uncalibrated_defaults_and_changes_with_calibration():
    assert fingerprint({"INS_ACCSCAL_X": 1.0, "INS_ACCOFFS_X": 0.0, "RC1_MIN": 1100.0}) is None
    one = fingerprint({"INS_ACCSCAL_X": 1.0053, "INS_ACCOFFS_X": -0.27, "ATC_RAT_RLL_P": 0.15})
    assert one == fingerprint({"INS_ACCSCAL_X": 1.0053, "INS_ACCOFFS_X": -0.27, "ATC_RAT_RLL_P": 0.2})  # tuning
    assert one != fingerprint({"INS_ACCSCAL_X": 1.0054, "INS_ACCOFFS_X": -0.27})
    assert aircraft_identity({}, {}) == (None, "the log carries no aircraft identity")


@pytest.mark.parametrize(("text", "key", "value"), [
    ("APM:Copter V3.4.4-rc1 (65ffe9d7)", "firmware_git", "65ffe9d7"),
    ("ArduPlane V4.2.3 (55685c43)", "vehicle_type", "plane"),
    ("CubeOrange 00340032 3139510B 32393438", "board_uid", "00340032" "3139510B" "32393438"),
    ("PX4: 0384802e NuttX: 1bcae90b", "os", "NuttX 1bcae90b"),
    ("Frame: HEXA/X", "frame", "hexa/x"),
])
def test_start_up_messages(text, key, value):
    ident: dict[str, str] = {}
    scan_text(ident, text)
    assert ident[key] == value


def test_gps_fix_lines_are_not_board_ids():
    ident: dict[str, str] = {}
    scan_text(ident, "u-blox 1 HW: 00040007 SW: 7.03 (45970)")
    assert ident == {}


@needs_logs
def test_configuration_says_who_flies_the_aircraft_and_what_is_switched_off():
    erle = _raw("erlerobot-logs/pxf_copter_10-11-2014_103.BIN").params
    assert ekf_in_control(erle, "dataflash-bin") == (False, "AHRS_EKF_USE=0")
    assert {h["parameter"] for h in config_hazards(erle, "dataflash-bin")} >= {"ARMING_CHECK", "FS_THR_ENABLE"}
    sample = _raw("beastayyg-ardupilot-log-diagnosis/sample.bin").params
    assert ekf_in_control(sample, "dataflash-bin") == (True, "AHRS_EKF_TYPE=2")
    assert ekf_in_control({"AHRS_EKF_TYPE": 3, "EK3_ENABLE": 0}, "dataflash-bin")[0] is False
    assert ekf_in_control({}, "tlog")[0] is None  # unknown stays unknown
    assert (mode_needs_gps("STABILIZE"), mode_needs_gps("LOITER"), mode_needs_gps("WEIRD")) == (False, True, None)


@needs_logs
def test_identity_survives_the_flight_record_round_trip():
    from uavsim.logs import analyse

    flights, _ = analyse(_raw("beastayyg-ardupilot-log-diagnosis/sample.bin"), "0" * 64)
    assert flights and all(f.aircraft_id == "fmuv5-002900193237511832363435" for f in flights)
    d = flights[0].to_dict()
    assert d["firmware"] == "ArduCopter 3.6.4 (6c4da9e3)" and d["hardware"].startswith("fmuv5")
    again = Flight(id="x", source="log", source_ref="x", extra=d["extra"])  # as the store rebuilds it
    assert (again.firmware, again.frame, again.aircraft_id) == (d["firmware"], d["frame"], d["aircraft_id"])


def test_ulog_status_without_fields_of_old_versions_degrades_to_unknown():
    from uavsim.logs.ulog import _status

    b = RawBuilder("old.ulg", "ulog")
    ts = np.array([1e6, 2e6, 3e6])
    _status(b, {"timestamp": ts, "arming_state": np.array([1.0, 2.0, 1.0])})  # no vehicle_type, nav_state
    assert b.log.vehicle == "unknown"
    assert [a for _, a, _ in b.log.arm] == [False, True, False]
    assert b.log.modes == []
    assert any("vehicle_type" in m for m in b.log.corruption["missing_fields"])
    assert any("nav_state" in m for m in b.log.corruption["missing_fields"])
