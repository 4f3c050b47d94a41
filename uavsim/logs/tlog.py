"""MAVLink telemetry logs (.tlog) through pymavlink, reading only the message types the analysis needs.

A ground station's .tlog interleaves the vehicle with the GCS itself, cameras, gimbals and ADS-B
receivers. The vehicle is the (system, component) whose autopilot heartbeats are most frequent; every
other source is ignored. Time is the vehicle's boot clock (time_boot_ms), never the GCS receive stamps.
Corrupted packets (pymavlink BAD_DATA) are counted.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
from collections import Counter

from pymavlink import mavutil

from uavsim.logs import codes
from uavsim.logs.raw import Note, RawBuilder, RawLog

log = logging.getLogger(__name__)

TYPES = ["HEARTBEAT", "GLOBAL_POSITION_INT", "GPS_RAW_INT", "ATTITUDE", "SYS_STATUS", "BATTERY_STATUS",
         "EKF_STATUS_REPORT", "VIBRATION", "STATUSTEXT", "SYSTEM_TIME", "NAV_CONTROLLER_OUTPUT", "BAD_DATA"]
_MAV_TYPE_NAMES = {1: "plane", 2: "copter", 3: "copter", 4: "copter", 10: "rover", 11: "boat", 12: "sub",
                   13: "copter", 14: "copter", 15: "copter", 19: "vtol", 20: "vtol", 21: "vtol", 22: "vtol"}
_BOOT_TIMED = ("GLOBAL_POSITION_INT", "ATTITUDE", "SYSTEM_TIME")
_UTC_MIN_US = 1.0e15  # GPS_RAW_INT.time_usec above this is Unix time (2001+), below it is boot time


def _vehicle(mlog: mavutil.mavfile) -> tuple[int, int, int, int] | None:
    """(sysid, compid, mav_type, autopilot) of the vehicle: the most frequent autopilot heartbeat source."""
    counts: Counter[tuple[int, int, int, int]] = Counter()
    while True:
        m = mlog.recv_match(type="HEARTBEAT")
        if m is None:
            break
        if m.type in codes.NON_VEHICLE_MAV_TYPES or m.autopilot == codes.MAV_AUTOPILOT_INVALID:
            continue
        counts[(m.get_srcSystem(), m.get_srcComponent(), m.type, m.autopilot)] += 1
    mlog.rewind()  # also forgets the type filter, so the next pass may use another
    return counts.most_common(1)[0][0] if counts else None


def scan_damage(path: str) -> dict[str, int]:
    """Walk the tlog's records (8-byte time stamp + MAVLink frame) without decoding them, and count the
    bytes where no frame starts (resynchronisation) and a frame cut short at the end of the file.
    CRC failures are counted by pymavlink for the message types actually read (``crc_errors``)."""
    with open(path, "rb") as fh:
        data = fh.read()
    n, ofs, junk, frames = len(data), 0, 0, 0
    while ofs + 8 + 2 <= n:
        marker = data[ofs + 8]
        if marker == 0xFE:
            mlen = 8 + data[ofs + 9] + 8
        elif marker == 0xFD and ofs + 11 <= n:
            mlen = 8 + data[ofs + 9] + 12 + (13 if data[ofs + 10] & 0x01 else 0)
        else:
            ofs += 1
            junk += 1
            continue
        frames += 1
        ofs += mlen
    return {"frames": frames, "resync_bytes": junk, "truncated_frame": int(ofs > n)}


def read_tlog(path: str) -> RawLog:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        b = RawBuilder(path, "tlog")
        mlog = mavutil.mavlink_connection(path, dialect="ardupilotmega", robust_parsing=True)
        try:
            veh = _vehicle(mlog)
            if veh is None:
                b.log.corruption["no_vehicle_heartbeat"] = True
                return b.finish()
            b.log.vehicle = _MAV_TYPE_NAMES.get(veh[2], f"mav_type_{veh[2]}")
            b.log.firmware = {3: "ArduPilot", 12: "PX4"}.get(veh[3], f"MAV_AUTOPILOT {veh[3]}")
            _read(mlog, b, veh)
            b.log.corruption["crc_errors"] = int(mlog.mav.total_receive_errors)
        finally:
            mlog.close()
    b.log.corruption.update(scan_damage(path))
    return b.finish()


def _read(mlog: mavutil.mavfile, b: RawBuilder, veh: tuple[int, int, int, int]) -> None:
    sysid, compid = veh[0], veh[1]
    nav: tuple[float | None, float | None] = (None, None)
    bad = other = n = 0
    armed: bool | None = None
    status: int | None = None
    mode: str | None = None
    errors = 0
    while True:
        try:
            m = mlog.recv_match(type=TYPES)
        except Exception as exc:  # noqa: BLE001 - pymavlink raises anything on a damaged file; keep going
            errors += 1  # its type index has moved past the bad frame already
            b.log.corruption["undecodable_messages"] = errors
            b.log.corruption["last_parse_error"] = f"{type(exc).__name__}: {exc}"
            if errors >= 10_000:
                log.warning("%s: parsing stopped after %d errors: %s", b.log.path, errors, exc)
                break
            continue
        if m is None:
            break
        mt = m.get_type()
        if mt == "BAD_DATA":
            bad += 1
            continue
        if m.get_srcSystem() != sysid or m.get_srcComponent() != compid:
            other += 1
            continue
        n += 1
        if mt in _BOOT_TIMED:
            t = b.clock(m.time_boot_ms * 1e-3)
        else:
            t = b.now if b.now is not None else math.nan
        if mt == "HEARTBEAT":
            is_armed = bool(m.base_mode & mavutil.mavlink.MAV_MODE_FLAG_SAFETY_ARMED)
            if is_armed != armed:
                b.log.arm.append((t, is_armed, f"HEARTBEAT base_mode=0x{m.base_mode:02x} (armed={is_armed})"))
                armed = is_armed
            if m.system_status != status:
                status = m.system_status
                if status in codes.HEARTBEAT_STATES:
                    name, kind, level = codes.HEARTBEAT_STATES[status]
                    b.note(Note(t, kind, level, f"vehicle reported {name}",
                                f"HEARTBEAT system_status={status} ({name})", key=f"HB{status}"))
            name = mavutil.mode_string_v10(m)
            if name != mode:
                b.log.modes.append((t, name))
                mode = name
        elif mt == "GLOBAL_POSITION_INT":
            b.add("alt", t, m.relative_alt * 1e-3)
        elif mt == "GPS_RAW_INT":
            utc = m.time_usec * 1e-6 if m.time_usec > _UTC_MIN_US else None
            sats = None if m.satellites_visible == 255 else m.satellites_visible
            hdop = None if m.eph == 65535 else m.eph * 0.01
            b.add("gps", t, m.lat * 1e-7, m.lon * 1e-7, m.alt * 1e-3, m.vel * 0.01 if m.vel != 65535 else None,
                  m.fix_type, sats, hdop, utc)
        elif mt == "ATTITUDE":
            b.add("att", t, math.degrees(m.roll), math.degrees(m.pitch), *nav)
        elif mt == "NAV_CONTROLLER_OUTPUT":
            nav = (m.nav_roll, m.nav_pitch)  # desired attitude, degrees
        elif mt == "SYS_STATUS":
            volt = m.voltage_battery * 1e-3 if m.voltage_battery not in (0, 65535) else None
            curr = m.current_battery * 0.01 if m.current_battery >= 0 else None
            pct = m.battery_remaining if m.battery_remaining >= 0 else None
            b.add("bat", t, volt, curr, pct, None)
        elif mt == "BATTERY_STATUS":
            if m.id == 0 and m.current_consumed >= 0:
                b.add("bat", t, None, None, None, float(m.current_consumed))
        elif mt == "EKF_STATUS_REPORT":
            b.add("ekf", t, max(m.velocity_variance, m.pos_horiz_variance, m.compass_variance))
        elif mt == "VIBRATION":
            b.add("vibe", t, max(m.vibration_x, m.vibration_y, m.vibration_z),
                  m.clipping_0 + m.clipping_1 + m.clipping_2)
        elif mt == "SYSTEM_TIME":
            if m.time_unix_usec > _UTC_MIN_US:
                b.log.utc.append((t, m.time_unix_usec * 1e-6))
        elif mt == "STATUSTEXT":
            text = str(m.text).strip("\x00 ")
            mapped = codes.text_mapping(text)
            if mapped:
                b.note(Note(t, mapped[0], mapped[1], f"message: {text}",
                            f"STATUSTEXT severity={m.severity} {text!r}", key=f"TXT{mapped[0]}"))
    b.log.messages_read = n
    b.log.corruption["bad_packets"] = bad
    b.log.corruption["other_sources_ignored"] = other
