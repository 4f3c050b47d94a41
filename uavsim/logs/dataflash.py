"""ArduPilot DataFlash logs (binary .bin and text .log) through pymavlink's DFReader, reading only needed types.

pymavlink parses the formats and indexes the messages; uavsim decodes only the types it needs
(:mod:`uavsim.logs.dfbin`), then puts every row on one clock. Time comes from each message's boot clock
(TimeUS, TimeMS, or the old GPS ``T`` field); a message without a clock takes the latest one logged before
it. ArduCopter 3.0 logs carry no boot clock at all: time then comes from the GPS time of week, or, without
GPS messages, is estimated from the ATT count at its 10 Hz logging rate and flagged as estimated.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
from pymavlink import DFReader, mavutil

from uavsim.logs import codes, df_airborne, dfbin, identity, params
from uavsim.logs.dfbin import Table
from uavsim.logs.raw import Note, RawBuilder, RawLog

log = logging.getLogger(__name__)

GPS_EPOCH_UNIX_S = 315964800  # 1980-01-06T00:00:00Z
# GPS - UTC leap seconds, from the GPS time (s since the GPS epoch) they took effect (IERS Bulletin C).
GPS_LEAPS = ((0, 0), (46828800, 1), (78364801, 2), (109900802, 3), (173059203, 4), (252028804, 5),
             (315187205, 6), (346723206, 7), (393984007, 8), (425520008, 9), (457056009, 10), (504489610, 11),
             (551750411, 12), (599184012, 13), (820108813, 14), (914803214, 15), (1025136015, 16),
             (1119744016, 17), (1167264017, 18))
ATT_OLD_RATE_HZ = 10.0  # ArduCopter 3.0/3.1 log ATT in the 10 Hz logging loop

TYPES = ("GPS", "ATT", "CTUN", "POS", "CURR", "BAT", "VIBE", "NKF4", "XKF4", "EKF4", "EV", "ERR", "MSG",
         "MODE", "ARM", "STAT") + df_airborne.TYPES + ("PARM", "VER")
_NOT_TEXT = re.compile(rb"[^\t\n\r\x20-\x7e]")


class _NoClockMixin:
    """pymavlink's init_clock() infers a wall clock from GPS messages, and raises TypeError on ArduCopter
    3.0 GPS messages without a week field. uavsim takes time from the boot clock itself, so skip it
    (locally, in these subclasses only)."""

    def init_clock(self) -> None:
        self._rewind(keep_messages=True)  # type: ignore[attr-defined]
        self.clock = None


class _Text(_NoClockMixin, DFReader.DFReader_text):
    """pymavlink's text reader: the slow twin of uavsim's own text parsing in the tests."""


def _col(table: Table, *names: str) -> np.ndarray | None:
    """The first of these columns the table has (numeric), or None."""
    for n in names:
        v = table.get(n)
        if v is not None and v.dtype != object:
            return v
    return None


def _int_scaled(fmt: DFReader.DFFormat | None, col: str) -> bool:
    """Old CURR messages log volts and amps as int16 hundredths; newer ones as floats."""
    try:
        return fmt is not None and fmt.format[fmt.columns.index(col)] in "hHiI"
    except (ValueError, IndexError):
        return False


def read_dataflash(path: str, text: bool) -> RawLog:
    """Read one DataFlash log, reading past damage and counting it in ``corruption``."""
    b = RawBuilder(path, "dataflash-text" if text else "dataflash-bin")
    tables, fmts = _read_text(b, path) if text else _read_binary(b, path)
    _assemble(b, tables, fmts)
    return b.finish()


def _read_binary(b: RawBuilder, path: str) -> tuple[dict[str, Table], dict[str, DFReader.DFFormat]]:
    reader = dfbin.BinaryLog(path, TYPES)  # uavsim's own framing: damage counted, a bad FMT costs only its type
    try:
        tables, cut = dfbin.binary_tables(reader, TYPES)
        fmts = {n: reader.formats[reader.name_to_id[n]] for n in tables}
    finally:
        reader.close()
    b.log.corruption.update(reader.damage)
    b.log.corruption["cut_messages"] = max(cut, reader.damage["cut_messages"])
    return tables, fmts


def _read_text(b: RawBuilder, path: str) -> tuple[dict[str, Table], dict[str, DFReader.DFFormat]]:
    """Straight from the lines (:func:`uavsim.logs.dfbin.text_tables_fast`, equal to pymavlink's text reader
    on the shared logs); bytes that are not text are replaced and counted, short lines are counted."""
    data = Path(path).read_bytes()
    head = data[:2048].decode("ascii", "replace")
    if m := re.search(r"^(Ardu\w+ V[\w.\-]+.*)$", head, re.MULTILINE):  # banner before the first FMT
        _msg(b, float("nan"), m.group(1).strip())
    clean, n_bad = _NOT_TEXT.subn(b"?", data)
    del data
    b.log.corruption["non_text_bytes"] = n_bad
    tables, formats, short = dfbin.text_tables_fast(clean, TYPES)
    b.log.corruption["bad_records"] = short
    return tables, {n: formats[n] for n in tables}


def _clock(name: str, table: Table) -> np.ndarray:
    """Boot-clock seconds of each row, NaN where the message carries no boot clock."""
    n = len(table["_ofs"])
    if (v := _col(table, "TimeUS")) is not None:
        return v * 1e-6
    if name == "GPS":  # old GPS: TimeMS is GPS time of week, T is the boot clock (0 before the GPS is up)
        t = _col(table, "T")
        return np.where(t > 0, t * 1e-3, np.nan) if t is not None else np.full(n, np.nan)
    if (v := _col(table, "TimeMS")) is not None:
        return v * 1e-3
    return np.full(n, np.nan)


def _assemble(b: RawBuilder, tables: dict[str, Table], fmts: dict[str, DFReader.DFFormat]) -> None:
    """Put every row on the monotonic log clock, then fill the streams and notes."""
    b.log.messages_read = sum(len(t["_ofs"]) for t in tables.values())
    ofs = {n: t["_ofs"] for n, t in tables.items()}
    raw_t = {n: _clock(n, t) for n, t in tables.items()}
    if not any(np.isfinite(v).any() for v in raw_t.values()) and "GPS" in tables:
        # No boot clock anywhere (ArduCopter 3.0): the GPS time of week still spans the log correctly.
        tow = _col(tables["GPS"], "Time", "TimeMS")
        if tow is not None and np.count_nonzero(tow > 0) >= 2:
            raw_t["GPS"] = np.where(tow > 0, tow * 1e-3, np.nan)
            b.log.time_source = "gps_time_of_week"
    all_ofs = np.concatenate([ofs[n][np.isfinite(raw_t[n])] for n in tables] or [np.zeros(0, np.int64)])
    all_t = np.concatenate([raw_t[n][np.isfinite(raw_t[n])] for n in tables] or [np.zeros(0)])
    times: dict[str, np.ndarray] = {}
    if all_ofs.size:
        line = b.timeline(all_ofs, all_t)  # a reboot makes the boot clock jump back
        for n in tables:
            times[n] = b.place(line, ofs[n])
        if "EV" in tables and (ids := _col(tables["EV"], "Id")) is not None:
            times["EV"] = _rearm_times(ids, times["EV"], b.resumed(line, ofs["EV"]))
    else:
        # ArduCopter 3.0 logs carry no clock at all: count ATT rows at their 10 Hz logging rate.
        b.log.time_source = "estimated_att_10hz"
        att = ofs.get("ATT", np.zeros(0, np.int64))
        for n in tables:
            times[n] = np.searchsorted(att, ofs[n], side="right") / ATT_OLD_RATE_HZ
        if any(len(v) for v in times.values()):
            every = np.concatenate(list(times.values()))
            b.clock(float(every.min()))
            b.clock(float(every.max()))
    for name in df_airborne.TYPES:  # before CTUN: BARO.Alt is preferred to CTUN.BarAlt
        if name in tables:
            df_airborne.HANDLERS[name](b, tables[name], times[name], fmts.get(name))
    # MSG first: the firmware banner says which vehicle the mode numbers belong to.
    for name in ("MSG", "GPS", "ATT", "CTUN", "POS", "CURR", "BAT", "VIBE", "XKF4", "NKF4", "EKF4", "EV", "ERR",
                 "MODE", "ARM", "STAT"):
        if name in tables:
            _HANDLERS[name](b, tables[name], times[name], fmts.get(name))
            if name == "CTUN":
                df_airborne.ctun(b, tables[name], times[name], fmts.get(name))
    if "PARM" in tables:  # the configuration and the aircraft's identity (uavsim.logs.params / .identity)
        params.dataflash_params(b.log.params, tables["PARM"])
    if "VER" in tables:
        identity.dataflash_ver(b.log.identity, tables["VER"])


def _rearm_times(ids: np.ndarray, t: np.ndarray, resumed: np.ndarray) -> np.ndarray:
    """An arming that follows a disarming across a logging gap happened where logging resumed, not where
    it stopped: ArduCopter 3.x logs only while armed, so the silence was disarmed time. An arming with no
    disarming before it (a repeated ARMED) keeps its place: the gap may be armed time left unlogged."""
    out = t.copy()
    disarmed = False
    for i, ev_id in enumerate(ids.astype(int).tolist()):
        if ev_id == codes.EV_ARMED and disarmed and np.isfinite(resumed[i]):
            out[i] = resumed[i]
        if ev_id in (codes.EV_ARMED, codes.EV_DISARMED):
            disarmed = ev_id == codes.EV_DISARMED
    return out


def _primary(table: Table, col: str) -> np.ndarray:
    """Rows of instance 0 (first GPS, first battery, first IMU, EKF core 0); all rows when not instanced."""
    v = _col(table, col)
    return np.ones(len(table["_ofs"]), bool) if v is None else v == 0


def _gps(b: RawBuilder, tb: Table, t: np.ndarray, fmt: DFReader.DFFormat | None) -> None:
    keep = _primary(tb, "I")
    week = _col(tb, "GWk", "Week")
    ms = _col(tb, "GMS") if "GMS" in tb else (_col(tb, "TimeMS") if "Week" in tb else None)
    utc = None
    if week is not None and ms is not None:
        gps_s = week * 604800 + ms * 1e-3
        leap = np.array([x[1] for x in GPS_LEAPS])[np.searchsorted([x[0] for x in GPS_LEAPS], gps_s, side="right") - 1]
        utc = np.where(week > 0, GPS_EPOCH_UNIX_S + gps_s - leap, np.nan)

    def k(v: np.ndarray | None) -> np.ndarray | None:
        return None if v is None else v[keep]

    b.add_block("gps", t[keep], k(_col(tb, "Lat")), k(_col(tb, "Lng")), k(_col(tb, "Alt")), k(_col(tb, "Spd")),
                k(_col(tb, "Status")), k(_col(tb, "NSats")), k(_col(tb, "HDop")), k(utc))


def _att(b: RawBuilder, tb: Table, t: np.ndarray, fmt: DFReader.DFFormat | None) -> None:
    # Old logs' RollIn/PitchIn are the pilot's sticks, not the controller's target: no attitude error from them.
    b.add_block("att", t, _col(tb, "Roll"), _col(tb, "Pitch"), _col(tb, "DesRoll"), _col(tb, "DesPitch"))


def _alt(b: RawBuilder, tb: Table, t: np.ndarray, name: str) -> None:
    # One relative-height source per log, best first: baro, position message. Never the inertial CTUN.Alt:
    # it diverges on a bench board (ArduCopter 3.x) and made armed benches look like flights.
    if "alt" in b.sources:
        return
    for src, cols in (("CTUN", ("BAlt", "BarAlt")), ("POS", ("RelHomeAlt", "RelAlt"))):
        if src == name and (v := _col(tb, *cols)) is not None:
            b.sources["alt"] = f"{name}.{next(c for c in cols if c in tb)}"
            b.add_block("alt", t, v)
            return


def _bat(b: RawBuilder, tb: Table, t: np.ndarray, fmt: DFReader.DFFormat | None) -> None:
    if "bat" in b.sources:  # CURR and BAT describe the same battery in logs that have both
        return
    b.sources["bat"] = fmt.name if fmt is not None else "BAT"
    keep = _primary(tb, "Instance") & _primary(tb, "Inst")
    v, c = _col(tb, "Volt"), _col(tb, "Curr")
    v = None if v is None else v * (0.01 if _int_scaled(fmt, "Volt") else 1.0)
    c = None if c is None else c * (0.01 if _int_scaled(fmt, "Curr") else 1.0)
    rem, used = _col(tb, "RemPct"), _col(tb, "CurrTot")
    b.add_block("bat", t[keep], *(None if x is None else x[keep] for x in (v, c, rem, used)))


def _vibe(b: RawBuilder, tb: Table, t: np.ndarray, fmt: DFReader.DFFormat | None) -> None:
    keep = _primary(tb, "IMU")
    axes = [x for x in (_col(tb, c) for c in ("VibeX", "VibeY", "VibeZ")) if x is not None]
    clips = [x for x in (_col(tb, c) for c in ("Clip0", "Clip1", "Clip2", "Clip")) if x is not None]
    vib = np.max(axes, axis=0)[keep] if axes else None
    clip = np.max(clips, axis=0)[keep] if clips else None  # the worst IMU: one shock clips them all
    b.add_block("vibe", t[keep], vib, clip)


def _ekf(b: RawBuilder, tb: Table, t: np.ndarray, fmt: DFReader.DFFormat | None) -> None:
    if "ekf" in b.sources:  # EKF3 (XKF4) first, else EKF2 (NKF4), else the old EKF (EKF4)
        return
    b.sources["ekf"] = fmt.name if fmt is not None else "EKF"
    keep = _primary(tb, "C")
    parts = [x for x in (_col(tb, c) for c in ("SV", "SP", "SM", "SMX", "SMY", "SMZ")) if x is not None]
    if parts:
        b.add_block("ekf", t[keep], np.max(parts, axis=0)[keep])


def _ev_rows(b: RawBuilder, tb: Table, t: np.ndarray, fmt: DFReader.DFFormat | None) -> None:
    ids = _col(tb, "Id")
    for ti, ev_id in zip(t.tolist(), (ids if ids is not None else np.zeros(0)).tolist(), strict=False):
        _ev(b, ti, int(ev_id))


def _err_rows(b: RawBuilder, tb: Table, t: np.ndarray, fmt: DFReader.DFFormat | None) -> None:
    subs, ecodes = _col(tb, "Subsys"), _col(tb, "ECode")
    if subs is None or ecodes is None:
        return
    for ti, sub, code in zip(t.tolist(), subs.astype(int).tolist(), ecodes.astype(int).tolist(), strict=True):
        kind, level, name, clears = codes.err_mapping(sub, code)
        b.note(Note(ti, kind, level, f"ERR {name}", f"ERR Subsys={sub} ECode={code} ({name})",
                    key=f"ERR{sub}", clears=clears, value=float(code)))


def _msg_rows(b: RawBuilder, tb: Table, t: np.ndarray, fmt: DFReader.DFFormat | None) -> None:
    for ti, text in zip(t.tolist(), tb.get("Message", np.zeros(0, object)), strict=False):
        _msg(b, ti, str(text).strip("\x00 "))


_MAV_TYPES = {"copter": mavutil.mavlink.MAV_TYPE_QUADROTOR, "plane": mavutil.mavlink.MAV_TYPE_FIXED_WING,
              "rover": mavutil.mavlink.MAV_TYPE_GROUND_ROVER, "sub": mavutil.mavlink.MAV_TYPE_SUBMARINE}


def _mode_rows(b: RawBuilder, tb: Table, t: np.ndarray, fmt: DFReader.DFFormat | None) -> None:
    mapping = mavutil.mode_mapping_bynumber(_MAV_TYPES.get(b.log.vehicle, mavutil.mavlink.MAV_TYPE_QUADROTOR)) or {}
    names = tb.get("Mode")
    nums = _col(tb, "ModeNum", "Mode")
    reasons = _col(tb, "Rsn")
    for i, ti in enumerate(t.tolist()):
        if reasons is not None and int(reasons[i]) in codes.MODE_REASONS:
            rname, kind, level = codes.MODE_REASONS[int(reasons[i])]
            mode = str(names[i]) if names is not None and names.dtype == object else \
                mapping.get(int(nums[i]), "?") if nums is not None else "?"
            b.note(Note(ti, kind, level, f"mode changed to {mode} by {rname}",
                        f"MODE Mode={mode} Rsn={int(reasons[i])} ({rname})", key=f"RSN{int(reasons[i])}"))
        if names is not None and names.dtype == object:
            name = str(names[i])  # old text logs log the mode by name
        elif nums is not None:
            name = mapping.get(int(nums[i]), f"MODE_{int(nums[i])}")
        else:
            continue
        b.log.modes.append((ti, name))


def _arm_rows(b: RawBuilder, tb: Table, t: np.ndarray, fmt: DFReader.DFFormat | None) -> None:
    state = _col(tb, "ArmState")
    for ti, v in zip(t.tolist(), (state if state is not None else np.zeros(0)).tolist(), strict=False):
        b.log.arm.append((ti, bool(v), f"ARM ArmState={int(v)}"))


def _stat_rows(b: RawBuilder, tb: Table, t: np.ndarray, fmt: DFReader.DFFormat | None) -> None:
    for col in ("Armed", "isFlying", "Crash"):
        v = _col(tb, col)
        if v is None or not len(v):
            continue
        for i in np.flatnonzero(np.concatenate([[True], v[1:] != v[:-1]])).tolist():
            ti, x = float(t[i]), int(v[i])
            if col == "Armed":
                b.log.arm.append((ti, bool(x), f"STAT Armed={x}"))
            elif col == "isFlying":
                b.log.landed.append((ti, not x, f"STAT isFlying={x}"))
            elif x:
                b.note(Note(ti, "CRASH", "fail", "autopilot crash detector", f"STAT Crash={x}", key="STAT"))


_HANDLERS = {
    "GPS": _gps, "ATT": _att, "CTUN": lambda b, tb, t, f: _alt(b, tb, t, "CTUN"),
    "POS": lambda b, tb, t, f: _alt(b, tb, t, "POS"), "CURR": _bat, "BAT": _bat, "VIBE": _vibe,
    "XKF4": _ekf, "NKF4": _ekf, "EKF4": _ekf, "EV": _ev_rows, "ERR": _err_rows, "MSG": _msg_rows,
    "MODE": _mode_rows, "ARM": _arm_rows, "STAT": _stat_rows,
}


def _ev(b: RawBuilder, t: float, ev_id: int) -> None:
    name = codes.ev_name(ev_id)
    evidence = f"EV Id={ev_id} ({name})"
    if ev_id in (codes.EV_ARMED, codes.EV_DISARMED):
        b.log.arm.append((t, ev_id == codes.EV_ARMED, evidence))
    elif ev_id in codes.EV_IN_AIR:
        b.log.landed.append((t, not codes.EV_IN_AIR[ev_id], evidence))
        b.add("landed", t, 2.0 if codes.EV_IN_AIR[ev_id] else 1.0)  # MAV_LANDED_STATE in air / on ground
    if ev_id in codes.EV_EVENTS:
        kind, level = codes.EV_EVENTS[ev_id]
        b.note(Note(t, kind, level, f"EV {name}", evidence, key=f"EV{ev_id}"))
    else:
        b.note(Note(t, None, "info", f"EV {name}", evidence, key=f"EV{ev_id}"))


def _msg(b: RawBuilder, t: float, text: str) -> None:
    identity.scan_text(b.log.identity, text)
    low = text.lower()
    if not b.log.firmware and re.search(r"(copter|plane|rover|sub|apm:|px4|ardu)", low) and re.search(r"v\d", low):
        b.log.firmware = text
        for word, vehicle in (("copter", "copter"), ("plane", "plane"), ("rover", "rover"), ("sub", "sub")):
            if word in low:
                b.log.vehicle = vehicle
                break
    mapped = codes.text_mapping(text)
    if mapped:
        b.note(Note(t, mapped[0], mapped[1], f"message: {text}", f"MSG {text!r}", key=f"TXT{mapped[0]}"))
