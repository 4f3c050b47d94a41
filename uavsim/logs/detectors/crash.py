"""Crash, loss of control and hard landing, corroborated from physics.

CRASH needs all of: the aircraft airborne before; a loss of attitude (the lean beyond the autopilot's limit,
ANGLE_MAX + a margin as in LogAnalyzer's Pitch/Roll test, integrated over a short window, or one motor
pinned at full output while another sits at its floor) with the motors above idle; and one of: a ground
impact over ``crash_impact_g``, an uncontrolled descent, a log that ends while falling, or the aircraft at
rest on its side or back. A loss of control without any of these was recovered: LOSS_OF_CONTROL.
At a touchdown, an impact over ``crash_impact_g`` with the attitude lost (beyond the limit, or at rest on its
side or back) is a CRASH too (labels README: "a ground impact with an extreme attitude at impact, or a changed
attitude at rest"); an impact over ``hard_landing_g`` upright, or a tip-over, is a HARD_LANDING. The autopilot's own crash check (ArduCopter crash_check.cpp: lean error held 1-2 s while
armed and not landed) is graded by the same physics: on a never-airborne segment it is an observation
(ArduCopter 3.x raises it on a tilted bench board).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from uavsim.logs.detectors.common import (
    airborne_before,
    angle_max_deg,
    mode_at,
    pos,
    tilt_deg,
    undecided,
    window,
)
from uavsim.logs.detectors.motors import pinned
from uavsim.logs.raw import RawLog
from uavsim.logs.segment import Segment, airborne_mask
from uavsim.records import Event
from uavsim.safety.rules import Rules

G = 9.80665
END_GRACE_S = 2.0  # the impact and the crash check are often logged just after the disarm
LEAN_CHECKED_VEHICLES = frozenset({"copter", "unknown"})  # multirotors and helicopters (ArduCopter, PX4 MC)
FLIP_MODES = frozenset({"ACRO", "FLIP", "SPORT", "RATTITUDE"})
IDLE_MAX = 0.3  # an armed idle above 30 % of the output range is no idle (ArduCopter MOT_SPIN_ARM <= 0.2 in practice)
REST_WINDOW_S = 2.0  # "at rest" is the median attitude over the last 2 s (robust to rows placed at a reboot boundary)


@dataclass(frozen=True)
class LossOfControl:
    t: float  # log time the excursion began
    lean_deg: float  # worst tilt in it (NaN when found from the motors)
    evidence: str


def _end(seg: Segment) -> float:
    """Where the segment's physics ends: a little after a disarm (the impact is often logged just after it),
    exactly at a reboot or the end of the log (what follows is another boot)."""
    return seg.t1 + (END_GRACE_S if seg.end == "disarm" else 0.0)


def _motors_running(raw: RawLog, seg: Segment, t: float, rules: Rules) -> bool | None:
    """Motors above their armed idle around ``t``; None when the log has no motor or throttle output."""
    m = raw.stream("motors")
    if "out_1" in m and len(m["t"]):
        cols = np.column_stack([m[f"out_{i}"] for i in range(1, 9)])
        seg_rows = (m["t"] >= seg.t0) & (m["t"] <= seg.t1)
        near = (m["t"] >= t - 3.0) & (m["t"] <= t + 0.5)
        if seg_rows.any() and near.any() and np.isfinite(cols[seg_rows]).any():
            return bool(np.nanmax(cols[near], initial=-1.0) > _idle(raw, seg, m["t"], cols, seg_rows)
                        + rules.threshold("airborne_idle_margin"))
    th = raw.stream("throttle")
    near = (th["t"] >= t - 3.0) & (th["t"] <= t + 0.5)
    if "frac" in th and near.any() and np.isfinite(th["frac"][near]).any():
        return bool(np.nanmax(th["frac"][near]) > rules.threshold("airborne_idle_margin"))
    return None


def _idle(raw: RawLog, seg: Segment, t: np.ndarray, cols: np.ndarray, seg_rows: np.ndarray) -> float:
    """The armed idle output: MOT_SPIN_ARM where logged, else the lowest outputs on the ground in this segment."""
    if raw.params.get("MOT_SPIN_ARM", 0) > 0:
        return float(raw.params["MOT_SPIN_ARM"])
    ground = seg_rows & ~airborne_mask(raw, seg, t)
    rows = cols[ground] if ground.any() and np.isfinite(cols[ground]).any() else cols[seg_rows]
    return float(min(np.nanpercentile(rows, 2), IDLE_MAX))


def loss_of_control(raw: RawLog, seg: Segment, rules: Rules) -> LossOfControl | None:
    """The first lean excursion beyond the limit, begun in the air with motors running (or a pinned motor).
    Only for multirotors outside the modes made for flips (ACRO, FLIP, SPORT: ArduCopter crash_check skips
    them too): an aeroplane or a VTOL in forward flight banks and loops by design."""
    th = rules.threshold
    a = window(raw, "att", seg, airborne=False, pad_s=_end(seg) - seg.t1)
    if raw.vehicle in LEAN_CHECKED_VEHICLES and len(a["t"]) >= 2:
        a = {k: v[~np.isin(mode_at(raw, a["t"]), list(FLIP_MODES))] for k, v in a.items()}
    if raw.vehicle in LEAN_CHECKED_VEHICLES and len(a["t"]) >= 2:
        t = a["t"]
        tilt = tilt_deg(a["roll_deg"], a["pitch_deg"])
        limit = angle_max_deg(raw) + th("loc_lean_margin_deg")
        excess = np.clip(np.nan_to_num(tilt - limit, nan=0.0), 0.0, None)
        cum = np.concatenate([[0.0], np.cumsum(0.5 * (excess[1:] + excess[:-1]) * np.diff(t))])
        back = np.searchsorted(t, t - th("loc_window_s"))
        integral = cum - cum[back]
        edges = np.diff(np.concatenate([[0], (excess > 0).astype(np.int8), [0]]))
        for start, end in zip(np.flatnonzero(edges == 1).tolist(), (np.flatnonzero(edges == -1) - 1).tolist(),
                              strict=True):  # each excursion beyond the limit once (a bench board lies inverted)
            over = np.flatnonzero(integral[start:end + 2] >= th("loc_lean_integral_deg_s"))
            if not over.size:
                continue
            i = min(start + int(over[0]), len(t) - 1)
            t0 = float(t[start])
            if airborne_before(seg, t0, th("loc_air_grace_s")) and _motors_running(raw, seg, t0, rules) is not False:
                worst = float(np.nanmax(tilt[start:i + 1]))
                return LossOfControl(t0, worst, f"tilt {worst:.0f}° beyond the {limit:.0f}° limit "
                                                f"({integral[i]:.0f} deg·s in {th('loc_window_s'):g} s) at "
                                                f"t={t0 - seg.t0:.1f}s, roll={a['roll_deg'][i]:.0f}° "
                                                f"pitch={a['pitch_deg'][i]:.0f}°")
    p = pinned(raw, seg, rules)
    if p is not None and p.asymmetric:
        return LossOfControl(p.t, float("nan"), f"motor {p.high} pinned at full output while motor {p.low} "
                                                 f"sat at its floor for {p.dur_s:.1f} s from t={p.t - seg.t0:.1f}s")
    return None


def _peak_g(raw: RawLog, t0: float, t1: float) -> tuple[float, float] | None:
    imu = raw.stream("imu")
    sel = (imu["t"] >= t0) & (imu["t"] <= t1)
    if "ax" not in imu or not sel.any():
        return None
    mag = np.sqrt(imu["ax"][sel] ** 2 + imu["ay"][sel] ** 2 + imu["az"][sel] ** 2) / G
    if not np.isfinite(mag).any():
        return None
    i = int(np.nanargmax(mag))
    return float(mag[i]), float(imu["t"][sel][i])


def _height(raw: RawLog, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
    for name, col in (("baro", "alt_m"), ("alt", "rel_alt_m")):
        s = raw.stream(name)
        sel = (s["t"] >= t0) & (s["t"] <= t1) & np.isfinite(s.get(col, s["t"] * np.nan))
        if sel.sum() >= 2:
            return s["t"][sel], s[col][sel]
    return np.zeros(0), np.zeros(0)


def _fall(raw: RawLog, t0: float, t1: float, rules: Rules, ref: float, start_by: float | None = None) -> str | None:
    """A descent of at least crash_descent_min_m at crash_descent_rate_mps or faster between t0 and t1, begun by
    ``start_by`` (the fall that follows a loss of control, not a commanded descent long after it)."""
    t, h = _height(raw, t0, t1)
    if t.size < 2:
        return None
    keep = np.concatenate([[True], np.diff(np.floor(t * 4.0)) > 0])  # ~4 Hz is enough for a fall
    t, h = t[keep], h[keep]
    drop = h[:, None] - h[None, :]
    dt = t[None, :] - t[:, None]
    ok = (dt >= 1.0) & (drop >= rules.threshold("crash_descent_min_m"))
    ok &= drop >= rules.threshold("crash_descent_rate_mps") * np.where(dt > 0, dt, np.inf)
    if start_by is not None:
        ok &= (t <= start_by)[:, None]
    if not ok.any():
        return None
    i, j = np.unravel_index(int(np.argmax(np.where(ok, drop, -np.inf))), drop.shape)
    return f"fell {drop[i, j]:.1f} m in {dt[i, j]:.1f} s from t={t[i] - ref:.1f}s"


def _rest_tilt(raw: RawLog, t0: float, t1: float) -> float | None:
    a = raw.stream("att")
    sel = (a["t"] >= t0) & (a["t"] <= t1)
    if not sel.any():
        return None
    tilt = tilt_deg(a["roll_deg"][sel], a["pitch_deg"][sel])
    return float(np.nanmedian(tilt)) if np.isfinite(tilt).any() else None


def corroborate(raw: RawLog, seg: Segment, loc: LossOfControl, rules: Rules) -> list[str]:
    """Evidence that a loss of control ended on the ground: impact, fall, log cut while falling, at rest tilted."""
    th = rules.threshold
    end = _end(seg)
    hi = min(end, loc.t + th("crash_confirm_s"))
    out = []
    peak = _peak_g(raw, loc.t - 0.5, hi)
    if peak is not None and peak[0] >= th("crash_impact_g"):
        out.append(f"impact {peak[0]:.1f} g at t={peak[1] - seg.t0:.1f}s")
    if (fall := _fall(raw, loc.t - 1.0, hi, rules, seg.t0, start_by=loc.t + th("crash_fall_start_s"))) is not None:
        out.append(fall)
    rest = _rest_tilt(raw, max(loc.t, seg.t1 - REST_WINDOW_S), end)
    if rest is not None and rest >= th("crash_rest_tilt_deg"):
        out.append(f"at rest tilted {rest:.0f}° at the end")
    if seg.end in ("log_end", "reboot") and seg.t1 - loc.t <= th("crash_confirm_s"):
        falling = _fall(raw, max(loc.t, seg.t1 - 3.0), seg.t1, rules, seg.t0)
        if falling is not None or (rest is not None and rest > angle_max_deg(raw)):
            out.append(f"log ends {seg.t1 - loc.t:.1f} s later while falling or out of control")
    return out


def crash_events(raw: RawLog, seg: Segment, rules: Rules) -> list[Event]:
    """CRASH (corroborated), else LOSS_OF_CONTROL (recovered), else HARD_LANDING at a touchdown."""
    loc = loss_of_control(raw, seg, rules)
    if loc is not None:
        proof = corroborate(raw, seg, loc, rules)
        lean = None if np.isnan(loc.lean_deg) else loc.lean_deg
        if proof:
            return [rules.make_event("CRASH", loc.t - seg.t0, value=lean,
                                     detail="loss of control in flight ending on the ground: " + "; ".join(proof),
                                     evidence=loc.evidence, **pos(raw, loc.t))]
        return [rules.make_event("LOSS_OF_CONTROL", loc.t - seg.t0, value=lean,
                                 detail="loss of control in flight, recovered (no impact, fall or tip-over)",
                                 evidence=loc.evidence, **pos(raw, loc.t))]
    return hard_landings(raw, seg, rules)


def hard_landings(raw: RawLog, seg: Segment, rules: Rules) -> list[Event]:
    """At a touchdown: an impact over crash_impact_g with the attitude lost (beyond the lean limit at the
    impact, or at rest on its side or back) and motors running is a CRASH; an impact over hard_landing_g
    upright, or a tip-over without such an impact, is a HARD_LANDING."""
    th = rules.threshold
    w = th("hard_landing_window_s")
    for _, b in seg.air_windows:
        end = min(b + w, _end(seg))
        peak = _peak_g(raw, b - w, end)
        rest = _rest_tilt(raw, b + 1.0, min(b + 4.0, _end(seg)))
        tipped = rest is not None and rest >= th("crash_rest_tilt_deg")
        g, at = peak if peak is not None else (float("nan"), b)
        lean = _max_tilt(raw, at - 0.5, at + 1.0)
        lost = tipped or (lean is not None and lean > angle_max_deg(raw) + th("loc_lean_margin_deg"))
        evidence = (f"IMU peak {g:.1f} g at t={at - seg.t0:.1f}s; tilt up to "
                    f"{'unknown' if lean is None else f'{lean:.0f}°'} around it, at rest "
                    f"{'unknown' if rest is None else f'{rest:.0f}°'}")
        if g >= th("crash_impact_g") and lost and _motors_running(raw, seg, at, rules) is not False:
            return [rules.make_event("CRASH", at - seg.t0, value=g, threshold=th("crash_impact_g"),
                                     detail=f"ground impact {g:.1f} g with the attitude lost "
                                            f"({'came to rest on its side or back' if tipped else 'beyond the lean limit'})",
                                     evidence=evidence, **pos(raw, at))]
        if g >= th("hard_landing_g") or tipped:
            return [rules.make_event(
                "HARD_LANDING", at - seg.t0, level="tipover" if tipped else "fail",
                value=None if np.isnan(g) else g, threshold=th("hard_landing_g"),
                detail=("touched down and tipped over" if tipped else "hard touchdown, upright afterwards")
                + (f" (impact {g:.1f} g)" if np.isfinite(g) else ""), evidence=evidence, **pos(raw, at))]
    return []


def _max_tilt(raw: RawLog, t0: float, t1: float) -> float | None:
    a = raw.stream("att")
    sel = (a["t"] >= t0) & (a["t"] <= t1)
    tilt = tilt_deg(a["roll_deg"][sel], a["pitch_deg"][sel])
    return float(np.nanmax(tilt)) if np.isfinite(tilt).any() else None


def autopilot_crash_level(raw: RawLog, seg: Segment, t: float, rules: Rules) -> tuple[str, str]:
    """(level, why) for the autopilot's crash report at ``t``.

    ``ground`` when the aircraft had not flown before it (or had landed more than crash_confirm_s earlier:
    handling); ``fail`` when the physics confirms a crash, or the aircraft that just flew lies at rest on its side
    or back at the report (ArduCopter's check itself needs a still aircraft, not landed, its attitude far off),
    or the log cannot show either; ``unconfirmed`` otherwise."""
    th = rules.threshold
    if undecided(seg):
        return "fail", "whether the aircraft flew cannot be told from this log: the autopilot's report stands"
    flown = [(a, b) for a, b in seg.air_windows if a <= t]
    if not flown:
        return "ground", "the aircraft never left the ground before it (bench or ground handling)"
    if t - flown[-1][1] > th("crash_confirm_s"):
        return "ground", f"{t - flown[-1][1]:.0f} s after the landing (handling on the ground)"
    if not len(window(raw, "att", seg, airborne=False)["t"]):
        return "fail", "no attitude logged to check it"
    crash = [e for e in crash_events(raw, seg, rules) if e.kind == "CRASH"]
    if crash:
        return "fail", crash[0].detail
    rest = _rest_tilt(raw, t - REST_WINDOW_S, t)
    if rest is not None and rest >= th("crash_rest_tilt_deg"):
        return "fail", f"the aircraft lies at rest tilted {rest:.0f}° after flying"
    return "unconfirmed", "no loss of control with impact, fall or tip-over in the physics"
