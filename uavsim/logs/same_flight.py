"""One flight, two logs: the ground station's .tlog and the aircraft's own .bin/.ulg describe the same flight.

A flight from a newly imported file is the same as one already in the store when both have absolute time,
they overlap for at least half of the shorter one, and their tracks coincide (median distance at common
times within ``SAME_TRACK_M``). Two aircraft never fly the same track at the same time, so time alone is
not used. The later record is kept, with its own evidence, and marked ``extra["same_flight_as"]`` so that
counts can take each flight once; nothing is deleted.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import numpy as np

from uavsim.records import Flight

log = logging.getLogger(__name__)

SAME_TRACK_M = 30.0  # median horizontal distance between two logs of one flight (GNSS error, logging lag)
MIN_OVERLAP = 0.5  # of the shorter flight's duration
_SAMPLES = 25


def _unix(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _track(flight_start: float, t_s: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, ...]:
    ok = np.isfinite(lat) & np.isfinite(lon)
    return flight_start + np.asarray(t_s)[ok], np.asarray(lat)[ok], np.asarray(lon)[ok]


def _median_gap_m(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...], t0: float, t1: float) -> float | None:
    if len(a[0]) < 2 or len(b[0]) < 2:
        return None
    grid = np.linspace(t0, t1, _SAMPLES)
    la, oa = np.interp(grid, a[0], a[1]), np.interp(grid, a[0], a[2])
    lb, ob = np.interp(grid, b[0], b[1]), np.interp(grid, b[0], b[2])
    dy = (la - lb) * 111_320.0
    dx = (oa - ob) * 111_320.0 * np.cos(np.radians(la))
    return float(np.median(np.hypot(dx, dy)))


def mark_same_flights(store: Any, sha256: str, flights: list[Flight]) -> list[tuple[str, str]]:
    """Mark each flight of this file that another file in ``store`` already holds; returns (new, old) ids."""
    pairs = []
    for f in flights:
        if f.kind != "flight" or not f.start_utc or f.telemetry is None or f.duration_s <= 0:
            continue
        start = _unix(f.start_utc)
        mine = _track(start, f.telemetry.t_s, f.telemetry.lat, f.telemetry.lon)
        day = 86_400.0  # candidates: flights starting within a day (ISO strings compare in time order)
        lo, hi = (datetime.fromtimestamp(start + d, UTC).strftime("%Y-%m-%d") for d in (-day, 2 * day))
        rows = store.conn.execute(
            "SELECT id, start_utc, duration_s FROM flights WHERE source = 'log' AND kind = 'flight' AND file_sha256 != ? "
            "AND start_utc >= ? AND start_utc < ?", (sha256, lo, hi)).fetchall()
        for oid, ostart_iso, odur in rows:
            ostart = _unix(ostart_iso)
            t0, t1 = max(start, ostart), min(start + f.duration_s, ostart + (odur or 0.0))
            if t1 - t0 < MIN_OVERLAP * min(f.duration_s, odur or 0.0) or t1 <= t0:
                continue
            tel = store.telemetry(oid)
            if tel is None:
                continue
            gap = _median_gap_m(mine, _track(ostart, tel.t_s, tel.lat, tel.lon), t0, t1)
            if gap is not None and gap <= SAME_TRACK_M:
                f.extra["same_flight_as"] = oid
                f.extra["same_flight_gap_m"] = round(gap, 1)
                pairs.append((f.id, oid))
                log.info("%s is the same flight as %s (tracks %.1f m apart)", f.id, oid, gap)
                break
    return pairs
