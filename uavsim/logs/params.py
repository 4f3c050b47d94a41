"""The autopilot's configuration as the log recorded it, and what it says about the health checks.

Parameters come from DataFlash PARM (Name, Value), tlog PARAM_VALUE (param_id, param_value) and ULog's
initial parameters; the last value logged wins (a parameter changed in flight keeps its latest value).
The readers call the ``*_params`` functions; detectors ask the questions below, each answering
``None`` when the log does not say (and an unknown never makes a check milder).

Sources: ArduPilot parameter docs (AHRS_EKF_USE for Copter 3.2-3.3, AHRS_EKF_TYPE with EK2_ENABLE /
EK3_ENABLE from 3.4, BATT_MONITOR, ARMING_CHECK, FS_THR_ENABLE, FS_BATT_ENABLE, BATT_FS_LOW_ACT,
FS_GCS_ENABLE); ArduCopter mode.h ``requires_GPS()``; PX4 parameter reference (SYS_MC_EST_GROUP,
EKF2_EN, NAV_RCL_ACT, COM_LOW_BAT_ACT, CBRK_*).
"""

from __future__ import annotations

from typing import Any

import numpy as np

# ArduCopter modes whose requires_GPS() is false (mode.h); Plane/PX4 manual and attitude modes likewise.
# Any other known mode is taken to need a position estimate; an unknown mode answers None.
NO_GPS_MODES = frozenset({
    "STABILIZE", "ACRO", "ALT_HOLD", "SPORT", "FLIP", "AUTOTUNE", "LAND", "FLOWHOLD", "GUIDED_NOGPS",
    "SYSTEMID", "TURTLE", "THROW_NOGPS",
    # ArduPlane without position: MANUAL, STABILIZE, FBWA, ACRO, TRAINING, QSTABILIZE, QHOVER, QACRO
    "MANUAL", "FBWA", "TRAINING", "QSTABILIZE", "QHOVER", "QACRO",
    # PX4 nav_state names (codes.PX4_NAV_STATES)
    "ALTCTL", "STAB", "DESCEND", "TERMINATION",
})
GPS_MODES = frozenset({
    "AUTO", "GUIDED", "LOITER", "RTL", "CIRCLE", "POSHOLD", "DRIFT", "BRAKE", "THROW", "SMART_RTL", "FOLLOW",
    "ZIGZAG", "AUTO_RTL", "AVOID_ADSB", "OF_LOITER", "HYBRID", "FBWB", "CRUISE", "QLOITER", "QRTL", "QLAND",
    "POSCTL", "AUTO_MISSION", "AUTO_LOITER", "AUTO_TAKEOFF", "AUTO_LAND", "AUTO_FOLLOW_TARGET",
    "AUTO_PRECLAND", "ORBIT", "OFFBOARD", "AUTO_VTOL_TAKEOFF",
})

# PX4 circuit breakers and the key that engages them (PX4 parameter reference): an engaged breaker
# switches a safety check off.
_PX4_BREAKERS = {"CBRK_SUPPLY_CHK": 894281, "CBRK_RATE_CTRL": 140253, "CBRK_VELPOSERR": 201607,
                 "CBRK_IO_SAFETY": 22027}


def add_param(params: dict[str, float], name: Any, value: Any) -> None:
    """One parameter value; names are upper-case text, values finite floats (others are skipped)."""
    key = name.decode("ascii", "replace") if isinstance(name, bytes) else str(name)
    key = key.split("\x00", 1)[0].strip().upper()
    try:
        v = float(value)
    except (TypeError, ValueError):
        return
    if key and np.isfinite(v):
        params[key] = v


def dataflash_params(params: dict[str, float], table: dict[str, np.ndarray]) -> None:
    """DataFlash PARM rows (Name, Value), in log order."""
    names, values = table.get("Name"), table.get("Value")
    if names is None or values is None:
        return
    for n, v in zip(names.tolist(), values.tolist(), strict=False):
        add_param(params, n, v)


def tlog_params(params: dict[str, float], table: dict[str, np.ndarray]) -> None:
    """tlog PARAM_VALUE rows (param_id as bytes, param_value), in file order."""
    order = np.argsort(table["_ofs"], kind="stable")
    for n, v in zip(table["param_id"][order].tolist(), table["param_value"][order].tolist(), strict=True):
        add_param(params, n, v)


def ulog_params(params: dict[str, float], initial: dict[str, Any], changed: list[tuple[Any, str, Any]]) -> None:
    """ULog initial parameters, then the changes logged during the flight (timestamp, name, value)."""
    for n, v in initial.items():
        add_param(params, n, v)
    for _, n, v in changed:
        add_param(params, n, v)


def ekf_in_control(params: dict[str, float], fmt: str) -> tuple[bool | None, str]:
    """(does an EKF fly the aircraft?, the parameter that says so). None when the log does not say."""
    p = params
    if fmt == "ulog":
        if "EKF2_EN" in p:
            return p["EKF2_EN"] != 0, f"EKF2_EN={p['EKF2_EN']:g}"
        if "SYS_MC_EST_GROUP" in p:
            return p["SYS_MC_EST_GROUP"] == 2, f"SYS_MC_EST_GROUP={p['SYS_MC_EST_GROUP']:g} (2 = EKF2)"
        return None, "no PX4 estimator parameter"
    if "AHRS_EKF_TYPE" in p:
        kind = int(p["AHRS_EKF_TYPE"])
        if kind == 0:
            return False, "AHRS_EKF_TYPE=0 (DCM flies the aircraft)"
        enable = {2: "EK2_ENABLE", 3: "EK3_ENABLE"}.get(kind)
        if enable and p.get(enable, 1.0) == 0:
            return False, f"AHRS_EKF_TYPE={kind} but {enable}=0 (DCM flies the aircraft)"
        return True, f"AHRS_EKF_TYPE={kind}"
    if "AHRS_EKF_USE" in p:
        return p["AHRS_EKF_USE"] != 0, f"AHRS_EKF_USE={p['AHRS_EKF_USE']:g}"
    return None, "no AHRS_EKF_USE / AHRS_EKF_TYPE parameter"


def mode_needs_gps(mode: str | None) -> bool | None:
    """Does this flight mode navigate on a position estimate? None for an unknown mode."""
    if not mode:
        return None
    m = mode.upper()
    if m in NO_GPS_MODES:
        return False
    if m in GPS_MODES:
        return True
    return None


def battery_monitor_enabled(params: dict[str, float]) -> bool | None:
    """ArduPilot BATT_MONITOR (0 = no monitor); None when not logged."""
    if "BATT_MONITOR" in params:
        return params["BATT_MONITOR"] != 0
    return None


def config_hazards(params: dict[str, float], fmt: str) -> list[dict[str, str]]:
    """Safety functions the configuration switched off: [{"parameter", "value", "hazard"}]."""
    p = params
    out: list[dict[str, str]] = []

    def add(name: str, hazard: str) -> None:
        out.append({"parameter": name, "value": f"{p[name]:g}", "hazard": hazard})

    if fmt == "ulog":
        for name, key in _PX4_BREAKERS.items():
            if p.get(name) == key:
                add(name, "circuit breaker engaged: that safety check is off")
        if p.get("NAV_RCL_ACT") == 0:
            add("NAV_RCL_ACT", "RC loss failsafe disabled")
        if p.get("COM_LOW_BAT_ACT") == 0:
            add("COM_LOW_BAT_ACT", "low battery gives a warning only, no action")
        return out
    if p.get("ARMING_CHECK") == 0:
        add("ARMING_CHECK", "pre-arm checks disabled")
    if p.get("FS_THR_ENABLE") == 0:
        add("FS_THR_ENABLE", "radio (throttle) failsafe disabled")
    if p.get("BATT_MONITOR") == 0:
        add("BATT_MONITOR", "no battery monitor: the battery failsafe cannot act")
    elif p.get("FS_BATT_ENABLE") == 0 or p.get("BATT_FS_LOW_ACT") == 0:
        add("FS_BATT_ENABLE" if p.get("FS_BATT_ENABLE") == 0 else "BATT_FS_LOW_ACT", "battery failsafe disabled")
    if p.get("FS_GCS_ENABLE") == 0:
        add("FS_GCS_ENABLE", "ground-station link failsafe disabled")
    return out
