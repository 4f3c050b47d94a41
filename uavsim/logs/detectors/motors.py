"""Motor outputs in flight: a motor pinned at its limit (saturation), one pinned high while another is pinned
at its floor (control authority lost: a motor, ESC or prop has failed), and a standing imbalance.

A saturated output is clipped by the mixer, so it stays exactly constant while the controller asks for more;
a healthy output in flight moves every sample. "Pinned" is an output that holds one value for
``motor_pinned_s`` near the top (or bottom) of its range. The imbalance follows dronekit-la's Motor Balance
analyzer: each motor's mean output in flight against the mean of all motors (warn 50 µs, fail 100 µs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from uavsim.logs.detectors.common import pos, runs
from uavsim.logs.raw import RawLog
from uavsim.logs.segment import Segment, airborne_mask
from uavsim.records import Event
from uavsim.safety.rules import Rules

# Motors per ArduCopter FRAME_CLASS (AP_Motors); dronekit-la's motorcount_for_frame_class likewise.
MOTORS_PER_CLASS = {1: 4, 2: 6, 3: 8, 4: 8, 5: 6, 7: 3, 10: 2, 12: 12, 13: 4, 14: 10}
# Motors per MAVLink MAV_TYPE (common.xml): QUADROTOR, HEXAROTOR, OCTOROTOR, TRICOPTER, DODECAROTOR.
MOTORS_PER_MAV_TYPE = {"QUADROTOR": 4, "HEXAROTOR": 6, "OCTOROTOR": 8, "TRICOPTER": 3, "DODECAROTOR": 12}
_FLAT = 1e-4  # normalised output change below this is "the same value"


@dataclass(frozen=True)
class Pinned:
    t: float  # log time the pattern began
    dur_s: float
    high: list[int]  # motors (1-based) pinned at the top
    low: list[int]  # motors pinned at the floor at the same time

    @property
    def asymmetric(self) -> bool:
        return bool(self.high and self.low)


def _motor_count(raw: RawLog, out: np.ndarray) -> int:
    p = raw.params
    if "FRAME_CLASS" in p:
        return MOTORS_PER_CLASS.get(int(p["FRAME_CLASS"]), out.shape[1])
    if raw.identity.get("mav_type") in MOTORS_PER_MAV_TYPE:
        return MOTORS_PER_MAV_TYPE[raw.identity["mav_type"]]
    frame = raw.identity.get("frame", "")
    for word, n in (("quad", 4), ("hexa", 6), ("y6", 6), ("octa", 8), ("tri", 3)):
        if frame.startswith(word):
            return n
    used = [i for i in range(out.shape[1]) if np.nanmax(out[:, i], initial=0.0) > 0.3]  # motors rise in flight
    return max(used) + 1 if used else 0


def motor_outputs(raw: RawLog, seg: Segment) -> tuple[np.ndarray, np.ndarray]:
    """(t, outputs n x motors) in the air, normalised 0..1; empty when the log has no motor outputs."""
    m = raw.stream("motors")
    sel = (m["t"] >= seg.t0) & (m["t"] <= seg.t1) & airborne_mask(raw, seg, m["t"])
    if "out_1" not in m or not sel.any():
        return np.zeros(0), np.zeros((0, 0))
    out = np.column_stack([m[f"out_{i}"][sel] for i in range(1, 9)])
    n = _motor_count(raw, out)
    return m["t"][sel], out[:, :n]


def pinned(raw: RawLog, seg: Segment, rules: Rules) -> Pinned | None:
    """The longest stretch in the air with a motor pinned at the top of its range (and who is at the floor)."""
    t, out = motor_outputs(raw, seg)
    if out.shape[0] < 3 or out.shape[1] < 2:
        return None
    th = rules.threshold
    flat = np.vstack([np.zeros((1, out.shape[1]), bool), np.abs(np.diff(out, axis=0)) < _FLAT])
    flat |= np.vstack([flat[1:], np.zeros((1, out.shape[1]), bool)])  # a run's first sample counts too
    high = flat & (out >= th("motor_pinned_high_frac"))
    low = flat & (out <= th("motor_pinned_low_frac"))
    hit = runs(high.any(axis=1), t, th("motor_pinned_s"))
    if hit is None:
        return None
    i, dur = hit
    j = int(np.searchsorted(t, t[i] + dur))
    span = slice(i, max(j, i + 1))
    hi = [k + 1 for k in range(out.shape[1]) if high[span, k].any()]
    lo = [k + 1 for k in range(out.shape[1]) if low[span, k].mean() > 0.5 and k + 1 not in hi]
    return Pinned(float(t[i]), float(dur), hi, lo)


def motor_events(raw: RawLog, seg: Segment, rules: Rules) -> list[Event]:
    out: list[Event] = []
    p = pinned(raw, seg, rules)
    if p is not None:
        level = "fail" if p.asymmetric else "warn"
        what = (f"motor {','.join(map(str, p.high))} pinned at full output while motor "
                f"{','.join(map(str, p.low))} sat at its floor" if p.asymmetric else
                f"motor {','.join(map(str, p.high))} pinned at full output (no thrust margin left)")
        out.append(rules.make_event("MOTOR_SATURATION", p.t - seg.t0, level=level, value=p.dur_s,
                                    threshold=rules.threshold("motor_pinned_s"),
                                    detail=f"{what} for {p.dur_s:.1f} s in flight",
                                    evidence=f"motor outputs constant at their limit from t={p.t - seg.t0:.1f}s",
                                    **pos(raw, p.t)))
    out += _imbalance(raw, seg, rules)
    return out


def _imbalance(raw: RawLog, seg: Segment, rules: Rules) -> list[Event]:
    t, o = motor_outputs(raw, seg)
    if o.shape[0] < 10 or o.shape[1] < 3:
        return []
    o = o[:, np.isfinite(o).any(axis=0)]
    if o.shape[1] < 3:
        return []
    mean = np.nanmean(o, axis=0) * 1000.0  # µs over the 1000 µs ESC range
    delta = mean - np.nanmean(mean)
    k = int(np.nanargmax(np.abs(delta)))
    worst = float(abs(delta[k]))
    for level, lim in (("fail", rules.threshold("motor_imbalance_fail_us")),
                       ("warn", rules.threshold("motor_imbalance_warn_us"))):
        if worst > lim:
            return [rules.make_event(
                "MOTOR_IMBALANCE", t[0] - seg.t0, level=level, value=worst, threshold=lim,
                detail=f"motor {k + 1} runs {delta[k]:+.0f} µs from the mean of all motors in flight",
                evidence="mean outputs in flight " + ", ".join(f"m{i + 1}={m:.0f}" for i, m in enumerate(mean)))]
    return []
