"""Regenerate the synthetic flight-log fixtures in this folder (deterministic; no real data is copied).

    .venv/bin/python tests/data/make_log_fixtures.py

- ac30_gps_noweek.log: an ArduCopter 3.0-style DataFlash text log whose GPS format has no week field
  (the FMT lines follow ArduCopter 3.0.1's); one flight that climbs to 12 m and lands.
- vehicle_gcs_camera.tlog: a MAVLink 1 telemetry log with heartbeats from the vehicle (1/1), a ground
  station (255/190), a camera (1/100) and a gimbal (1/154) that also claim to be armed; a radio-failsafe
  text from the vehicle and a "Crash" text from the ground station (to be ignored); 7 junk bytes and one
  frame with a broken checksum; two flights, the second cut off at 15 m while armed.
- two_vehicles.tlog: one ground station logging two aircraft (system ids 1 and 2) whose flights overlap.
- brownout.tlog: an aircraft that reboots at 20 m while armed; after the reboot it reports "disarmed".
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

from pymavlink.dialects.v10 import ardupilotmega as mav

HERE = Path(__file__).resolve().parent
T0_UNIX = 1_750_000_000.0  # 2025-06-15T15:06:40Z


def ac30_text_log() -> str:
    lines = [
        "", "ArduCopter V3.0.1", "Free RAM: 1696", "APM 2",
        "FMT, 128, 89, FMT, BBnNZ, Type,Length,Name,Format",
        "FMT, 130, 35, GPS, BIBcLLeeEe, Status,Time,NSats,HDop,Lat,Lng,RelAlt,Alt,Spd,GCrs",
        "FMT, 132, 67, MSG, Z, Message",
        "FMT, 9, 19, CURR, hIhhhf, Thr,ThrInt,Volt,Curr,Vcc,CurrTot",
        "FMT, 4, 25, CTUN, hcefhhhhh, ThrIn,SonAlt,BarAlt,WPAlt,NavThr,AngBst,CRate,ThrOut,DCRate",
        "FMT, 1, 17, ATT, cccccCC, RollIn,Roll,PitchIn,Pitch,YawIn,Yaw,NavYaw",
        "FMT, 3, 6, MODE, Mh, Mode,ThrCrs",
        "FMT, 13, 4, EV, B, Id",
        "FMT, 19, 5, ERR, BB, Subsys,ECode",
        "MSG, ArduCopter V3.0.1",
        "MODE, STABILIZE, 0",
    ]
    # 60 s at the 10 Hz ATT rate: armed at 5 s, climb to 12 m by 15 s, hover, land by 50 s, disarm at 55 s.
    for i in range(600):
        t = i / 10.0
        if i == 50:
            lines.append("EV, 10")
        if i == 550:
            lines.append("EV, 11")
        if i == 300:
            lines.append("ERR, 5, 1")
        if i == 320:
            lines.append("ERR, 5, 0")
        h = 0.0 if t < 5 or t > 50 else min(12.0, (t - 5) * 1.2, (50 - t) * 1.2)
        lines.append(f"ATT, 0, {2 * math.sin(t):.2f}, 0, {1.5 * math.cos(t):.2f}, 0, 90, 90")
        lines.append(f"CTUN, 500, 0, {h:.2f}, {h:.2f}, 500, 0, 0, 500, 0")
        if i % 2 == 0:  # GPS at 5 Hz, GPS time of week in ms, no week number
            spd = 4.0 if 15 <= t <= 40 else 0.1
            lines.append(f"GPS, 3, {100_000_000 + i * 100}, 9, 1.20, 21.5197000, {103.2174 + i * 1e-6:.7f}, "
                         f"{h:.2f}, {600 + h:.2f}, {spd:.2f}, 90.00")
        if i % 10 == 0:
            lines.append(f"CURR, 500, {i * 100}, 1200, {1500 if 5 <= t <= 50 else 50}, 5000, {i * 0.5:.1f}")
    return "\n".join(lines) + "\n"


class _Writer:
    def __init__(self) -> None:
        self.out = bytearray()
        self.links: dict[tuple[int, int], mav.MAVLink] = {}

    def send(self, t_s: float, sysid: int, compid: int, msg: mav.MAVLink_message) -> bytes:
        link = self.links.setdefault((sysid, compid), mav.MAVLink(None, srcSystem=sysid, srcComponent=compid))
        frame = msg.pack(link)
        link.seq = (link.seq + 1) % 256
        self.out += struct.pack(">Q", int((T0_UNIX + t_s) * 1e6)) + frame
        return frame


def tlog() -> bytes:
    w = _Writer()
    armed_flag = mav.MAV_MODE_FLAG_SAFETY_ARMED | mav.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED
    for i in range(0, 700):  # 70 s at 10 Hz
        t = i / 10.0
        armed = 5.0 <= t < 42.0 or t >= 50.0
        if t < 5:
            h = 0.0
        elif t < 42:
            h = max(0.0, min(20.0, (t - 5) * 2.0, (40 - t) * 2.0))
        else:
            h = 0.0 if t < 50 else min(15.0, (t - 50) * 1.5)
        spd = 5.0 if (12 <= t <= 35) or (t >= 55) else 0.2
        lat, lon = 21.5197 + 1e-6 * i, 103.2174
        boot_ms = int(t * 1000) + 10_000
        if i % 10 == 0:
            w.send(t, 1, 1, mav.MAVLink_heartbeat_message(2, 3, armed_flag if armed else 1, 5, 4, 3))
            w.send(t, 255, 190, mav.MAVLink_heartbeat_message(6, 8, 0, 0, 0, 3))
            # A camera and a gimbal on the vehicle's system id, claiming "armed": must be ignored.
            w.send(t, 1, 100, mav.MAVLink_heartbeat_message(30, 8, armed_flag, 0, 4, 3))
            w.send(t, 1, 154, mav.MAVLink_heartbeat_message(26, 8, armed_flag, 0, 4, 3))
            w.send(t, 1, 1, mav.MAVLink_sys_status_message(0, 0, 0, 500, 15800, 1500 if armed else 50,
                                                           max(10, 100 - int(t)), 0, 0, 0, 0, 0, 0))
        w.send(t, 1, 1, mav.MAVLink_global_position_int_message(boot_ms, int(lat * 1e7), int(lon * 1e7),
                                                                int((600 + h) * 1000), int(h * 1000), 0, 0, 0, 0))
        w.send(t, 1, 1, mav.MAVLink_attitude_message(boot_ms, 0.02, -0.01, 1.0, 0, 0, 0))
        if i % 2 == 0:
            w.send(t, 1, 1, mav.MAVLink_gps_raw_int_message(int((T0_UNIX + t) * 1e6), 3, int(lat * 1e7),
                                                            int(lon * 1e7), int((600 + h) * 1000), 90, 120,
                                                            int(spd * 100), 0, 12))
        if i == 200:
            w.send(t, 1, 1, mav.MAVLink_statustext_message(2, b"Radio Failsafe"))
            w.send(t, 255, 190, mav.MAVLink_statustext_message(2, b"Crash: Disarming"))
        if i == 300:
            w.out += b"\x00\x11\x22\x33\x44\x55\x66"  # junk between records
        if i == 310:  # a frame whose checksum byte is broken
            frame = w.send(t, 1, 1, mav.MAVLink_attitude_message(boot_ms, 0.0, 0.0, 1.0, 0, 0, 0))
            w.out[-1] ^= 0xFF
            assert len(frame) > 0
    return bytes(w.out)


def two_vehicles() -> bytes:
    """One ground station logging two aircraft (system ids 1 and 2) that fly at overlapping times."""
    w = _Writer()
    armed_flag = mav.MAV_MODE_FLAG_SAFETY_ARMED | mav.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED
    plan = {1: (5.0, 30.0, 21.5197, 103.2174), 2: (20.0, 45.0, 21.5614, 103.1819)}  # arm, disarm, launch
    for i in range(250):  # 50 s at 5 Hz
        t = i / 5.0
        if i % 5 == 0:
            w.send(t, 255, 190, mav.MAVLink_heartbeat_message(6, 8, 0, 0, 0, 3))
        for sysid, (t_arm, t_disarm, lat0, lon0) in plan.items():
            armed = t_arm <= t < t_disarm
            h = max(0.0, min(25.0, (t - t_arm - 1) * 3.0, (t_disarm - 2 - t) * 3.0)) if armed else 0.0
            spd = 6.0 if h > 20 else 0.1
            lat = lat0 + (1e-5 * (t - t_arm) if armed else 0.0)
            boot_ms = int(t * 1000) + 1000 * sysid
            if i % 5 == 0:
                w.send(t, sysid, 1, mav.MAVLink_heartbeat_message(2, 3, armed_flag if armed else 1, 5, 4, 3))
            w.send(t, sysid, 1, mav.MAVLink_global_position_int_message(
                boot_ms, int(lat * 1e7), int(lon0 * 1e7), int((650 + h) * 1000), int(h * 1000), 0, 0, 0, 0))
            w.send(t, sysid, 1, mav.MAVLink_gps_raw_int_message(
                int((T0_UNIX + t) * 1e6), 3, int(lat * 1e7), int(lon0 * 1e7), int((650 + h) * 1000), 90, 120,
                int(spd * 100), 0, 12))
    return bytes(w.out)


def brownout_tlog() -> bytes:
    """An aircraft that reboots at 20 m while armed (a brownout): its boot clock restarts and its first
    heartbeat after the reboot says "disarmed"."""
    w = _Writer()
    armed_flag = mav.MAV_MODE_FLAG_SAFETY_ARMED | mav.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED
    for i in range(200):  # 40 s at 5 Hz; the reboot happens at 25 s
        t = i / 5.0
        rebooted = t >= 25.0
        boot_ms = int((t - 25.0) * 1000) + 500 if rebooted else int(t * 1000) + 60_000
        armed = 5.0 <= t < 25.0
        h = min(20.0, max(0.0, (t - 6.0) * 3.0)) if armed else 0.0
        if i % 5 == 0 or (rebooted and i == 125):
            w.send(t, 1, 1, mav.MAVLink_heartbeat_message(2, 3, armed_flag if armed else 1, 5, 4, 3))
        w.send(t, 1, 1, mav.MAVLink_global_position_int_message(
            boot_ms, int(21.5197e7), int(103.2174e7), int((600 + h) * 1000), int(h * 1000), 0, 0, 0, 0))
    return bytes(w.out)


def main() -> None:
    (HERE / "ac30_gps_noweek.log").write_text(ac30_text_log(), encoding="ascii")
    (HERE / "vehicle_gcs_camera.tlog").write_bytes(tlog())
    (HERE / "two_vehicles.tlog").write_bytes(two_vehicles())
    (HERE / "brownout.tlog").write_bytes(brownout_tlog())


if __name__ == "__main__":
    main()
