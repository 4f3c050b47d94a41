"""PX4 ULog (.ulg) through pyulog, loading only the topics the analysis needs.

Time is the ULog timestamp (microseconds since boot). pyulog reports file corruption and logger
dropouts; both are counted. PX4 failsafe flags in vehicle_status become events.
"""

from __future__ import annotations

import contextlib
import io
import logging

import numpy as np
from pyulog import ULog

from uavsim.logs import codes, identity, params
from uavsim.logs.raw import Note, RawBuilder, RawLog

log = logging.getLogger(__name__)

TOPICS = ["vehicle_status", "actuator_armed", "vehicle_land_detected", "vehicle_gps_position", "sensor_gps",
          "vehicle_local_position", "vehicle_attitude", "vehicle_attitude_setpoint", "battery_status",
          "estimator_status", "vehicle_imu_status", "commander_state"]
AIRBORNE_TOPICS = ["vehicle_air_data", "actuator_outputs", "actuator_motors", "sensor_combined"]
# vehicle_status boolean flags -> (event kind, level); PX4 msg/vehicle_status.msg.
_FLAGS = {
    "failsafe": ("FAILSAFE_OTHER", "fail"),
    "rc_signal_lost": ("FAILSAFE_RADIO", "fail"),
    "data_link_lost": ("FAILSAFE_GCS", "fail"),
    "engine_failure": ("MOTOR_FAILURE", "fail"),
    "mission_failure": ("MISSION_ABORTED", "fail"),
}
# failure_detector_status bits (PX4 msg/vehicle_status.msg FAILURE_*): roll, pitch, alt, ext, arm_esc,
# battery, imbalanced_prop, motor.
# FAILURE_ROLL/PITCH: the attitude beyond FD_FAIL_R/P (60°) for FD_FAIL_R/P_TTRI: a loss of control.
_FD_BITS = {0: ("LOSS_OF_CONTROL", "fail", "FAILURE_ROLL"), 1: ("LOSS_OF_CONTROL", "fail", "FAILURE_PITCH"),
            2: ("ATTITUDE_ERROR", "fail", "FAILURE_ALT"), 3: ("FAILSAFE_OTHER", "fail", "FAILURE_EXT"),
            4: ("MOTOR_FAILURE", "fail", "FAILURE_ARM_ESC"), 5: ("FAILSAFE_BATTERY", "fail", "FAILURE_BATTERY"),
            6: ("MOTOR_FAILURE", "warn", "FAILURE_IMBALANCED_PROP"), 7: ("MOTOR_FAILURE", "fail", "FAILURE_MOTOR")}
ARMING_STATE_ARMED = 2  # vehicle_status.ARMING_STATE_ARMED
_VEHICLE_TYPE = {1: "copter", 2: "plane", 3: "rover"}


def _topic(ulog: ULog, name: str) -> dict[str, np.ndarray] | None:
    for d in ulog.data_list:
        if d.name == name and d.multi_id == 0:
            return d.data
    return None


def _col(d: dict[str, np.ndarray], name: str) -> np.ndarray:
    return np.asarray(d[name], dtype=np.float64) if name in d else np.full(len(d["timestamp"]), np.nan)


def read_ulog(path: str) -> RawLog:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):  # pyulog prints its complaints
        ulog = ULog(path, TOPICS + AIRBORNE_TOPICS, disable_str_exceptions=True)
    b = RawBuilder(path, "ulog")
    b.log.corruption["bad_headers"] = out.getvalue().count("bad header")
    _header(b, ulog)
    # Order matters: the state comes first (arming refers the local heights), the airborne streams last.
    b.log.messages_read = sum(read(b, ulog) for read in _TOPIC_READERS)
    _airborne_streams(b, ulog)
    _messages(b, ulog)
    return b.finish()


def _header(b: RawBuilder, ulog: ULog) -> None:
    b.log.firmware = f"PX4 {ulog.msg_info_dict.get('ver_sw', '')}".strip()
    b.log.corruption["file_corruption"] = bool(ulog.file_corruption)
    params.ulog_params(b.log.params, ulog.initial_parameters, list(ulog.changed_parameters))
    identity.ulog_info(b.log.identity, ulog.msg_info_dict)
    b.log.corruption["dropouts"] = len(ulog.dropouts)
    b.log.corruption["dropout_ms"] = int(sum(d.duration for d in ulog.dropouts))
    for stamp in (ulog.start_timestamp, ulog.last_timestamp):
        b.clock(stamp * 1e-6)


def _state(b: RawBuilder, ulog: ULog) -> int:
    """Arming from vehicle_status (else actuator_armed) and the land detector; rows read."""
    vs = _topic(ulog, "vehicle_status")
    if vs is not None:
        _status(b, vs)
    aa = _topic(ulog, "actuator_armed")
    if aa is not None and vs is None:
        _changes(b, aa, "armed", lambda v: b.log.arm.append(v), "actuator_armed.armed")
    ld = _topic(ulog, "vehicle_land_detected")
    if ld is not None:
        _changes(b, ld, "landed", lambda v: b.log.landed.append(v), "vehicle_land_detected.landed")
    return len(vs["timestamp"]) if vs is not None else 0


def _gps(b: RawBuilder, ulog: ULog) -> int:
    gps = _topic(ulog, "vehicle_gps_position") or _topic(ulog, "sensor_gps")
    if gps is None:
        return 0
    t = _col(gps, "timestamp") * 1e-6
    utc = _col(gps, "time_utc_usec") * 1e-6
    utc[utc < 1e9] = np.nan
    lat, lon = _col(gps, "lat"), _col(gps, "lon")
    if np.nanmax(np.abs(lat), initial=0) > 1000:  # older PX4: int degrees * 1e7, alt in mm
        lat, lon, alt = lat * 1e-7, lon * 1e-7, _col(gps, "alt") * 1e-3
    else:
        alt = _col(gps, "altitude_msl_m")
    for row in zip(t, lat, lon, alt, _col(gps, "vel_m_s"), _col(gps, "fix_type"), _col(gps, "satellites_used"),
                   _col(gps, "hdop"), utc, strict=True):
        b.add("gps", *row)
    return len(t)


def _local_position(b: RawBuilder, ulog: ULog) -> int:
    lp = _topic(ulog, "vehicle_local_position")
    if lp is None:
        return 0
    t_lp, up = _col(lp, "timestamp") * 1e-6, -_col(lp, "z")  # NED: z is down from the EKF origin
    # The EKF origin is where the estimator started, not the launch point: refer heights to arming.
    arm_t = [t for t, armed, _ in b.log.arm if armed]
    if arm_t and len(t_lp):
        i = int(np.clip(np.searchsorted(t_lp, arm_t[0]), 0, len(t_lp) - 1))
        up = up - up[i]
    for t, h in zip(t_lp, up, strict=True):
        b.add("alt", t, h)
    return len(t_lp)


def _attitude(b: RawBuilder, ulog: ULog) -> int:
    att = _topic(ulog, "vehicle_attitude")
    if att is None:
        return 0
    q0, q1, q2, q3 = (_col(att, f"q[{i}]") for i in range(4))
    roll = np.degrees(np.arctan2(2 * (q0 * q1 + q2 * q3), 1 - 2 * (q1 * q1 + q2 * q2)))
    pitch = np.degrees(np.arcsin(np.clip(2 * (q0 * q2 - q3 * q1), -1, 1)))
    sp = _topic(ulog, "vehicle_attitude_setpoint")
    des_r = des_p = np.full(len(roll), np.nan)
    if sp is not None and len(sp["timestamp"]):
        ts = _col(sp, "timestamp")
        idx = np.clip(np.searchsorted(ts, _col(att, "timestamp"), side="right") - 1, 0, len(ts) - 1)
        des_r, des_p = np.degrees(_col(sp, "roll_body"))[idx], np.degrees(_col(sp, "pitch_body"))[idx]
    for row in zip(_col(att, "timestamp") * 1e-6, roll, pitch, des_r, des_p, strict=True):
        b.add("att", *row)
    return len(roll)


def _battery(b: RawBuilder, ulog: ULog) -> int:
    bat = _topic(ulog, "battery_status")
    if bat is None:
        return 0
    for row in zip(_col(bat, "timestamp") * 1e-6, _col(bat, "voltage_v"), _col(bat, "current_a"),
                   _col(bat, "remaining") * 100.0, _col(bat, "discharged_mah"), strict=True):
        b.add("bat", *row)
    _changes(b, bat, "warning", None, "battery_status.warning", kind=("FAILSAFE_BATTERY", "fail"))
    return len(bat["timestamp"])


def _vibration(b: RawBuilder, ulog: ULog) -> int:
    imu = _topic(ulog, "vehicle_imu_status")
    if imu is None or "accel_vibration_metric" not in imu:
        return 0
    clip = sum(_col(imu, f"accel_clipping[{i}]") for i in range(3))
    for row in zip(_col(imu, "timestamp") * 1e-6, _col(imu, "accel_vibration_metric"), clip, strict=True):
        b.add("vibe", *row)
    return 0  # not counted before either: the vibration metric is a derived topic


def _messages(b: RawBuilder, ulog: ULog) -> None:
    for m in ulog.logged_messages:
        text = str(m.message)
        mapped = codes.critical_text_mapping(text) if m.log_level <= 2 else codes.text_mapping(text)
        if mapped and m.log_level <= 4:  # EMERG..WARNING; unnamed CRITICAL texts are system errors
            b.note(Note(m.timestamp * 1e-6, mapped[0], mapped[1], f"message: {text}",
                        f"ULog {m.log_level_str()} {text!r}", key=f"TXT{mapped[0]}"))


# Topic readers in the order they run; each returns the rows it read.
_TOPIC_READERS = (_state, _gps, _local_position, _attitude, _battery, _vibration)

def _changes(b: RawBuilder, d: dict[str, np.ndarray], col: str, sink, what: str,
             kind: tuple[str, str] | None = None) -> None:
    """Report each change of an integer/bool field: to ``sink`` as (t, bool, evidence) or as a Note."""
    if col not in d:
        return
    last = None
    for t, v in zip(_col(d, "timestamp") * 1e-6, _col(d, col), strict=True):
        if v == last or not np.isfinite(v):  # NaN: the field is absent in this row / ULog version
            continue
        last = v
        if sink is not None:
            sink((float(t), bool(v), f"{what}={int(v)}"))
        elif kind is not None and v:
            b.note(Note(float(t), kind[0], kind[1], f"{what} raised", f"{what}={int(v)}", key=what))


def _missing(b: RawBuilder, what: str) -> None:
    """A field this ULog version lacks (or logs as NaN): the value is unknown, and the file says so."""
    b.log.corruption.setdefault("missing_fields", []).append(what)


def _status(b: RawBuilder, vs: dict[str, np.ndarray]) -> None:
    vt = _col(vs, "vehicle_type")
    if len(vt) and np.isfinite(vt[0]):
        b.log.vehicle = "vtol" if _col(vs, "is_vtol")[0] == 1 else _VEHICLE_TYPE.get(int(vt[0]), "unknown")
    elif len(vt):
        _missing(b, "vehicle_status.vehicle_type (vehicle type unknown)")
    armed = (_col(vs, "arming_state") == ARMING_STATE_ARMED).astype(float)
    _changes(b, {"timestamp": vs["timestamp"], "a": armed}, "a", lambda v: b.log.arm.append(
        (v[0], v[1], f"vehicle_status.arming_state={'ARMED' if v[1] else 'not armed'}")), "armed")
    for flag, kind in _FLAGS.items():
        _changes(b, vs, flag, None, f"vehicle_status.{flag}", kind=kind)
    if "failure_detector_status" in vs:
        last = 0
        for t, v in zip(_col(vs, "timestamp") * 1e-6, _col(vs, "failure_detector_status"), strict=True):
            if not np.isfinite(v):
                continue
            new = int(v) & ~last
            last = int(v)
            for bit, (kind, level, name) in _FD_BITS.items():
                if new & (1 << bit):
                    b.note(Note(float(t), kind, level, f"PX4 failure detector {name}",
                                f"vehicle_status.failure_detector_status=0x{int(v):x}", key=name))
    nav = _col(vs, "nav_state")
    last_nav = None
    if len(nav) and not np.isfinite(nav).any():
        _missing(b, "vehicle_status.nav_state (flight modes unknown)")
    for t, v in zip(_col(vs, "timestamp") * 1e-6, nav, strict=True):
        if np.isfinite(v) and v != last_nav:
            name = codes.PX4_NAV_STATES.get(int(v), f"nav_state_{int(v)}")
            b.log.modes.append((float(t), name))
            if int(v) == codes.PX4_NAV_TERMINATION:
                b.note(Note(float(t), "EMERGENCY_LANDING", "fail", "PX4 flight termination",
                            f"vehicle_status.nav_state={int(v)} (TERMINATION)", key="TERMINATION"))
            last_nav = v


def _airborne_streams(b: RawBuilder, ulog: ULog) -> None:
    """baro (vehicle_air_data), motors (actuator_motors 0..1, else actuator_outputs PWM), imu
    (sensor_combined) and landed (vehicle_land_detected): what uavsim.logs.segment decides "airborne" from."""
    if (d := _topic(ulog, "vehicle_air_data")) is not None:
        b.add_block("baro", _col(d, "timestamp") * 1e-6, _col(d, "baro_alt_meter"))
    if (d := _topic(ulog, "actuator_motors")) is not None:
        b.add_block("motors", _col(d, "timestamp") * 1e-6, *(_col(d, f"control[{i}]") for i in range(8)),
                    *([None] * 8))
    elif (d := _topic(ulog, "actuator_outputs")) is not None:
        pwm = [_col(d, f"output[{i}]") for i in range(8)]
        pwm = [np.where((x >= 800) & (x <= 2200), x, np.nan) for x in pwm]
        b.add_block("motors", _col(d, "timestamp") * 1e-6, *(np.clip((x - 1000.0) / 1000.0, 0, 1) for x in pwm), *pwm)
    if (d := _topic(ulog, "sensor_combined")) is not None:
        b.add_block("imu", _col(d, "timestamp") * 1e-6, *(_col(d, f"accelerometer_m_s2[{i}]") for i in range(3)))
    if (d := _topic(ulog, "vehicle_land_detected")) is not None:
        b.add_block("landed", _col(d, "timestamp") * 1e-6, np.where(_col(d, "landed") > 0, 1.0, 2.0))
