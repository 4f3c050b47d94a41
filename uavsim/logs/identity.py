"""Which aircraft flew: vehicle type, frame, firmware (version and git hash), board, and an aircraft id.

The readers fill ``RawLog.identity`` (text keys) from what the log carries:
- ArduPilot start-up messages (DataFlash MSG, tlog STATUSTEXT): the banner ``ArduCopter V3.6.4 (6c4da9e3)``,
  ``PX4: 0384802e NuttX: 1bcae90b`` / ``ChibiOS: ff603d11``, the board line ``fmuv5 00290019 32375118 32363435``
  (board name and the MCU's unique id, AP_BoardConfig / GCS_Common send_banner) and ``Frame: QUAD``;
  DataFlash VER (board type, firmware string, git hash) in ArduPilot 4.1+;
- PX4 ULog info fields ``sys_uuid``, ``ver_hw``, ``ver_sw``, ``ver_sw_branch``, ``sys_name``;
- the tlog's HEARTBEAT: system/component id, MAV_AUTOPILOT and MAV_TYPE.

``aircraft_id`` is the board's unique id where one is logged, else the tlog's MAVLink identity, else a
fingerprint of the sensor calibration (accelerometer scale/offsets, compass offsets and device ids),
and radio calibration (RC1-4 MIN/MAX/TRIM), which stays the same for one aircraft until it is recalibrated. The id's origin is always recorded.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from uavsim.logs import params as P

_BANNER = re.compile(r"^(Ardu\w+|APM:\w+|Blimp|AntennaTracker)\s+V?(\d[\w.\-]*)(?:\s+\(([0-9a-fA-F]{6,40})\))?")
_BOARD_UID = re.compile(r"^([A-Za-z][\w\-]*)\s+([0-9A-F]{8})\s+([0-9A-F]{8})\s+([0-9A-F]{8})\s*$")
_OS = re.compile(r"^(?:PX4:\s*([0-9a-f]{6,40})\s+)?(NuttX|ChibiOS):\s*([0-9a-f]{6,40})", re.IGNORECASE)
_FRAME = re.compile(r"^Frame:\s*(\S.*)$")
_VEHICLES = (("copter", "copter"), ("heli", "copter"), ("plane", "plane"), ("rover", "rover"), ("sub", "sub"),
             ("blimp", "blimp"), ("tracker", "tracker"))

# ArduCopter FRAME_CLASS / FRAME_TYPE (3.5+) and the older FRAME (the frame type of a quad build).
FRAME_CLASS = {0: "undefined", 1: "quad", 2: "hexa", 3: "octa", 4: "octaquad", 5: "y6", 6: "heli", 7: "tri",
               8: "singlecopter", 9: "coaxcopter", 10: "bicopter", 11: "heli_dual", 12: "dodecahexa",
               13: "heliquad", 14: "deca"}
FRAME_TYPE = {0: "plus", 1: "x", 2: "v", 3: "h", 4: "v-tail", 5: "a-tail", 10: "y6b", 11: "y6f", 12: "bf-x",
              13: "dji-x", 14: "cw-x", 15: "i", 18: "bf-x-rev", 19: "y4"}
# Parameters of the traditional-helicopter motors library (ArduCopter builds with FRAME_CONFIG HELI_FRAME,
# before FRAME_CLASS 6 existed): swashplate, collective range and rotor speed controller.
_HELI_PARAMS = ("H_SWASH_TYPE", "H_SW_TYPE", "H_COL_MIN", "H_COL_MAX", "H_RSC_MODE")
_FINGERPRINT_PREFIXES = ("INS_ACCSCAL", "INS_ACCOFFS", "INS_ACC2SCAL", "INS_ACC2OFFS", "INS_ACC3SCAL",
                         "INS_ACC3OFFS", "COMPASS_OFS", "COMPASS_DEV_ID", "INS_ACC_ID", "INS_ACC2_ID",
                         "CAL_ACC", "CAL_MAG") + tuple(f"RC{i}_{k}" for i in range(1, 5) for k in ("MIN", "MAX", "TRIM"))
_DEFAULT_CAL = {0.0, 1.0, 1100.0, 1500.0, 1900.0}  # values of an uncalibrated board (RCn defaults 1100/1500/1900)


def scan_text(identity: dict[str, str], text: str) -> None:
    """Identity from one autopilot text message (start-up banner, board line, frame)."""
    s = text.strip()
    if (m := _BANNER.match(s)) and "firmware_version" not in identity:
        identity["firmware_name"], identity["firmware_version"] = m.group(1), m.group(2)
        if m.group(3):
            identity["firmware_git"] = m.group(3).lower()
        low = m.group(1).lower()
        identity.setdefault("vehicle_type", next((v for w, v in _VEHICLES if w in low), "unknown"))
    elif (m := _OS.match(s)) and "os" not in identity:
        identity["os"] = f"{m.group(2)} {m.group(3)}"
        if m.group(1):
            identity["px4_git"] = m.group(1)
    elif (m := _BOARD_UID.match(s)) and "board_uid" not in identity:
        identity["hardware"] = m.group(1)
        identity["board_uid"] = "".join(m.group(i) for i in (2, 3, 4))
    elif (m := _FRAME.match(s)) and "frame" not in identity:
        identity["frame"] = m.group(1).strip().lower()


def dataflash_ver(identity: dict[str, str], table: dict[str, Any]) -> None:
    """DataFlash VER (ArduPilot 4.1+): BU board type, FWS firmware string, GH git hash, APJ board id."""
    if not len(table.get("_ofs", [])):
        return
    row = {k: v[0] for k, v in table.items() if k != "_ofs" and len(v)}
    if "FWS" in row and str(row["FWS"]).strip():
        scan_text(identity, str(row["FWS"]))
    if "GH" in row and "firmware_git" not in identity:
        identity["firmware_git"] = f"{int(row['GH']):08x}"
    if "APJ" in row and "hardware" not in identity:
        identity["hardware"] = f"board id {int(row['APJ'])}"


def ulog_info(identity: dict[str, str], info: dict[str, Any]) -> None:
    """PX4 ULog info fields."""
    for key, name in (("sys_uuid", "board_uid"), ("ver_hw", "hardware"), ("ver_sw", "firmware_git"),
                      ("ver_sw_branch", "firmware_version"), ("sys_name", "firmware_name"), ("sys_mcu", "mcu")):
        v = info.get(key)
        if v is not None and str(v).strip():
            identity[name] = str(v).strip()
    if "ver_sw_release" in info:  # 0xAABBCCTT: major, minor, patch, type
        rel = int(info["ver_sw_release"])
        if rel:
            identity["firmware_version"] = f"{rel >> 24}.{(rel >> 16) & 0xFF}.{(rel >> 8) & 0xFF}"


def frame_of(identity: dict[str, str], params: dict[str, float]) -> str | None:
    """The frame, from the start-up message, else FRAME_CLASS/FRAME_TYPE, else MAV_TYPE (PX4)."""
    if identity.get("frame"):
        return identity["frame"]
    if "FRAME_CLASS" in params:
        cls = FRAME_CLASS.get(int(params["FRAME_CLASS"]), f"class {int(params['FRAME_CLASS'])}")
        typ = FRAME_TYPE.get(int(params.get("FRAME_TYPE", -1)))
        return f"{cls}/{typ}" if typ else cls
    if any(k in params for k in _HELI_PARAMS):  # only heli builds carry the H_ group; their FRAME means nothing
        return "heli"
    if "FRAME" in params:
        return f"frame type {FRAME_TYPE.get(int(params['FRAME']), int(params['FRAME']))}"
    if "SYS_AUTOSTART" in params:
        return f"PX4 airframe {int(params['SYS_AUTOSTART'])}"
    return None


def fingerprint(params: dict[str, float]) -> str | None:
    """A stable hash of the sensor calibration, or None when the calibration is all defaults/absent."""
    cal = sorted((k, v) for k, v in params.items() if k.startswith(_FINGERPRINT_PREFIXES))
    if not cal or all(v in _DEFAULT_CAL for _, v in cal):
        return None
    text = ";".join(f"{k}={v:.6g}" for k, v in cal)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def aircraft_identity(identity: dict[str, str], params: dict[str, float]) -> tuple[str | None, str]:
    """(aircraft id, how it was found). The best id the log carries, else a calibration fingerprint."""
    if identity.get("board_uid"):
        board = identity.get("hardware", "board")
        where = "ULog info sys_uuid" if identity.get("firmware_name") == "PX4" else "start-up message"
        return f"{board}-{identity['board_uid']}", f"board unique id ({where})"
    if params.get("BRD_SERIAL_NUM"):
        return f"serial-{int(params['BRD_SERIAL_NUM'])}", "BRD_SERIAL_NUM parameter"
    if identity.get("mavlink"):
        return identity["mavlink"], "tlog MAVLink system/component id, autopilot and MAV_TYPE (not unique across fleets)"
    fp = fingerprint(params)
    if fp is not None:
        return f"fingerprint-{fp}", "fingerprint of the sensor and radio calibration parameters (changes on recalibration)"
    return None, "the log carries no aircraft identity"


def identity_fields(raw: Any) -> dict[str, Any]:
    """The flight record's identity fields for one read log."""
    ident, params = raw.identity, raw.params
    aid, source = aircraft_identity(ident, params)
    fw = " ".join(x for x in (ident.get("firmware_name"), ident.get("firmware_version")) if x) or raw.firmware or None
    if fw and ident.get("firmware_git"):
        fw += f" ({ident['firmware_git']})"
    hardware = ident.get("hardware")
    if hardware and ident.get("os"):
        hardware += f" / {ident['os']}"
    vehicle = raw.vehicle if raw.vehicle != "unknown" else ident.get("vehicle_type", "unknown")
    return {"vehicle_type": vehicle, "frame": frame_of(ident, params), "firmware": fw, "hardware": hardware,
            "aircraft_id": aid, "aircraft_id_source": source,
            "configuration": {"hazards": P.config_hazards(params, raw.fmt),
                              "ekf_in_control": P.ekf_in_control(params, raw.fmt)[1] if params else None,
                              "parameters": len(params)}}


def apply_identity(flight: Any, raw: Any) -> None:
    """Fill a log flight's identity fields (and ``extra['identity']``, which the store keeps)."""
    fields = identity_fields(raw)
    config = fields.pop("configuration")
    for k, v in fields.items():
        setattr(flight, k, v)
    flight.extra["identity"] = dict(fields)
    if raw.identity.get("mavlink_system"):  # the system/component id alone, as an operator's fleet mapping names it
        flight.extra["identity"]["mavlink_system"] = raw.identity["mavlink_system"]
    flight.extra["configuration"] = config
