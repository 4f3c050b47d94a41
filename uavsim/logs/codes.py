"""ArduPilot ERR and EV codes, MAVLink states and autopilot texts, mapped to uavsim event kinds.

Sources (ArduPilot master, libraries/AP_Logger/AP_Logger.h):
- ``enum class LogErrorSubsystem`` (ERR.Subsys) and ``enum class LogErrorCode`` (ERR.ECode);
- ``enum class LogEvent`` (EV.Id). Id 16 was ``DATA_TAKEOFF`` in ArduCopter 3.0/3.1 (ArduCopter/defines.h
  of those releases); it is no longer used.
MAVLink: common.xml ``MAV_STATE`` (HEARTBEAT.system_status) and ``MAV_TYPE``.

Each mapping gives (event kind, level); level ``fail`` or ``warn`` picks the severity in the rules table.
"""

from __future__ import annotations

import re

# LogErrorSubsystem: id -> (name, event kind, level when ECode != 0)
ERR_SUBSYSTEMS: dict[int, tuple[str, str, str]] = {
    1: ("MAIN", "SYSTEM_ERROR", "fail"),
    2: ("RADIO", "LINK_LOSS", "warn"),
    3: ("COMPASS", "SENSOR_ERROR", "fail"),
    4: ("OPTFLOW", "SENSOR_ERROR", "warn"),
    5: ("FAILSAFE_RADIO", "FAILSAFE_RADIO", "fail"),
    6: ("FAILSAFE_BATT", "FAILSAFE_BATTERY", "fail"),
    7: ("FAILSAFE_GPS", "FAILSAFE_GPS", "fail"),
    8: ("FAILSAFE_GCS", "FAILSAFE_GCS", "fail"),
    9: ("FAILSAFE_FENCE", "FAILSAFE_FENCE", "fail"),
    10: ("FLIGHT_MODE", "SYSTEM_ERROR", "refused"),  # ECode = the mode refused; the aircraft stays in its mode
    11: ("GPS", "GPS_DEGRADED", "fail"),
    12: ("CRASH_CHECK", "CRASH", "fail"),
    13: ("FLIP", "SYSTEM_ERROR", "warn"),
    14: ("AUTOTUNE", "SYSTEM_ERROR", "warn"),
    15: ("PARACHUTES", "SYSTEM_ERROR", "warn"),
    16: ("EKFCHECK", "EKF_VARIANCE", "fail"),
    17: ("FAILSAFE_EKFINAV", "FAILSAFE_EKF", "fail"),
    18: ("BARO", "SENSOR_ERROR", "fail"),
    19: ("CPU", "SYSTEM_ERROR", "fail"),
    20: ("FAILSAFE_ADSB", "FAILSAFE_OTHER", "fail"),
    21: ("TERRAIN", "SYSTEM_ERROR", "warn"),
    22: ("NAVIGATION", "SYSTEM_ERROR", "warn"),
    23: ("FAILSAFE_TERRAIN", "FAILSAFE_OTHER", "fail"),
    24: ("EKF_PRIMARY", "SENSOR_ERROR", "warn"),
    25: ("THRUST_LOSS_CHECK", "MOTOR_FAILURE", "fail"),
    26: ("FAILSAFE_SENSORS", "FAILSAFE_OTHER", "fail"),
    27: ("FAILSAFE_LEAK", "FAILSAFE_OTHER", "fail"),
    28: ("PILOT_INPUT", "FAILSAFE_OTHER", "fail"),
    29: ("FAILSAFE_VIBE", "VIBRATION", "fail"),
    30: ("INTERNAL_ERROR", "SYSTEM_ERROR", "fail"),
    31: ("FAILSAFE_DEADRECKON", "FAILSAFE_OTHER", "fail"),
}

# LogErrorCode names that depend on the subsystem (the enum reuses values).
_ECODE_NAMES: dict[tuple[int, int], str] = {
    (2, 2): "RADIO_LATE_FRAME", (12, 1): "CRASH_CHECK_CRASH", (12, 2): "CRASH_CHECK_LOSS_OF_CONTROL",
    (13, 2): "FLIP_ABANDONED", (21, 2): "MISSING_TERRAIN_DATA", (22, 2): "FAILED_TO_SET_DESTINATION",
    (22, 3): "RESTARTED_RTL", (22, 4): "FAILED_CIRCLE_INIT", (22, 5): "DEST_OUTSIDE_FENCE",
    (22, 6): "RTL_MISSING_RNGFND", (30, 1): "INTERNAL_ERRORS_DETECTED", (15, 2): "PARACHUTE_TOO_LOW",
    (15, 3): "PARACHUTE_LANDED", (16, 2): "EKFCHECK_BAD_VARIANCE", (18, 2): "BARO_GLITCH",
    (18, 3): "BAD_DEPTH", (11, 2): "GPS_GLITCH", (1, 1): "MAIN_INS_DELAY",
}
_FAILSAFE_SUBSYS = {5, 6, 7, 8, 9, 17, 20, 23, 26, 27, 28, 29, 31}


def ecode_name(subsys: int, ecode: int) -> str:
    if subsys == 10:
        return f"MODE_{ecode}"
    if ecode == 0:
        return "FAILSAFE_RESOLVED" if subsys in _FAILSAFE_SUBSYS else "ERROR_RESOLVED"
    if (subsys, ecode) in _ECODE_NAMES:
        return _ECODE_NAMES[(subsys, ecode)]
    if subsys in _FAILSAFE_SUBSYS and ecode == 1:
        return "FAILSAFE_OCCURRED"
    return {1: "FAILED_TO_INITIALISE", 4: "UNHEALTHY"}.get(ecode, f"ECODE_{ecode}")


def err_mapping(subsys: int, ecode: int) -> tuple[str, str, str, bool]:
    """(kind, level, "SUBSYS/ECODE_NAME", clears) for one ERR message. Unknown subsystems are system errors."""
    name, kind, level = ERR_SUBSYSTEMS.get(subsys, (f"SUBSYS_{subsys}", "SYSTEM_ERROR", "fail"))
    # FLIGHT_MODE's ECode is a mode number, never a "resolved" code.
    clears = ecode == 0 and subsys != 10
    return kind, level, f"{name}/{ecode_name(subsys, ecode)}", clears


# LogEvent ids. Routine ones drive segmentation or are context; the rest map to (kind, level).
EV_NAMES: dict[int, str] = {
    10: "ARMED", 11: "DISARMED", 15: "AUTO_ARMED", 16: "TAKEOFF", 17: "LAND_COMPLETE_MAYBE",
    18: "LAND_COMPLETE", 19: "LOST_GPS", 21: "FLIP_START", 22: "FLIP_END", 25: "SET_HOME",
    26: "SET_SIMPLE_ON", 27: "SET_SIMPLE_OFF", 28: "NOT_LANDED", 29: "SET_SUPERSIMPLE_ON",
    30: "AUTOTUNE_INITIALISED", 31: "AUTOTUNE_OFF", 32: "AUTOTUNE_RESTART", 33: "AUTOTUNE_SUCCESS",
    34: "AUTOTUNE_FAILED", 35: "AUTOTUNE_REACHED_LIMIT", 36: "AUTOTUNE_PILOT_TESTING",
    37: "AUTOTUNE_SAVEDGAINS", 38: "SAVE_TRIM", 39: "SAVEWP_ADD_WP", 41: "FENCE_ENABLE", 42: "FENCE_DISABLE",
    43: "ACRO_TRAINER_OFF", 44: "ACRO_TRAINER_LEVELING", 45: "ACRO_TRAINER_LIMITED", 46: "GRIPPER_GRAB",
    47: "GRIPPER_RELEASE", 49: "PARACHUTE_DISABLED", 50: "PARACHUTE_ENABLED", 51: "PARACHUTE_RELEASED",
    52: "LANDING_GEAR_DEPLOYED", 53: "LANDING_GEAR_RETRACTED", 54: "MOTORS_EMERGENCY_STOPPED",
    55: "MOTORS_EMERGENCY_STOP_CLEARED", 56: "MOTORS_INTERLOCK_DISABLED", 57: "MOTORS_INTERLOCK_ENABLED",
    58: "ROTOR_RUNUP_COMPLETE", 59: "ROTOR_SPEED_BELOW_CRITICAL", 60: "EKF_ALT_RESET",
    61: "LAND_CANCELLED_BY_PILOT", 62: "EKF_YAW_RESET", 63: "AVOIDANCE_ADSB_ENABLE",
    64: "AVOIDANCE_ADSB_DISABLE", 65: "AVOIDANCE_PROXIMITY_ENABLE", 66: "AVOIDANCE_PROXIMITY_DISABLE",
    67: "GPS_PRIMARY_CHANGED", 71: "ZIGZAG_STORE_A", 72: "ZIGZAG_STORE_B", 73: "LAND_REPO_ACTIVE",
    74: "STANDBY_ENABLE", 75: "STANDBY_DISABLE", 163: "SURFACED", 164: "NOT_SURFACED", 165: "BOTTOMED",
    166: "NOT_BOTTOMED",
}
EV_ARMED, EV_DISARMED = 10, 11
EV_IN_AIR = {16: True, 28: True, 18: False}  # TAKEOFF / NOT_LANDED -> flying, LAND_COMPLETE -> landed
EV_EVENTS: dict[int, tuple[str, str]] = {
    19: ("GPS_DEGRADED", "fail"),  # LOST_GPS
    51: ("EMERGENCY_LANDING", "fail"),  # PARACHUTE_RELEASED: the flight was terminated
    54: ("MOTOR_FAILURE", "fail"),  # MOTORS_EMERGENCY_STOPPED; "crash" level when it happens in the air
    59: ("MOTOR_FAILURE", "fail"),  # ROTOR_SPEED_BELOW_CRITICAL (helicopter)
    34: ("SYSTEM_ERROR", "warn"),  # AUTOTUNE_FAILED
}


# ModeReason (MODE.Rsn in DataFlash; ArduPilot libraries/AP_Vehicle/ModeReason.h): the mode changes that a
# failsafe or a detector made, as evidence of its own. Human commands and mission ends are routine.
MODE_REASONS: dict[int, tuple[str, str, str]] = {
    3: ("RADIO_FAILSAFE", "FAILSAFE_RADIO", "fail"), 4: ("BATTERY_FAILSAFE", "FAILSAFE_BATTERY", "fail"),
    5: ("GCS_FAILSAFE", "FAILSAFE_GCS", "fail"), 6: ("EKF_FAILSAFE", "FAILSAFE_EKF", "fail"),
    7: ("GPS_GLITCH", "GPS_DEGRADED", "fail"), 10: ("FENCE_BREACHED", "FAILSAFE_FENCE", "fail"),
    11: ("TERRAIN_FAILSAFE", "FAILSAFE_OTHER", "fail"), 17: ("TERMINATE", "EMERGENCY_LANDING", "fail"),
    19: ("CRASH_FAILSAFE", "CRASH", "fail"), 23: ("VTOL_FAILED_TRANSITION", "FAILSAFE_OTHER", "fail"),
    24: ("VTOL_FAILED_TAKEOFF", "FAILSAFE_OTHER", "fail"), 25: ("FAILSAFE", "FAILSAFE_OTHER", "fail"),
    29: ("LEAK_FAILSAFE", "FAILSAFE_OTHER", "fail"),
}

# PX4 vehicle_status.nav_state (msg/vehicle_status.msg NAVIGATION_STATE_*), for mode names; TERMINATION
# is the flight termination (motors cut, parachute): an emergency landing at best.
PX4_NAV_STATES = {0: "MANUAL", 1: "ALTCTL", 2: "POSCTL", 3: "AUTO_MISSION", 4: "AUTO_LOITER", 5: "AUTO_RTL",
                  10: "ACRO", 12: "DESCEND", 13: "TERMINATION", 14: "OFFBOARD", 15: "STAB", 17: "AUTO_TAKEOFF",
                  18: "AUTO_LAND", 19: "AUTO_FOLLOW_TARGET", 20: "AUTO_PRECLAND", 21: "ORBIT", 22: "AUTO_VTOL_TAKEOFF"}
PX4_NAV_TERMINATION = 13


def ev_name(ev_id: int) -> str:
    return EV_NAMES.get(ev_id, f"EV_{ev_id}")


# MAVLink MAV_STATE (HEARTBEAT.system_status). ArduPilot reports CRITICAL while any failsafe is active;
# EMERGENCY means "lost control over parts or the whole airframe, in mayday and going down".
MAV_STATE_CRITICAL, MAV_STATE_EMERGENCY = 5, 6
HEARTBEAT_STATES: dict[int, tuple[str, str, str]] = {
    MAV_STATE_CRITICAL: ("MAV_STATE_CRITICAL", "FAILSAFE_OTHER", "fail"),
    MAV_STATE_EMERGENCY: ("MAV_STATE_EMERGENCY", "EMERGENCY_LANDING", "fail"),
}

# MAV_TYPE values whose heartbeats are not a vehicle's (GCS, tracker, gimbal, ADS-B, camera, charger,
# FLARM, servo, onboard controller, Open Drone ID, ...): common.xml MAV_TYPE.
NON_VEHICLE_MAV_TYPES = frozenset({5, 6, 18, 26, 27, 30, 31, 32, 33, 34, 36, 37, 38, 39, 40, 41, 42})
MAV_AUTOPILOT_INVALID = 8

# Autopilot texts (STATUSTEXT, DataFlash MSG, ULog logged messages) that prove an occurrence.
# Order matters: the first match wins. "PreArm"/"Arm:" checks are ground-only and never events.
_TEXT_RULES: tuple[tuple[str, str, str], ...] = (
    (r"^(pre ?arm|arm:|arming|preflight)", "", ""),
    (r"clear|resolv|restored|regained|\bok\b", "", ""),
    (r"crash", "CRASH", "fail"),
    (r"parachute.*releas|releas.*parachute", "EMERGENCY_LANDING", "fail"),
    (r"thrust loss|motor.*(fail|lost)|esc.*fail", "MOTOR_FAILURE", "fail"),
    (r"(low|critical) battery|battery.*(failsafe|low|critical)", "FAILSAFE_BATTERY", "fail"),
    (r"(radio|rc|throttle)( signal)? (failsafe|lost)|manual control lost", "FAILSAFE_RADIO", "fail"),
    (r"gcs failsafe|data ?link lost|connection to (gcs|ground station) lost", "FAILSAFE_GCS", "fail"),
    (r"ekf.*(variance|failsafe)|ekf.*fail", "FAILSAFE_EKF", "fail"),
    (r"fence.*breach|geofence.*(violat|breach)", "FAILSAFE_FENCE", "fail"),
    (r"gps glitch|gps.*lost|no gps|gps fix lost", "GPS_DEGRADED", "fail"),
    (r"vibration compensation on|high vibration", "VIBRATION", "fail"),
    # PX4 mavlink_log_critical texts (commander, ekf2, failure detector) that the rules above miss.
    (r"filter fault|estimator (failure|fault|error)|ekf\w*.*(fault|unhealthy|numerical)|navigation (failure|error)"
     r"|(local |global )?position (estimate )?(lost|invalid)|height estimate (lost|invalid)", "FAILSAFE_EKF", "fail"),
    (r"critical failure detected|attitude failure|failure detector|lockdown", "LOSS_OF_CONTROL", "fail"),
    (r"imbalanced prop", "MOTOR_IMBALANCE", "warn"),
    (r"emergency battery|battery.*emergency|dangerous battery", "FAILSAFE_BATTERY", "fail"),
    (r"failsafe", "FAILSAFE_OTHER", "fail"),
)
_TEXT_RES = tuple((re.compile(p, re.IGNORECASE), k, lv) for p, k, lv in _TEXT_RULES)


def text_mapping(text: str) -> tuple[str, str] | None:
    """(kind, level) for an autopilot text message, or None when it proves nothing."""
    s = text.strip()
    for rx, kind, level in _TEXT_RES:
        if rx.search(s):
            return (kind, level) if kind else None
    return None


def critical_text_mapping(text: str) -> tuple[str, str] | None:
    """A PX4 message logged at CRITICAL or worse that no rule names: a system error to look at (observation)."""
    mapped = text_mapping(text)
    if mapped is not None:
        return mapped
    ignored = any(rx.search(text.strip()) for rx, kind, _ in _TEXT_RES if not kind)
    return None if ignored else ("SYSTEM_ERROR", "warn")
