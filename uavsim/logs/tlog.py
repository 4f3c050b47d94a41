"""MAVLink telemetry logs (.tlog): pymavlink indexes the frames; uavsim decodes only the types it needs.

A .tlog is a sequence of (8-byte receive time, MAVLink frame). pymavlink's mmap log reader indexes the
frames by message id; uavsim then checks the CRC and decodes all frames of a wanted type at once with
numpy, using pymavlink's own message definitions (wire order, types, CRC_EXTRA). Frames with a bad
CRC are counted and dropped. The vehicle is the (system, component) whose autopilot heartbeats are
most frequent; ground stations, cameras, gimbals and ADS-B receivers are ignored. Time is the vehicle's
boot clock (time_boot_ms), never the ground station's receive stamps.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
from collections import Counter
from types import SimpleNamespace

import numpy as np
from pymavlink import mavutil
from pymavlink.dialects.v10 import ardupilotmega as mav

from uavsim.logs import codes, framing, identity, params
from uavsim.logs.dfbin import Table
from uavsim.logs.raw import Note, RawBuilder, RawLog

log = logging.getLogger(__name__)

TYPES = ("HEARTBEAT", "GLOBAL_POSITION_INT", "GPS_RAW_INT", "ATTITUDE", "SYS_STATUS", "BATTERY_STATUS",
         "EKF_STATUS_REPORT", "VIBRATION", "STATUSTEXT", "SYSTEM_TIME", "NAV_CONTROLLER_OUTPUT")
AIRBORNE_TYPES = ("VFR_HUD", "SERVO_OUTPUT_RAW", "SCALED_PRESSURE", "EXTENDED_SYS_STATE", "RAW_IMU")
CONFIG_TYPES = ("PARAM_VALUE",)  # the configuration (uavsim.logs.params)
_MAV_TYPE_NAMES = {1: "plane", 2: "copter", 3: "copter", 4: "copter", 10: "rover", 11: "boat", 12: "sub",
                   13: "copter", 14: "copter", 15: "copter", 19: "vtol", 20: "vtol", 21: "vtol", 22: "vtol"}
_UTC_MIN_US = 1.0e15  # GPS_RAW_INT.time_usec above this is Unix time (2001+), below it is boot time
_CRC_EXTRA = framing.crc_extras(mav.mavlink_map)
_NP = {"B": "u1", "b": "i1", "H": "<u2", "h": "<i2", "I": "<u4", "i": "<i4", "Q": "<u8", "q": "<i8",
       "f": "<f4", "d": "<f8", "c": "S1"}


def _x25(rows: np.ndarray, extra: int) -> np.ndarray:
    """MAVLink's CRC-16/MCRF4XX (x25) of each row of bytes, then of CRC_EXTRA; vectorised over rows."""
    crc = np.full(rows.shape[0], 0xFFFF, dtype=np.uint32)
    for col in [*rows.T, np.full(rows.shape[0], extra, dtype=np.uint8)]:
        tmp = (col.astype(np.uint32) ^ (crc & 0xFF)) & 0xFF
        tmp = (tmp ^ (tmp << 4)) & 0xFF
        crc = ((crc >> 8) ^ (tmp << 8) ^ (tmp << 3) ^ (tmp >> 4)) & 0xFFFF
    return crc


def _payload_dtype(cls: type) -> np.dtype:
    fields = []
    for name, ch, n in zip(cls.ordered_fieldnames, cls.native_format.decode()[1:], cls.array_lengths, strict=True):
        if ch == "c":
            fields.append((name, f"S{max(n, 1)}"))
        else:
            fields.append((name, _NP[ch], (n,)) if n else (name, _NP[ch]))
    return np.dtype(fields)


def _decode(data: np.ndarray, ofs: np.ndarray, cls: type) -> tuple[Table, int]:
    """All frames of one message type: fields, source ids and file order; drops (and counts) bad CRCs."""
    n_total = ofs.size
    ofs = ofs + 8  # skip the receive time stamp
    ok = ofs + 8 <= data.size
    ofs = ofs[ok]
    marker, plen = data[ofs], data[np.minimum(ofs + 1, data.size - 1)].astype(np.int64)
    v2 = marker == 0xFD
    hdr = np.where(v2, 10, 6)
    end = ofs + hdr + plen + 2
    whole = end <= data.size
    ofs, plen, hdr, v2 = ofs[whole], plen[whole], hdr[whole], v2[whole]
    good = np.zeros(ofs.size, dtype=bool)
    for key in np.unique(hdr * 256 + plen).tolist():  # each (header, payload length) shape at once
        h, p = divmod(int(key), 256)
        sel = np.flatnonzero((hdr == h) & (plen == p))
        rows = data[(ofs[sel] + 1)[:, None] + np.arange(h - 1 + p)]
        crc = data[ofs[sel] + h + p].astype(np.uint32) | (data[ofs[sel] + h + p + 1].astype(np.uint32) << 8)
        good[sel] = _x25(rows, cls.crc_extra) == crc
    bad = int(ofs.size - good.sum()) + int(n_total - ok.sum()) + int((~whole).sum())
    ofs, plen, hdr, v2 = ofs[good], plen[good], hdr[good], v2[good]
    dt = _payload_dtype(cls)
    # MAVLink 2 trims trailing zero bytes of the payload: pad back; extension fields beyond v1 are dropped.
    idx = (ofs + hdr)[:, None] + np.arange(dt.itemsize)
    body = np.where(np.arange(dt.itemsize)[None, :] < plen[:, None], data[np.minimum(idx, data.size - 1)], 0)
    rec = np.ascontiguousarray(body.astype(np.uint8)).view(dt).reshape(-1)
    table: Table = {"_ofs": ofs, "_sys": np.where(v2, data[ofs + 5], data[ofs + 3]).astype(np.int64),
                    "_comp": np.where(v2, data[ofs + 6], data[ofs + 4]).astype(np.int64)}
    for name in cls.ordered_fieldnames:
        v = rec[name]
        table[name] = v if v.dtype.kind == "S" else v.astype(np.float64)
    return table, bad


def read_tlog(path: str) -> RawLog:
    b = RawBuilder(path, "tlog")
    fh = open(path, "rb")  # noqa: SIM115 - closed below
    size = os.fstat(fh.fileno()).st_size
    mapped = mmap.mmap(fh.fileno(), size, access=mmap.ACCESS_READ) if size else b""
    try:
        data = np.frombuffer(mapped, dtype=np.uint8)
        # uavsim's own framing (not pymavlink's indexer, which trusts any marker byte and fails on a garbage
        # tail): frames whose CRC holds, with skipped bytes, bad CRCs and a cut-off last frame counted.
        scan = framing.scan_tlog(data, _CRC_EXTRA)
        offsets = scan.by_type()
        tables: dict[str, Table] = {}
        crc_errors = scan.bad_crc
        for name in TYPES + AIRBORNE_TYPES + CONFIG_TYPES:
            mid = getattr(mav, f"MAVLINK_MSG_ID_{name}")
            if mid in offsets:
                tables[name], bad = _decode(data, offsets[mid], mav.mavlink_map[mid])
                crc_errors += bad
        del data
        b.log.corruption.update(crc_errors=crc_errors, frames=int(scan.offsets.size + scan.bad_crc + scan.unknown),
                                unindexed_bytes=scan.skipped_bytes, bad_records=scan.bad_records,
                                cut_messages=scan.cut_records, unknown_frames=scan.unknown)
        vehicles = _vehicles(tables["HEARTBEAT"]) if "HEARTBEAT" in tables else []
        if not vehicles:
            b.log.corruption["no_vehicle_heartbeat"] = True
            return b.finish()
        # One ground station may log several aircraft: each gets its own flights (none is dropped).
        keys = {(v[0], v[1]) for v in vehicles}
        is_vehicle = {n: np.isin(tb["_sys"] * 256 + tb["_comp"], [s * 256 + c for s, c in keys]) for n, tb in tables.items()}
        b.log.corruption["other_sources_ignored"] = int(sum((~m).sum() for m in is_vehicle.values()))
        for i, veh in enumerate(vehicles):  # the first fills b; the others get builders of their own
            vb = b if i == 0 else RawBuilder(path, "tlog")
            _assemble(vb, tables, veh)
            if i:
                b.log.others.append(vb.finish())
    finally:
        with contextlib.suppress(Exception):
            if isinstance(mapped, mmap.mmap):
                mapped.close()
        fh.close()
    return b.finish()


MIN_VEHICLE_HEARTBEATS = 5  # fewer autopilot heartbeats than this from a source is noise, not an aircraft


def _vehicles(hb: Table) -> list[tuple[int, int, int, int]]:
    """(sysid, compid, mav_type, autopilot) of each aircraft, the most frequent heartbeat source first."""
    counts: Counter[tuple[int, int, int, int]] = Counter()
    for s, c, ty, ap in zip(hb["_sys"].tolist(), hb["_comp"].tolist(), hb["type"].tolist(), hb["autopilot"].tolist(),
                            strict=True):
        if int(ty) not in codes.NON_VEHICLE_MAV_TYPES and int(ap) != codes.MAV_AUTOPILOT_INVALID:
            counts[(int(s), int(c), int(ty), int(ap))] += 1
    ranked = counts.most_common()
    seen: set[tuple[int, int]] = set()
    out = []
    for (s, c, ty, ap), n in ranked:
        if (s, c) not in seen and (n >= MIN_VEHICLE_HEARTBEATS or not out):
            seen.add((s, c))
            out.append((s, c, ty, ap))
    return out


def _assemble(b: RawBuilder, all_tables: dict[str, Table], veh: tuple[int, int, int, int]) -> None:
    sysid, compid, mav_type, autopilot = veh
    b.log.vehicle = _MAV_TYPE_NAMES.get(mav_type, f"mav_type_{mav_type}")
    b.log.firmware = {3: "ArduPilot", 12: "PX4"}.get(autopilot, f"MAV_AUTOPILOT {autopilot}")
    b.log.aircraft = f"mavlink-{sysid}/{compid}"
    tables: dict[str, Table] = {}
    for name, tb in all_tables.items():
        mine = (tb["_sys"] == sysid) & (tb["_comp"] == compid)
        tables[name] = {k: v[mine] for k, v in tb.items()}
    b.log.messages_read = sum(len(t["_ofs"]) for t in tables.values())
    # Boot clock: time_boot_ms where a message has it; others take the latest one logged before them.
    timed = [(tb["_ofs"], tb["time_boot_ms"] * 1e-3) for tb in tables.values() if "time_boot_ms" in tb]
    all_ofs = np.concatenate([o for o, _ in timed] or [np.zeros(0, np.int64)])
    all_t = np.concatenate([t for _, t in timed] or [np.zeros(0)])
    line = b.timeline(all_ofs, all_t)
    t = {name: b.place(line, tb["_ofs"]) for name, tb in tables.items()}
    _heartbeats(b, tables["HEARTBEAT"], t["HEARTBEAT"], mav_type)
    for name, handler in _HANDLERS.items():
        if name in tables:
            handler(b, tables, t)
    _airborne_streams(b, tables, t)
    _config(b, tables, veh)
    if "STATUSTEXT" in tables:
        _status_texts(b, tables["STATUSTEXT"], t["STATUSTEXT"])


Tables = dict[str, Table]
Times = dict[str, np.ndarray]


def _position(b: RawBuilder, tables: Tables, t: Times) -> None:
    b.add_block("alt", t["GLOBAL_POSITION_INT"], tables["GLOBAL_POSITION_INT"]["relative_alt"] * 1e-3)


def _gps(b: RawBuilder, tables: Tables, t: Times) -> None:
    g = tables["GPS_RAW_INT"]
    utc = np.where(g["time_usec"] > _UTC_MIN_US, g["time_usec"] * 1e-6, np.nan)
    b.add_block("gps", t["GPS_RAW_INT"], g["lat"] * 1e-7, g["lon"] * 1e-7, g["alt"] * 1e-3,
                np.where(g["vel"] == 65535, np.nan, g["vel"] * 0.01), g["fix_type"],
                np.where(g["satellites_visible"] == 255, np.nan, g["satellites_visible"]),
                np.where(g["eph"] == 65535, np.nan, g["eph"] * 0.01), utc)


def _attitude(b: RawBuilder, tables: Tables, t: Times) -> None:
    a = tables["ATTITUDE"]
    des_r = des_p = None
    if (nav := tables.get("NAV_CONTROLLER_OUTPUT")) is not None and len(nav["_ofs"]):
        j = np.searchsorted(nav["_ofs"], a["_ofs"]) - 1  # the latest attitude demand before each sample
        des_r = np.where(j >= 0, nav["nav_roll"][np.clip(j, 0, None)], np.nan)
        des_p = np.where(j >= 0, nav["nav_pitch"][np.clip(j, 0, None)], np.nan)
    b.add_block("att", t["ATTITUDE"], np.degrees(a["roll"]), np.degrees(a["pitch"]), des_r, des_p)


def _sys_status(b: RawBuilder, tables: Tables, t: Times) -> None:
    s = tables["SYS_STATUS"]
    b.add_block("bat", t["SYS_STATUS"], np.where(np.isin(s["voltage_battery"], (0, 65535)), np.nan, s["voltage_battery"] * 1e-3),
                np.where(s["current_battery"] < 0, np.nan, s["current_battery"] * 0.01),
                np.where(s["battery_remaining"] < 0, np.nan, s["battery_remaining"]), None)


def _battery(b: RawBuilder, tables: Tables, t: Times) -> None:
    s = tables["BATTERY_STATUS"]
    keep = (s["id"] == 0) & (s["current_consumed"] >= 0)
    b.add_block("bat", t["BATTERY_STATUS"][keep], None, None, None, s["current_consumed"][keep])


def _ekf(b: RawBuilder, tables: Tables, t: Times) -> None:
    e = tables["EKF_STATUS_REPORT"]
    b.add_block("ekf", t["EKF_STATUS_REPORT"], np.max([e["velocity_variance"], e["pos_horiz_variance"],
                                                        e["compass_variance"]], axis=0))


def _vibration(b: RawBuilder, tables: Tables, t: Times) -> None:
    v = tables["VIBRATION"]
    b.add_block("vibe", t["VIBRATION"], np.max([v["vibration_x"], v["vibration_y"], v["vibration_z"]], axis=0),
                np.max([v["clipping_0"], v["clipping_1"], v["clipping_2"]], axis=0))  # the worst IMU


def _system_time(b: RawBuilder, tables: Tables, t: Times) -> None:
    for ti, u in zip(t["SYSTEM_TIME"].tolist(), tables["SYSTEM_TIME"]["time_unix_usec"].tolist(), strict=True):
        if u > _UTC_MIN_US:
            b.log.utc.append((ti, u * 1e-6))
            break


def _status_texts(b: RawBuilder, tx: Table, t: np.ndarray) -> None:
    for ti, sev, raw in zip(t.tolist(), tx["severity"].tolist(), tx["text"].tolist(), strict=True):
        text = raw.split(b"\x00", 1)[0].decode("utf-8", "replace").strip()
        identity.scan_text(b.log.identity, text)
        if mapped := codes.text_mapping(text):
            b.note(Note(ti, mapped[0], mapped[1], f"message: {text}",
                        f"STATUSTEXT severity={int(sev)} {text!r}", key=f"TXT{mapped[0]}"))


# message type -> what it adds to the RawLog (in this order)
_HANDLERS = {"GLOBAL_POSITION_INT": _position, "GPS_RAW_INT": _gps, "ATTITUDE": _attitude, "SYS_STATUS": _sys_status,
             "BATTERY_STATUS": _battery, "EKF_STATUS_REPORT": _ekf, "VIBRATION": _vibration,
             "SYSTEM_TIME": _system_time}

def _config(b: RawBuilder, tables: dict[str, Table], veh: tuple[int, int, int, int]) -> None:
    """Parameters (PARAM_VALUE) and the MAVLink identity of this aircraft (sysid/compid, autopilot, MAV_TYPE)."""
    if (pv := tables.get("PARAM_VALUE")) is not None and len(pv["_ofs"]):
        params.tlog_params(b.log.params, pv)
    sysid, compid, mav_type, autopilot = veh
    ap = mav.enums["MAV_AUTOPILOT"][autopilot].name.removeprefix("MAV_AUTOPILOT_") \
        if autopilot in mav.enums["MAV_AUTOPILOT"] else f"autopilot{autopilot}"
    ty = mav.enums["MAV_TYPE"][mav_type].name.removeprefix("MAV_TYPE_") \
        if mav_type in mav.enums["MAV_TYPE"] else f"type{mav_type}"
    b.log.identity["mavlink"] = f"mavlink-{sysid}/{compid}-{ap}-{ty}"
    b.log.identity["mav_type"] = ty
    b.log.identity["mavlink_system"] = f"mavlink-{sysid}/{compid}"  # what a fleet mapping names (SYSID_THISMAV)


def _heartbeats(b: RawBuilder, hb: Table, t: np.ndarray, mav_type: int) -> None:
    armed_bit = mavutil.mavlink.MAV_MODE_FLAG_SAFETY_ARMED
    armed_prev = status_prev = mode_prev = None
    for i, ti in enumerate(t.tolist()):
        base, status = int(hb["base_mode"][i]), int(hb["system_status"][i])
        armed = bool(base & armed_bit)
        if armed != armed_prev:
            b.log.arm.append((ti, armed, f"HEARTBEAT base_mode=0x{base:02x} (armed={armed})"))
            armed_prev = armed
        if status != status_prev:
            status_prev = status
            if status in codes.HEARTBEAT_STATES:
                name, kind, level = codes.HEARTBEAT_STATES[status]
                b.note(Note(ti, kind, level, f"vehicle reported {name}",
                            f"HEARTBEAT system_status={status} ({name})", key=f"HB{status}"))
        msg = SimpleNamespace(autopilot=int(hb["autopilot"][i]), base_mode=base, type=mav_type,
                              custom_mode=int(hb["custom_mode"][i]), get_type=lambda: "HEARTBEAT")
        mode = mavutil.mode_string_v10(msg)
        if mode != mode_prev:
            b.log.modes.append((ti, mode))
            mode_prev = mode


SEA_LEVEL_HPA = 1013.25  # ISA standard atmosphere: h = 44330.8 (1 - (p/p0)^0.190263) m
PWM_RANGE_US = (1000.0, 2000.0)  # default ESC range (ArduPilot MOT_PWM_MIN/MAX = 0 -> RC3 range)


def _airborne_streams(b: RawBuilder, tables: dict[str, Table], t: dict[str, np.ndarray]) -> None:
    """baro (SCALED_PRESSURE), throttle (VFR_HUD), motors (SERVO_OUTPUT_RAW port 0), imu (RAW_IMU, mG) and
    landed (EXTENDED_SYS_STATE.landed_state): the evidence uavsim.logs.segment decides "airborne" from."""
    if (p := tables.get("SCALED_PRESSURE")) is not None:
        ok = p["press_abs"] > 0
        b.add_block("baro", t["SCALED_PRESSURE"][ok], 44330.8 * (1.0 - (p["press_abs"][ok] / SEA_LEVEL_HPA) ** 0.190263))
    if (v := tables.get("VFR_HUD")) is not None:
        b.add_block("throttle", t["VFR_HUD"], np.clip(v["throttle"] / 100.0, 0.0, 1.0))
    if (s := tables.get("SERVO_OUTPUT_RAW")) is not None:
        keep = s["port"] == 0
        pwm = [np.where((s[f"servo{i}_raw"] >= 800) & (s[f"servo{i}_raw"] <= 2200), s[f"servo{i}_raw"], np.nan)[keep]
               for i in range(1, 9)]
        lo, hi = PWM_RANGE_US
        b.add_block("motors", t["SERVO_OUTPUT_RAW"][keep], *(np.clip((x - lo) / (hi - lo), 0.0, 1.0) for x in pwm), *pwm)
    if (m := tables.get("RAW_IMU")) is not None:
        g = 9.80665e-3  # ArduPilot sends RAW_IMU acceleration in milli-g
        b.add_block("imu", t["RAW_IMU"], m["xacc"] * g, m["yacc"] * g, m["zacc"] * g)
    if (e := tables.get("EXTENDED_SYS_STATE")) is not None:
        b.add_block("landed", t["EXTENDED_SYS_STATE"], e["landed_state"])

