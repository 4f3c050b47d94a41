"""The series a flight page shows beyond the stored track (kept for every imported log): attitude (desired and actual), vibration and clipping,
GPS satellites and HDOP, battery voltage and current, and the log's messages, cut from a read log per flight.

The track (``Telemetry``) holds only what the report needs; these come from the same :class:`RawLog` the
importer read, on the flight's own segment (``extra["segment"]``, log seconds), so their times match the track's.
They are kept per flight in the store (``flight_series``), thinned to at most :data:`MAX_POINTS` per stream.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from uavsim.logs.raw import RawLog

MAX_POINTS = 4000  # per stream: an hour at ~1 Hz; a plot cannot show more on a screen's width
MAX_MESSAGES = 2000
# page series -> (stream, columns)
EXTRA_SERIES = {
    "attitude": ("att", ("roll_deg", "pitch_deg", "des_roll_deg", "des_pitch_deg")),
    "vibration": ("vibe", ("vibe_mps2", "clip")),
    "gps_quality": ("gps", ("sats", "hdop")),
    "battery_voltage_current": ("bat", ("volt_v", "curr_a")),
}


def _thin(idx: np.ndarray, limit: int) -> np.ndarray:
    if idx.size <= limit:
        return idx
    return idx[np.linspace(0, idx.size - 1, limit).astype(np.int64)]


def cut(raw: RawLog, segment: tuple[float, float]) -> tuple[dict[str, dict[str, np.ndarray]], list[dict[str, Any]]]:
    """{page series: {"t_s", columns...}} with time from the segment's start, and the messages inside it."""
    t0, t1 = segment
    out: dict[str, dict[str, np.ndarray]] = {}
    for name, (stream, cols) in EXTRA_SERIES.items():
        s = raw.stream(stream)
        if not len(s["t"]):
            continue
        inside = (s["t"] >= t0) & (s["t"] <= t1)
        has = np.zeros(len(s["t"]), bool)
        for c in cols:
            has |= np.isfinite(s[c])
        idx = _thin(np.flatnonzero(inside & has), MAX_POINTS)
        if idx.size:
            out[name] = {"t_s": s["t"][idx] - t0, **{c: s[c][idx] for c in cols}}
    notes = [n for n in raw.notes if t0 <= n.t <= t1][:MAX_MESSAGES]
    messages = [{"t_s": float(n.t - t0), "level": n.level, "kind": n.kind, "text": n.evidence or n.detail} for n in notes]
    return out, messages


def raw_of(raw: RawLog, aircraft_id: str | None) -> RawLog:
    """The part of a read file that holds ``aircraft_id``'s flights (a ground station's tlog has several)."""
    for one in [raw, *raw.others]:
        if one.aircraft == aircraft_id:
            return one
    return raw


Series = tuple[dict[str, dict[str, np.ndarray]], list[dict[str, Any]]]


def for_flights(raw: RawLog, flights: list[Any]) -> dict[str, Series]:
    """The extra series and messages of each of ``flights`` (those of ``raw``'s file), by flight id."""
    out: dict[str, Series] = {}
    for f in flights:
        segment = f.extra.get("segment")
        if not segment:
            continue
        series, messages = cut(raw_of(raw, f.aircraft_id), (float(segment[0]), float(segment[1])))
        if series or messages:
            out[f.id] = (series, messages)
    return out

