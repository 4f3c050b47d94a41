"""Vibration and accelerometer clipping.

- With a vibration metric (DataFlash VIBE, tlog VIBRATION, ULog vehicle_imu_status): the in-flight mean
  against LogAnalyzer's VIBE limits (30 / 60 m/s², as the ArduPilot wiki's "Measuring Vibration"), and
  the clipping counters' rise.
- Without one (ArduCopter before 3.3): LogAnalyzer TestVibration's older method on the raw accelerometer
  (DataFlash IMU AccX/Y/Z): in the longest stable LOITER stretch of at least 10 s, twice the standard
  deviation of each axis against 1.5 / 3.0 m/s² (X, Y) and 2.0 / 5.0 m/s² (Z). No loiter, no verdict.
"""

from __future__ import annotations

import numpy as np

from uavsim.logs.detectors.common import mode_at, runs, window
from uavsim.logs.raw import RawLog
from uavsim.logs.segment import Segment
from uavsim.records import Event
from uavsim.safety.rules import Rules

LOITER_MODES = frozenset({"LOITER", "AUTO_LOITER"})  # LogAnalyzer findLoiterChunks: LOITER only


def vibration_events(raw: RawLog, seg: Segment, rules: Rules) -> list[Event]:
    th = rules.threshold
    v = window(raw, "vibe", seg)
    vib = v["vibe_mps2"][np.isfinite(v["vibe_mps2"])] if len(v["t"]) else np.zeros(0)
    if not vib.size:
        return _imu_vibration(raw, seg, rules)
    out: list[Event] = []
    mean = float(vib.mean())  # ArduPilot LogAnalyzer judges the in-flight average
    for level, lim in (("fail", th("vibration_fail_mps2")), ("warn", th("vibration_warn_mps2"))):
        if mean > lim:
            i = int(np.nanargmax(v["vibe_mps2"]))
            out.append(rules.make_event("VIBRATION", v["t"][i] - seg.t0, level=level, value=mean, threshold=lim,
                                        detail=f"mean in-flight vibration {mean:.1f} m/s² > {lim:g} m/s²",
                                        evidence=f"VIBE peak {v['vibe_mps2'][i]:.1f} m/s² at t={v['t'][i] - seg.t0:.1f}s"))
            break
    clip = v["clip"][np.isfinite(v["clip"])]
    if clip.size:
        n_clip = float(clip.max() - clip.min())
        for level, lim in (("fail", th("clipping_fail")), ("warn", th("clipping_warn"))):
            if n_clip > lim:
                out.append(rules.make_event("ACCEL_CLIPPING", v["t"][-1] - seg.t0, level=level, value=n_clip,
                                            threshold=lim, detail=f"{n_clip:.0f} accelerometer clips in flight",
                                            evidence=f"VIBE clip counters rose by {n_clip:.0f}"))
                break
    return out


def loiter_vibration(raw: RawLog, seg: Segment, rules: Rules) -> tuple[float, float, dict[str, float]] | None:
    """(log time, duration, 2σ of each accelerometer axis) over the longest airborne LOITER stretch of at least
    vibration_imu_min_loiter_s, as LogAnalyzer TestVibration measures it; None without such a stretch."""
    imu = window(raw, "imu", seg)
    if len(imu["t"]) < 20 or "ax" not in imu:
        return None
    t = imu["t"]
    chunk = runs(np.isin(mode_at(raw, t), list(LOITER_MODES)), t, rules.threshold("vibration_imu_min_loiter_s"))
    if chunk is None:
        return None
    i, dur = chunk
    sel = slice(i, int(np.searchsorted(t, t[i] + dur, side="right")))
    return float(t[i]), dur, {ax: 2.0 * float(np.nanstd(imu[ax][sel])) for ax in ("ax", "ay", "az")}


def _imu_vibration(raw: RawLog, seg: Segment, rules: Rules) -> list[Event]:
    th = rules.threshold
    found = loiter_vibration(raw, seg, rules)
    if found is None:
        return []
    t0, dur, two_sigma = found
    xy = max(two_sigma["ax"], two_sigma["ay"])
    z = two_sigma["az"]
    for level in ("fail", "warn"):
        lim_xy, lim_z = th(f"vibration_imu_xy_{level}_mps2"), th(f"vibration_imu_z_{level}_mps2")
        if xy > lim_xy or z > lim_z:
            return [rules.make_event(
                "VIBRATION", t0 - seg.t0, level=level, value=max(xy, z), threshold=lim_xy if xy > lim_xy else lim_z,
                detail=f"accelerometer 2σ in {dur:.0f} s of LOITER: X {two_sigma['ax']:.2f}, Y {two_sigma['ay']:.2f}, "
                       f"Z {z:.2f} m/s² (limits XY {lim_xy:g}, Z {lim_z:g})",
                evidence=f"IMU AccX/Y/Z from t={t0 - seg.t0:.1f}s for {dur:.0f} s (no VIBE message in this log)")]
    return []
