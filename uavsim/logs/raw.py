"""The format-independent result of reading one log: columnar series on one monotonic clock, plus notes.

Every reader (DataFlash, tlog, ULog) fills a :class:`RawLog`; segmentation and detection only see this.
Time ``t`` is seconds on the log's boot clock (TimeUS/TimeMS, time_boot_ms, ULog timestamp), made
monotonic across reboots by an offset, so that durations never come from file timestamps.
Units are SI apart from angles, which stay in degrees (named ``*_deg``).

Streams that decide "airborne" (uavsim.logs.segment) and that the detectors reuse:

- ``baro`` (t, alt_m): barometric altitude in metres on the sensor's own datum (DataFlash BARO.Alt or
  CTUN.BarAlt, tlog SCALED_PRESSURE converted with the standard atmosphere, ULog vehicle_air_data.baro_alt_meter).
  Only its rise over the level before take-off means anything.
- ``motors`` (t, out_1..out_8, pwm_1..pwm_8): motor outputs. ``out_i`` is normalised 0..1 (0 = the output's
  minimum, 1 = its maximum) where the range is known (actuator_motors; PWM over 1000..2000 µs, or the
  MOT_PWM_MIN/MAX range when the log says so); ``pwm_i`` is the raw PWM in µs (NaN for non-PWM outputs).
  Unused outputs are NaN.
- ``throttle`` (t, frac): the collective throttle demand 0..1 (CTUN.ThO, VFR_HUD.throttle/100,
  vehicle_thrust_setpoint / actuator_controls thrust).
- ``imu`` (t, ax, ay, az): accelerometer of the first IMU in m/s² (body frame, as logged).
- ``gps``: fix type and ground speed are columns ``fix`` and ``gspd_mps``.
- ``landed`` (t, state): the autopilot's land detector as MAV_LANDED_STATE (0 unknown, 1 on ground, 2 in air,
  3 taking off, 4 landing). ``RawLog.landed`` keeps the same information as state changes with evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

# Columns of each stream, after "t". Missing values are NaN.
STREAMS: dict[str, tuple[str, ...]] = {
    # lat/lon degrees, alt_msl_m above mean sea level, gspd_mps ground speed, fix = GPS fix type
    # (3 = 3D), utc_s = GPS time as Unix seconds (NaN when unknown).
    "gps": ("lat", "lon", "alt_msl_m", "gspd_mps", "fix", "sats", "hdop", "utc_s"),
    "alt": ("rel_alt_m",),  # height above home / launch (baro or EKF)
    "att": ("roll_deg", "pitch_deg", "des_roll_deg", "des_pitch_deg"),
    "bat": ("volt_v", "curr_a", "pct", "used_mah"),
    "vibe": ("vibe_mps2", "clip"),  # worst axis; clip = cumulative clipping count of the worst IMU
    "ekf": ("var",),  # worst normalised EKF innovation/variance ratio
    # -- airborne evidence (see the module docstring) --
    "baro": ("alt_m",),
    "motors": tuple(f"out_{i}" for i in range(1, 9)) + tuple(f"pwm_{i}" for i in range(1, 9)),
    "throttle": ("frac",),
    "imu": ("ax", "ay", "az"),
    "landed": ("state",),
}


@dataclass(frozen=True)
class Note:
    """One message that proves something: an ERR/EV code, a STATUSTEXT, a heartbeat state, a PX4 flag.

    ``kind`` is an event kind (records.EVENT_KINDS) or ``None`` for a routine message kept as context.
    ``clears`` marks a "resolved" message (ERR code 0) that closes an earlier note of the same ``key``.
    """

    t: float
    kind: str | None
    level: str
    detail: str
    evidence: str
    key: str = ""
    clears: bool = False
    value: float | None = None


class _Rows:
    """Row accumulator for one stream: single rows or whole column blocks, one conversion at the end."""

    def __init__(self, cols: tuple[str, ...]) -> None:
        self.cols = cols
        self.rows: list[tuple[float, ...]] = []
        self.blocks: list[np.ndarray] = []

    def add(self, t: float, *vals: float | None) -> None:
        self.rows.append((t, *(np.nan if v is None else v for v in vals)))

    def add_block(self, t: np.ndarray, *cols: np.ndarray | None) -> None:
        n = len(t)
        full = [np.full(n, np.nan) if c is None else np.asarray(c, dtype=np.float64) for c in cols]
        self.blocks.append(np.column_stack([np.asarray(t, dtype=np.float64), *full]) if n else np.zeros((0, len(cols) + 1)))

    def array(self) -> np.ndarray | None:
        parts = ([np.asarray(self.rows, dtype=np.float64)] if self.rows else []) + [b for b in self.blocks if len(b)]
        return np.vstack(parts) if parts else None


@dataclass
class RawLog:
    path: str
    fmt: str  # dataflash-bin | dataflash-text | tlog | ulog
    vehicle: str = "unknown"
    firmware: str = ""
    streams: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    arm: list[tuple[float, bool, str]] = field(default_factory=list)  # (t, armed, evidence)
    landed: list[tuple[float, bool, str]] = field(default_factory=list)  # land-detector state changes
    modes: list[tuple[float, str]] = field(default_factory=list)
    utc: list[tuple[float, float]] = field(default_factory=list)  # (t, Unix seconds) anchors besides GPS
    notes: list[Note] = field(default_factory=list)
    boots: list[float] = field(default_factory=list)  # times where a reboot started a new boot clock
    t_end: float = 0.0
    t_start: float = 0.0
    time_source: str = "boot"
    corruption: dict[str, Any] = field(default_factory=dict)
    messages_read: int = 0
    aircraft: str | None = None  # the aircraft's identity in the log, when it has one (tlog system/component)
    others: list[RawLog] = field(default_factory=list)  # further aircraft in the same file (a GCS's tlog)
    params: dict[str, float] = field(default_factory=dict)  # autopilot parameters, last value (uavsim.logs.params)
    identity: dict[str, str] = field(default_factory=dict)  # board, firmware, frame ids (uavsim.logs.identity)

    def stream(self, name: str) -> dict[str, np.ndarray]:
        """A stream's columns (``t`` included); an empty stream when the log lacks it."""
        s = self.streams.get(name)
        if s is None:
            s = {"t": np.zeros(0), **{c: np.zeros(0) for c in STREAMS[name]}}
        return s


class RawBuilder:
    """What readers use to fill a RawLog: stream rows, notes, arming, and the monotonic clock."""

    def __init__(self, path: str, fmt: str) -> None:
        self.log = RawLog(path=path, fmt=fmt)
        self._rows = {name: _Rows(cols) for name, cols in STREAMS.items()}
        self._offset = 0.0
        self._last_raw: float | None = None
        self._last_t: float | None = None
        self._first_t: float | None = None
        self.sources: dict[str, str] = {}  # stream -> the message that fed it, when a log offers several
        self._boot_idx = np.zeros(0, dtype=np.int64)  # timeline rows where a new boot starts

    def clock(self, raw_s: float) -> float:
        """Map a boot-clock reading to the monotonic log axis; a clock that jumps back > 1 s is a reboot."""
        if self._last_raw is not None and raw_s < self._last_raw - 1.0:
            self._offset = (self._last_t or 0.0) + 1.0 - raw_s
            self.log.boots.append(raw_s + self._offset)
        self._last_raw = raw_s
        t = raw_s + self._offset
        if self._last_t is None or t > self._last_t:
            self._last_t = t
        if self._first_t is None:
            self._first_t = t
        return t

    def _clock_many(self, raw: np.ndarray) -> np.ndarray:
        """:meth:`clock` of each reading in turn, vectorised between reboots (same state, same results)."""
        if raw.size == 0:
            return np.zeros(0)
        prev = np.concatenate([[-np.inf if self._last_raw is None else self._last_raw], raw[:-1]])
        cuts = np.flatnonzero(raw < prev - 1.0).tolist()
        bounds = sorted({0, *cuts, raw.size})
        mono = np.empty(raw.size)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            if cuts and a == cuts[0]:
                cuts.pop(0)
                self._offset = (self._last_t or 0.0) + 1.0 - float(raw[a])
                self.log.boots.append(float(raw[a]) + self._offset)
            mono[a:b] = raw[a:b] + self._offset
            top = float(mono[a:b].max())
            if self._last_t is None or top > self._last_t:
                self._last_t = top
            if self._first_t is None:
                self._first_t = float(mono[a])
        self._last_raw = float(raw[-1])
        return mono

    def timeline(self, timed_ofs: np.ndarray, timed_raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Put the clocked rows (file order key, boot-clock seconds) on the monotonic axis.
        Returns (sorted order keys, their log times), for :meth:`place`."""
        order = np.argsort(timed_ofs, kind="stable")
        raw = np.asarray(timed_raw, dtype=np.float64)[order]
        good = np.isfinite(raw) & ~clock_glitches(raw)  # a flipped bit in one time stamp is damage, not a reboot
        self.log.corruption["clock_glitches"] = self.log.corruption.get("clock_glitches", 0) + int((~good).sum())
        raw, keys = raw[good], np.asarray(timed_ofs)[order][good]
        mono = self._clock_many(raw)
        self._boot_idx = np.flatnonzero(np.diff(raw) < -1.0) + 1
        return keys, mono

    def place(self, line: tuple[np.ndarray, np.ndarray], ofs: np.ndarray) -> np.ndarray:
        """Log times of rows by file order: a row without a clock takes the latest clock before it, except
        right before a reboot, where it belongs to the new boot (logs begin with unclocked messages, and the
        first heartbeat after a brownout must not close the flight before the reboot)."""
        keys, mono = line
        if keys.size == 0:
            return np.full(len(ofs), np.nan)
        prev = np.searchsorted(keys, ofs, side="right") - 1
        nxt = np.clip(prev + 1, 0, keys.size - 1)
        exact = (prev >= 0) & (keys[np.clip(prev, 0, None)] == ofs)
        to_next = ~exact & np.isin(nxt, self._boot_idx) & (prev + 1 < keys.size)
        out = np.where(prev >= 0, mono[np.clip(prev, 0, None)], np.nan)
        return np.where(to_next, mono[nxt], out)

    def resumed(self, line: tuple[np.ndarray, np.ndarray], ofs: np.ndarray) -> np.ndarray:
        """For rows without a clock that sit in a logging gap (no clocked row for more than LOG_GAP_S), the
        clock where logging resumed; NaN elsewhere. An arming written there belongs to the resumption:
        ArduCopter 3.x logs only while armed, so the silence before it was disarmed time."""
        keys, mono = line
        out = np.full(len(ofs), np.nan)
        if keys.size < 2:
            return out
        prev = np.searchsorted(keys, ofs, side="right") - 1
        inside = (prev >= 0) & (prev + 1 < keys.size)
        prev_c, next_c = np.clip(prev, 0, keys.size - 1), np.clip(prev + 1, 0, keys.size - 1)
        unclocked = keys[prev_c] != ofs
        gap = inside & unclocked & (mono[next_c] - mono[prev_c] > LOG_GAP_S)
        out[gap] = mono[next_c][gap]
        return out

    def add(self, stream: str, t: float, *vals: float | None) -> None:
        self._rows[stream].add(t, *vals)

    def add_block(self, stream: str, t: np.ndarray, *cols: np.ndarray | None) -> None:
        """Many rows at once, as columns (None = a column this log lacks)."""
        self._rows[stream].add_block(t, *cols)

    def note(self, note: Note) -> None:
        self.log.notes.append(note)

    def finish(self) -> RawLog:
        """Columns as arrays, everything sorted by time. Messages logged before the first clock reading
        (NaN time) are put at the log's first known time."""
        log = self.log
        self._bound_time_span()
        t0 = self._first_t if self._first_t is not None else 0.0

        def fix(t: float) -> float:
            return t0 if t != t else t

        for name, rows in self._rows.items():
            arr = rows.array()
            if arr is None:
                continue
            arr[np.isnan(arr[:, 0]), 0] = t0
            order = np.argsort(arr[:, 0], kind="stable")
            arr = arr[order]
            log.streams[name] = {"t": arr[:, 0], **{c: arr[:, i + 1] for i, c in enumerate(rows.cols)}}
        log.arm = [(fix(t), a, e) for t, a, e in log.arm]
        log.landed = [(fix(t), a, e) for t, a, e in log.landed]
        log.modes = [(fix(t), m) for t, m in log.modes]
        log.utc = [(fix(t), u) for t, u in log.utc]
        log.notes = [n if n.t == n.t else replace(n, t=t0) for n in log.notes]
        log.arm.sort(key=lambda x: x[0])
        log.landed.sort(key=lambda x: x[0])
        log.modes.sort(key=lambda x: x[0])
        log.notes.sort(key=lambda n: n.t)
        log.t_start = t0
        log.t_end = self._last_t if self._last_t is not None else 0.0
        return log

    def _bound_time_span(self) -> None:
        """Make the log's time span the one its rows back: rows cut off from the rest by more than
        CLOCK_MAX_GAP_S that are too few to be a stretch of log (a damaged time stamp) are dropped, and a
        longer gap between stretches (a clock that jumped) is closed up to 1 s. Both are counted as damage,
        so that no damaged clock sizes a downstream array."""
        self._drop_glitched_rows()
        arrays = [r.array() for r in self._rows.values()]
        every = np.concatenate([a[:, 0] for a in arrays if a is not None] or [np.zeros(0)])
        every = np.sort(every[np.isfinite(every)])
        starts, ends, shifts = _time_plan(every)
        stray = int(every.size - np.count_nonzero(np.isfinite(_remap(every, starts, ends, shifts))))
        self.log.corruption["clock_stray_rows"] = stray
        self.log.corruption["clock_gaps_closed"] = int(max(0, starts.size - 1))
        if stray == 0 and starts.size <= 1:
            return
        for rows, arr in zip(self._rows.values(), arrays, strict=True):
            if arr is not None:
                unclocked = np.isnan(arr[:, 0])  # placed at the first time by finish()
                arr[:, 0] = _remap(arr[:, 0], starts, ends, shifts)
                rows.rows, rows.blocks = [], [arr[np.isfinite(arr[:, 0]) | unclocked]]
        log = self.log

        def keep(items: list, key=lambda x: x[0]) -> list:
            mapped = _remap(np.array([key(x) for x in items], dtype=np.float64), starts, ends, shifts)
            return [(m, *x[1:]) for m, x in zip(mapped.tolist(), items, strict=True) if m == m or key(x) != key(x)]

        log.arm, log.landed, log.modes, log.utc = keep(log.arm), keep(log.landed), keep(log.modes), keep(log.utc)
        note_t = _remap(np.array([n.t for n in log.notes], dtype=np.float64), starts, ends, shifts)
        log.notes = [replace(n, t=m) for n, m in zip(log.notes, note_t.tolist(), strict=True) if m == m or n.t != n.t]
        log.boots = [m for m in _remap(np.array(log.boots, dtype=np.float64), starts, ends, shifts).tolist() if m == m]
        for name in ("_first_t", "_last_t"):
            v = getattr(self, name)
            if v is not None:
                m = float(_remap(np.array([v]), starts, ends, shifts)[0])
                setattr(self, name, m if m == m else float(starts[0] if name == "_first_t" else ends[-1] - shifts[-1]))

    def _drop_glitched_rows(self) -> None:
        """Rows whose time leaves their neighbours' and comes back (a reader that timed rows itself, as the
        ULog one does from each message's own time stamp): damaged time stamps, dropped and counted."""
        n = 0
        for rows in self._rows.values():
            parts = ([np.asarray(rows.rows, dtype=np.float64)] if rows.rows else []) + rows.blocks
            kept = []
            for part in parts:
                bad = clock_glitches(part[:, 0]) if len(part) > 2 else np.zeros(len(part), dtype=bool)
                n += int(bad.sum())
                kept.append(part[~bad])
            rows.rows, rows.blocks = [], kept
        self.log.corruption["clock_glitches"] = self.log.corruption.get("clock_glitches", 0) + n


CLOCK_GLITCH_S = 1.0  # a time stamp this far from both neighbours, which agree with each other, is damaged
CLOCK_GLITCH_RUN = 8  # at most this many consecutive damaged time stamps (bit flips hit one message each)
CLOCK_MAX_GAP_S = 3600.0  # no autopilot logs nothing for an hour and then goes on: past this the clock jumped
LOG_GAP_S = 2.0  # autopilots log attitude at 10 Hz or more while logging: this long without a clocked row is a stop
CLOCK_STRAY_ROWS = 64  # fewer rows than this, cut off by such a gap, are damaged time stamps, not a stretch of log


def clock_glitches(raw: np.ndarray) -> np.ndarray:
    """Readings (in file order) that leave the clock of their neighbours and come back: a short run after a
    jump of more than CLOCK_GLITCH_S whose next reading is again within CLOCK_GLITCH_S (per reading) of the
    one before the run, and ten times closer to it than the jump was far. A reboot stays back and a logging
    gap stays forward, so neither is touched; a run at either end of the log counts when its jump exceeds
    CLOCK_MAX_GAP_S."""
    bad = np.zeros(raw.size, dtype=bool)
    jumps = np.flatnonzero(np.abs(np.diff(raw)) > CLOCK_GLITCH_S) + 1  # first reading after each jump
    for i, start in enumerate(jumps.tolist()):
        if bad[start - 1]:
            continue
        for end in jumps[i + 1:i + 1 + CLOCK_GLITCH_RUN].tolist():
            if end - start > CLOCK_GLITCH_RUN:
                break
            back = abs(raw[end] - raw[start - 1])  # how far the clock after the run is from the one before
            if back <= CLOCK_GLITCH_S * (end - start + 1) and back * 10.0 < abs(raw[start] - raw[start - 1]):
                bad[start:end] = True
                break
        else:
            if raw.size - start <= CLOCK_GLITCH_RUN and abs(raw[start] - raw[start - 1]) > CLOCK_MAX_GAP_S:
                bad[start:] = True
    if jumps.size and jumps[0] <= CLOCK_GLITCH_RUN and not bad[jumps[0]] and \
            abs(raw[jumps[0]] - raw[jumps[0] - 1]) > CLOCK_MAX_GAP_S:
        bad[:jumps[0]] = True
    return bad


def _time_plan(t_sorted: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, end, shift) of each stretch of rows worth keeping: stretches are cut by gaps over
    CLOCK_MAX_GAP_S; those with fewer than CLOCK_STRAY_ROWS rows are dropped unless nothing else is left;
    the shift closes each gap before a kept stretch to 1 s."""
    if t_sorted.size == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    cut = np.flatnonzero(np.diff(t_sorted) > CLOCK_MAX_GAP_S) + 1
    first, last = np.concatenate([[0], cut]), np.concatenate([cut, [t_sorted.size]]) - 1
    big = (last - first + 1) >= min(CLOCK_STRAY_ROWS, int((last - first + 1).max()))
    starts, ends = t_sorted[first[big]], t_sorted[last[big]]
    gaps = np.concatenate([[0.0], np.maximum(starts[1:] - ends[:-1] - 1.0, 0.0)])
    return starts, ends, np.cumsum(gaps)


def _remap(t: np.ndarray, starts: np.ndarray, ends: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Times moved by their stretch's shift; NaN for times more than CLOCK_MAX_GAP_S from every kept stretch."""
    t = np.asarray(t, dtype=np.float64)
    if starts.size == 0 or t.size == 0:
        return t.copy()
    k = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, starts.size - 1)
    nxt = np.minimum(k + 1, starts.size - 1)
    to_next = (t > ends[k] + CLOCK_MAX_GAP_S) & (t >= starts[nxt] - CLOCK_MAX_GAP_S)
    k = np.where(to_next, nxt, k)
    near = (t >= starts[k] - CLOCK_MAX_GAP_S) & (t <= ends[k] + CLOCK_MAX_GAP_S)
    return np.where(near, t - shifts[k], np.nan)
