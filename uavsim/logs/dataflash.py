"""ArduPilot DataFlash logs (binary .bin and text .log) through pymavlink's DFReader, reading only needed types.

Time comes from each message's boot clock (TimeUS, TimeMS, or the old GPS ``T`` field); messages without a
clock take the latest one seen. Old ArduCopter 3.0/3.1 logs carry no clock on most messages and 3.0 logs
none at all: then time is estimated from the ATT count at its 10 Hz logging rate and flagged as estimated.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import re
import tempfile
from pathlib import Path

from pymavlink import DFReader

from uavsim.logs import codes
from uavsim.logs.raw import Note, RawBuilder, RawLog

log = logging.getLogger(__name__)

GPS_EPOCH_UNIX_S = 315964800  # 1980-01-06T00:00:00Z
GPS_UTC_LEAP_S = 18  # GPS - UTC since 2017; older logs are off by up to 3 s, immaterial here
ATT_OLD_RATE_HZ = 10.0  # ArduCopter 3.0/3.1 log ATT in the 10 Hz logging loop
MAX_PARSE_ERRORS = 10_000  # give up on a file this broken rather than loop through it

TYPES = ("GPS", "ATT", "CTUN", "POS", "CURR", "BAT", "VIBE", "NKF4", "XKF4", "EKF4", "EV", "ERR", "MSG",
         "MODE", "ARM", "STAT")
_SKIPPED = re.compile(r"Skipped (\d+) bad bytes")
_FAILED = re.compile(r"Failed to parse|bad msg at offset|Failed to transform")


class _NoClockMixin:
    """pymavlink's init_clock() infers a wall clock from GPS messages, and raises TypeError on ArduCopter
    3.0 GPS messages without a week field. uavsim takes time from the boot clock itself, so skip it
    (locally, in these subclasses only)."""

    def init_clock(self) -> None:
        self._rewind(keep_messages=True)  # type: ignore[attr-defined]
        self.clock = None


class _Binary(_NoClockMixin, DFReader.DFReader_binary):
    pass


class _Text(_NoClockMixin, DFReader.DFReader_text):
    pass


def _count(reader: DFReader.DFReader, name: str) -> int:
    if isinstance(reader, DFReader.DFReader_binary):
        mid = reader.name_to_id.get(name)
        return int(reader.counts[mid]) if mid is not None else 0
    return int(reader.counts.get(name, 0))


def _formats(reader: DFReader.DFReader) -> dict[str, DFReader.DFFormat]:
    return {f.name: f for f in reader.formats.values()}


def _int_scaled(fmt: DFReader.DFFormat, col: str) -> bool:
    """Old CURR messages log volts and amps as int16 hundredths; newer ones as floats."""
    try:
        return fmt.format[fmt.columns.index(col)] in "hHiI"
    except (ValueError, IndexError):
        return False


def _get(m: object, *names: str) -> float | None:
    for n in names:
        v = getattr(m, n, None)
        if v is not None:
            try:
                f = float(v)
            except (TypeError, ValueError):
                continue
            return f if math.isfinite(f) else None
    return None


_NOT_TEXT = re.compile(rb"[^\t\n\r\x20-\x7e]")


def read_dataflash(path: str, text: bool) -> RawLog:
    """Read one DataFlash log; pymavlink's stdout/stderr chatter is captured and counted as corruption."""
    out = io.StringIO()
    b = RawBuilder(path, "dataflash-text" if text else "dataflash-bin")
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(out))
        src = path
        if text:
            # pymavlink's text reader stops at the first byte that is not UTF-8; damaged text logs are
            # read from a copy whose non-text bytes are replaced, and the bytes are counted.
            data = Path(path).read_bytes()
            clean, n_bad = _NOT_TEXT.subn(b"?", data)
            b.log.corruption["non_text_bytes"] = n_bad
            if n_bad:
                tmp = stack.enter_context(tempfile.NamedTemporaryFile(suffix=".log"))
                tmp.write(clean)
                tmp.flush()
                src = tmp.name
        reader = _Text(src) if text else _Binary(src)
        try:
            _read(reader, b)
        finally:
            with contextlib.suppress(Exception):
                reader.filehandle.close()
    chatter = out.getvalue()
    b.log.corruption["skipped_bytes"] = sum(int(x) for x in _SKIPPED.findall(chatter))
    b.log.corruption["bad_messages"] = len(_FAILED.findall(chatter))
    return b.finish()


def _read(reader: DFReader.DFReader, b: RawBuilder) -> None:
    fmts = _formats(reader)
    timed = any(c in ("TimeUS", "TimeMS") for n in TYPES if n in fmts for c in fmts[n].columns if n != "GPS")
    timed = timed or ("GPS" in fmts and "T" in fmts["GPS"].columns)
    b.log.time_source = "boot" if timed else "estimated_att_10hz"
    # One relative-altitude source per log, best first: EKF/inertial, then baro, then position message.
    alt_src = None
    for name, cols in (("CTUN", ("Alt",)), ("CTUN", ("BAlt", "BarAlt")), ("POS", ("RelHomeAlt", "RelAlt"))):
        if name in fmts and _count(reader, name) and any(c in fmts[name].columns for c in cols):
            alt_src = (name, cols)
            break
    types = [t for t in TYPES if t in fmts]
    last_stat: dict[str, float] = {}
    n = 0
    t_est = 0.0
    errors = 0
    while True:
        try:
            m = reader.recv_match(type=types, strict=True)
        except Exception as exc:  # noqa: BLE001 - pymavlink raises anything on a damaged file; keep going
            # Its type index has already moved past the bad message, so the next call reads the next one.
            errors += 1
            b.log.corruption["undecodable_messages"] = errors
            b.log.corruption["last_parse_error"] = f"{type(exc).__name__}: {exc}"
            if errors >= MAX_PARSE_ERRORS:
                b.log.corruption["stopped_at_offset"] = int(getattr(reader, "offset", 0))
                log.warning("%s: parsing stopped after %d errors: %s", b.log.path, errors, exc)
                break
            continue
        if m is None:
            break
        n += 1
        mt = m.get_type()
        # -- time --------------------------------------------------------------------------------------------
        if not timed:
            if mt == "ATT":
                t_est += 1.0 / ATT_OLD_RATE_HZ
            t = b.clock(t_est)
        else:
            raw = _get(m, "TimeUS")
            if raw is not None:
                raw *= 1e-6
            elif mt == "GPS":
                raw = _get(m, "T")
                raw = raw * 1e-3 if raw else None  # T = 0 before the GPS is up: no clock
            else:
                raw = _get(m, "TimeMS")
                raw = raw * 1e-3 if raw is not None else None
            t = b.clock(raw) if raw is not None else (b.now if b.now is not None else math.nan)
        # -- content -----------------------------------------------------------------------------------------
        if mt == "GPS":
            if _get(m, "I") not in (None, 0.0):
                continue
            week, ms = _get(m, "GWk", "Week"), _get(m, "GMS")
            if ms is None and "Week" in m.fmt.columns:
                ms = _get(m, "TimeMS")
            utc = GPS_EPOCH_UNIX_S + week * 604800 + ms * 1e-3 - GPS_UTC_LEAP_S if week and ms is not None else None
            b.add("gps", t, _get(m, "Lat"), _get(m, "Lng"), _get(m, "Alt"), _get(m, "Spd"), _get(m, "Status"),
                  _get(m, "NSats"), _get(m, "HDop"), utc)
        elif mt == "ATT":
            b.add("att", t, _get(m, "Roll"), _get(m, "Pitch"), _get(m, "DesRoll", "RollIn"),
                  _get(m, "DesPitch", "PitchIn"))
        elif alt_src is not None and mt == alt_src[0]:
            b.add("alt", t, _get(m, *alt_src[1]))
        elif mt in ("CURR", "BAT"):
            if _get(m, "Instance", "Inst") not in (None, 0.0):
                continue
            v, c = _get(m, "Volt"), _get(m, "Curr")
            if v is not None and _int_scaled(m.fmt, "Volt"):
                v *= 0.01
            if c is not None and _int_scaled(m.fmt, "Curr"):
                c *= 0.01
            b.add("bat", t, v, c, _get(m, "RemPct"), _get(m, "CurrTot"))
        elif mt == "VIBE":
            if _get(m, "IMU") not in (None, 0.0):
                continue
            vib = [x for x in (_get(m, "VibeX"), _get(m, "VibeY"), _get(m, "VibeZ")) if x is not None]
            clips = [x for x in (_get(m, "Clip0"), _get(m, "Clip1"), _get(m, "Clip2"), _get(m, "Clip")) if x is not None]
            b.add("vibe", t, max(vib) if vib else None, sum(clips) if clips else None)
        elif mt in ("NKF4", "XKF4", "EKF4"):
            if _get(m, "C") not in (None, 0.0):
                continue
            vals = [x for x in (_get(m, c) for c in ("SV", "SP", "SM", "SMX", "SMY", "SMZ")) if x is not None]
            b.add("ekf", t, max(vals) if vals else None)
        elif mt == "EV":
            _ev(b, t, int(_get(m, "Id") or 0))
        elif mt == "ERR":
            sub, code = int(_get(m, "Subsys") or 0), int(_get(m, "ECode") or 0)
            kind, level, name, clears = codes.err_mapping(sub, code)
            b.note(Note(t, kind, level, f"ERR {name}", f"ERR Subsys={sub} ECode={code} ({name})",
                        key=f"ERR{sub}", clears=clears, value=float(code)))
        elif mt == "MSG":
            text = str(getattr(m, "Message", "")).strip("\x00 ")
            _msg(b, t, text)
        elif mt == "MODE":
            b.log.modes.append((t, str(getattr(reader, "flightmode", "") or _get(m, "ModeNum", "Mode"))))
        elif mt == "ARM":
            state = _get(m, "ArmState")
            if state is not None:
                b.log.arm.append((t, bool(state), f"ARM ArmState={int(state)}"))
        elif mt == "STAT":
            for col in ("Armed", "isFlying", "Crash"):
                v = _get(m, col)
                if v is None or last_stat.get(col) == v:
                    continue
                last_stat[col] = v
                if col == "Armed":
                    b.log.arm.append((t, bool(v), f"STAT Armed={int(v)}"))
                elif col == "isFlying":
                    b.log.landed.append((t, not bool(v), f"STAT isFlying={int(v)}"))
                elif v:
                    b.note(Note(t, "CRASH", "fail", "autopilot crash detector", f"STAT Crash={int(v)}", key="STAT"))
    b.log.messages_read = n


def _ev(b: RawBuilder, t: float, ev_id: int) -> None:
    name = codes.ev_name(ev_id)
    evidence = f"EV Id={ev_id} ({name})"
    if ev_id in (codes.EV_ARMED, codes.EV_DISARMED):
        b.log.arm.append((t, ev_id == codes.EV_ARMED, evidence))
    elif ev_id in codes.EV_IN_AIR:
        b.log.landed.append((t, not codes.EV_IN_AIR[ev_id], evidence))
    if ev_id in codes.EV_EVENTS:
        kind, level = codes.EV_EVENTS[ev_id]
        b.note(Note(t, kind, level, f"EV {name}", evidence, key=f"EV{ev_id}"))
    else:
        b.note(Note(t, None, "info", f"EV {name}", evidence, key=f"EV{ev_id}"))


def _msg(b: RawBuilder, t: float, text: str) -> None:
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
