"""Simulated flights as MAVLink telemetry logs (.tlog), encoded with pymavlink (ardupilotmega dialect).

A .tlog is what a ground station records: every message is preceded by its receive time, an 8-byte
big-endian count of microseconds since the Unix epoch. The vehicle is an ArduPilot autopilot (compid 1).
Messages are written at 1 Hz from the flight's track: HEARTBEAT (armed flag and flight mode), GLOBAL_POSITION_INT, GPS_RAW_INT, SYS_STATUS, and STATUSTEXT at each event, worded like ArduPilot
so that the importer recognises them. A few disarmed heartbeats pad both ends, as on a real pad. The system
id is per airframe and a first STATUSTEXT names the flight, so every flight is a distinct file.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from pymavlink.dialects.v20 import ardupilotmega as mav

from uavsim.errors import InputError
from uavsim.records import Flight, Telemetry

PAD_S = 3  # seconds of disarmed heartbeats before arming and after disarming
DEGRADED_GPS_S = 10.0  # a GPS event shows as this long a stretch of poor fix (assumption)
# ArduCopter custom_mode numbers (ArduPilot Copter flight modes)
COPTER_MODES = {"AUTO": 3, "RTL": 6, "LAND": 9, "CRASH": 9}
VOLT_FULL_MV, VOLT_EMPTY_MV = 50400, 42000  # 12S pack, assumption for the SYS_STATUS voltage
STATUS_TEXT = {
    "CRASH": (mav.MAV_SEVERITY_EMERGENCY, "Crash: Disarming"),
    "MOTOR_FAILURE": (mav.MAV_SEVERITY_CRITICAL, "Potential Thrust Loss (3)"),
    "FAILSAFE_BATTERY": (mav.MAV_SEVERITY_CRITICAL, "Battery 1 is critical"),
    "GPS_DEGRADED": (mav.MAV_SEVERITY_WARNING, "GPS Glitch"),
    "FAILSAFE_GPS": (mav.MAV_SEVERITY_CRITICAL, "EKF Failsafe"),
    "LINK_LOSS": (mav.MAV_SEVERITY_WARNING, "Radio Failsafe"),
    "FAILSAFE_RADIO": (mav.MAV_SEVERITY_CRITICAL, "Radio Failsafe - Continuing Return"),
    "BIRD_STRIKE": (mav.MAV_SEVERITY_CRITICAL, "Bird strike reported by pilot"),
    "WEATHER": (mav.MAV_SEVERITY_WARNING, "High wind, returning"),
    "EMERGENCY_LANDING": (mav.MAV_SEVERITY_CRITICAL, "Landing off site"),
    "MISSION_ABORTED": (mav.MAV_SEVERITY_NOTICE, "Mission aborted by pilot"),
}


class _Writer:
    def __init__(self, fh, sysid: int) -> None:
        self.fh = fh
        self.mav = mav.MAVLink(None, srcSystem=sysid, srcComponent=1)

    def put(self, t_us: int, msg) -> None:
        buf = msg.pack(self.mav)
        self.mav.seq = (self.mav.seq + 1) % 256
        self.fh.write(struct.pack(">Q", t_us) + buf)


def _unix_us(start_utc: str) -> int:
    dt = datetime.strptime(start_utc, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return int(dt.timestamp()) * 1_000_000


def write_tlog(flight: Flight, path: str | Path, track: Telemetry | None = None) -> Path:
    """Write one simulated flight as a .tlog; returns the path.

    ``track`` is the flight's full 1 Hz track (``CampaignResult.dense_telemetry``), written sample for
    sample so that the importer sees what the simulator classified. Without it the stored (thinned)
    telemetry is resampled to 1 Hz, which can cut corners between samples.
    """
    tel = track if track is not None else flight.telemetry
    if tel is None or len(tel) < 2 or flight.start_utc is None:
        raise InputError(f"flight {flight.id} has no telemetry or start time to write")
    path = Path(path)
    t0_us = _unix_us(flight.start_utc)
    grid, (lat, lon, alt, rel, gs, bat), hdg, mode_at = _resampled(tel, track is not None)
    names = tel.mode_names or ["AUTO"]
    degraded = np.zeros(grid.size, bool)
    for e in flight.events:
        if e.kind in ("GPS_DEGRADED", "FAILSAFE_GPS"):
            degraded |= (grid >= e.t_s) & (grid < e.t_s + DEGRADED_GPS_S)
    texts = sorted(((e.t_s, e.kind) for e in flight.events if e.kind in STATUS_TEXT), key=lambda x: x[0])
    crashed = any(e.kind == "CRASH" for e in flight.events)
    mav_type = mav.MAV_TYPE_VTOL_QUADROTOR if "vtol" in (flight.aircraft_id or "") else mav.MAV_TYPE_OCTOROTOR \
        if (flight.aircraft_id or "").startswith("sprayer") else mav.MAV_TYPE_QUADROTOR
    boot_us = 60_000_000  # the autopilot booted a minute before the take-off
    # Each airframe has its own MAVLink system id (1..250, stable per aircraft id), as a real fleet would.
    sysid = 1 + zlib.crc32((flight.aircraft_id or "").encode()) % 250
    with open(path, "wb") as fh:
        w = _Writer(fh, sysid)

        def heartbeat(t_us: int, armed: bool, mode: str) -> None:
            base = mav.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | (mav.MAV_MODE_FLAG_SAFETY_ARMED if armed else 0)
            state = mav.MAV_STATE_ACTIVE if armed else mav.MAV_STATE_STANDBY
            w.put(t_us, mav.MAVLink_heartbeat_message(mav_type, mav.MAV_AUTOPILOT_ARDUPILOTMEGA, base,
                                                      COPTER_MODES.get(mode, 3), state, 3))

        for k in range(PAD_S, 0, -1):
            heartbeat(t0_us - k * 1_000_000, False, "AUTO")
        # names the flight, so that two identical sorties flown at the same second are two distinct files
        w.put(t0_us - 500_000, mav.MAVLink_statustext_message(mav.MAV_SEVERITY_INFO, f"uavsim {flight.id}"[:50].encode()))
        ti = 0
        for i, t in enumerate(grid):
            t_us = t0_us + int(round(t * 1e6))
            boot_ms = (boot_us + int(round(t * 1e6))) // 1000
            last = i == grid.size - 1
            heartbeat(t_us, not (last and crashed), _mode_name(names, mode_at[i]))
            la, lo = int(round(lat[i] * 1e7)), int(round(lon[i] * 1e7))
            vx = int(round(gs[i] * 100 * math.cos(math.radians(hdg[i]))))
            vy = int(round(gs[i] * 100 * math.sin(math.radians(hdg[i]))))
            w.put(t_us + 1000, mav.MAVLink_global_position_int_message(
                boot_ms, la, lo, int(round(alt[i] * 1000)), int(round(rel[i] * 1000)), vx, vy, 0,
                int(round(hdg[i] * 100)) % 36000))
            fix, sats, eph = (2, 4, 1200) if degraded[i] else (3, 14, 80)
            w.put(t_us + 2000, mav.MAVLink_gps_raw_int_message(
                t_us + 2000, fix, la, lo, int(round(alt[i] * 1000)), eph, 120, int(round(gs[i] * 100)),
                int(round(hdg[i] * 100)) % 36000, sats))
            pct = float(np.clip(bat[i], 0, 100))
            volt = int(VOLT_EMPTY_MV + (VOLT_FULL_MV - VOLT_EMPTY_MV) * pct / 100.0)
            w.put(t_us + 3000, mav.MAVLink_sys_status_message(0, 0, 0, 500, volt, 3000, int(round(pct)), 0, 0, 0, 0,
                                                              0, 0))
            while ti < len(texts) and texts[ti][0] <= t + 1e-9:
                sev, text = STATUS_TEXT[texts[ti][1]]
                w.put(t_us + 4000, mav.MAVLink_statustext_message(sev, text.encode("ascii")))
                ti += 1
        end_us = t0_us + int(round(grid[-1] * 1e6))
        while ti < len(texts):
            sev, text = STATUS_TEXT[texts[ti][1]]
            w.put(end_us + 4000, mav.MAVLink_statustext_message(sev, text.encode("ascii")))
            ti += 1
        for k in range(1, PAD_S + 1):
            heartbeat(end_us + k * 1_000_000, False, _mode_name(names, mode_at[-1]))
    return path


def _resampled(tel: Telemetry, dense: bool) -> tuple[np.ndarray, tuple[np.ndarray, ...], np.ndarray, np.ndarray]:
    """(time grid, (lat, lon, alt MSL, rel alt, ground speed, battery), heading deg, mode index) to write:
    a dense track sample for sample, a thinned one resampled to 1 Hz."""
    if dense:
        grid = tel.t_s
    else:
        grid = np.arange(0.0, float(tel.t_s[-1]) + 1e-9, 1.0)
        if grid[-1] < tel.t_s[-1]:
            grid = np.append(grid, tel.t_s[-1])
    cols = tuple(np.interp(grid, tel.t_s, v) for v in (
        tel.lat, tel.lon, tel.alt_msl_m, tel.rel_alt_m, tel.ground_speed_mps, tel.battery_pct))
    mode_at = tel.mode[np.clip(np.searchsorted(tel.t_s, grid, side="right") - 1, 0, len(tel) - 1)]
    lat, lon = cols[0], cols[1]
    hdg = np.zeros(grid.size)
    if grid.size > 1:
        dy = np.diff(lat) * 111_320.0
        dx = np.diff(lon) * 111_320.0 * math.cos(math.radians(float(lat[0])))
        hdg[1:] = (np.degrees(np.arctan2(dx, dy)) + 360.0) % 360.0
    return grid, cols, hdg, mode_at


def _mode_name(names: list[str], index: int) -> str:
    return names[int(index)] if 0 <= index < len(names) else "AUTO"


def write_logs(flights: list[Flight], out_dir: str | Path, max_logs: int | None = None,
               tracks: Callable[[int], Telemetry] | None = None) -> list[Path]:
    """One .tlog per flight (the first ``max_logs``), named after the flight id; ``tracks(i)`` gives flight
    i's full track (e.g. ``CampaignResult.dense_telemetry``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sel = flights if max_logs is None else flights[:max_logs]
    return [write_tlog(f, out / f"{f.id}.tlog", tracks(i) if tracks else None) for i, f in enumerate(sel)]
