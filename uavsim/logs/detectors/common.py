"""Helpers shared by the detectors: windows gated by the segment's airborne decision, runs, limits,
the flight mode and the lean at a time, and where an event happened."""

from __future__ import annotations

import numpy as np

from uavsim.logs.raw import RawLog
from uavsim.logs.segment import Segment, airborne_mask, step
from uavsim.records import Event
from uavsim.safety.rules import Rules

ANGLE_MAX_DEFAULT_CD = 4500.0  # ArduCopter ANGLE_MAX default (centidegrees); PX4 MPC_TILTMAX_AIR default 45°


def pos(raw: RawLog, t: float) -> dict[str, float]:
    """lat/lon/alt (MSL) at log time ``t`` from a fixed GPS, or nothing."""
    g = raw.stream("gps")
    if len(g["t"]) == 0:
        return {}
    vals = {k: step(g["t"], g[k], np.array([t]))[0] for k in ("lat", "lon", "alt_msl_m")}
    if not all(np.isfinite(v) for v in vals.values()) or (vals["lat"] == 0 and vals["lon"] == 0):
        return {}
    return {"lat": float(vals["lat"]), "lon": float(vals["lon"]), "alt": float(vals["alt_msl_m"])}


def runs(mask: np.ndarray, t: np.ndarray, min_s: float) -> tuple[int, float] | None:
    """First index of the longest run where ``mask`` holds, if that run lasts ``min_s`` or more."""
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        return None
    edges = np.diff(np.concatenate([[0], m.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    dur = np.asarray(t, dtype=float)[ends] - np.asarray(t, dtype=float)[starts]
    ok = np.flatnonzero(dur >= min_s)
    if ok.size == 0:
        return None
    k = ok[int(np.argmax(dur[ok]))]  # the first of the longest runs
    return int(starts[k]), float(dur[k])


def window(raw: RawLog, name: str, seg: Segment, airborne: bool = True, pad_s: float = 0.0) -> dict[str, np.ndarray]:
    """Rows of one stream inside the segment (``pad_s`` beyond its end); only the airborne ones by default."""
    s = raw.stream(name)
    sel = (s["t"] >= seg.t0) & (s["t"] <= seg.t1 + pad_s)
    if airborne:
        sel &= airborne_mask(raw, seg, s["t"])
    return {k: v[sel] for k, v in s.items()}


def limit_check(rules: Rules, seg: Segment, raw: RawLog, kind: str, t: np.ndarray, v: np.ndarray,
                warn: float, fail: float, above: bool, persist: float, what: str, unit: str) -> list[Event]:
    """One event at the worst level whose limit held for ``persist`` seconds."""
    ok = np.isfinite(v)
    for level, lim in (("fail", fail), ("warn", warn)):
        bad = ok & ((v > lim) if above else (v < lim))
        hit = runs(bad, t, persist)
        if hit is not None:
            i, dur = hit
            worst = float(np.max(v[bad]) if above else np.min(v[bad]))
            sign = ">" if above else "<"
            return [rules.make_event(
                kind, t[i] - seg.t0, level=level, value=worst, threshold=lim,
                detail=f"{what} {sign} {lim:g}{unit} for {dur:.1f} s in flight (worst {worst:g}{unit})",
                evidence=f"{what}={v[i]:g}{unit} at t={t[i] - seg.t0:.1f}s", **pos(raw, float(t[i])))]
    return []


def mode_at(raw: RawLog, t: np.ndarray) -> np.ndarray:
    """Flight-mode name at each time (object array; "" before the first mode change)."""
    t = np.asarray(t, dtype=float)
    out = np.full(t.shape, "", dtype=object)
    if not raw.modes or t.size == 0:
        return out
    mt = np.array([m[0] for m in raw.modes])
    names = np.array([m[1].upper() for m in raw.modes], dtype=object)
    idx = np.searchsorted(mt, t, side="right") - 1
    out[idx >= 0] = names[idx[idx >= 0]]
    return out


def tilt_deg(roll_deg: np.ndarray, pitch_deg: np.ndarray) -> np.ndarray:
    """Angle between the body's z axis and the vertical (0 level, 90 on its side, 180 inverted)."""
    c = np.cos(np.radians(roll_deg)) * np.cos(np.radians(pitch_deg))
    return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))


def angle_max_deg(raw: RawLog) -> float:
    """The lean limit the autopilot flies to: ANGLE_MAX (cd), PX4 MPC_TILTMAX_AIR (deg), else the default."""
    p = raw.params
    if p.get("ANGLE_MAX", 0) > 0:
        return p["ANGLE_MAX"] / 100.0
    if p.get("MPC_TILTMAX_AIR", 0) > 0:
        return p["MPC_TILTMAX_AIR"]
    return ANGLE_MAX_DEFAULT_CD / 100.0


def airborne_before(seg: Segment, t: float, grace_s: float) -> bool:
    """Was the aircraft in the air at ``t`` or within ``grace_s`` before it (the decision lags a fall)?"""
    return any(a <= t and t <= b + grace_s for a, b in seg.air_windows)


def undecided(seg: Segment) -> bool:
    """No height, thrust or speed was logged: whether the aircraft flew is unknown (never read as "on the ground")."""
    return seg.airborne_evidence.get("decided_by", "").startswith("undecided")


def wrap180(deg: np.ndarray) -> np.ndarray:
    return (deg + 180.0) % 360.0 - 180.0
