"""Attitude tracking, by flight mode.

- Autopilot modes (the controller makes the target): desired against actual, dronekit-la's Attitude Control
  analyzer defaults (warn 5°, fail 10°, held 0.25 s).
- Manual modes where the pilot's stick sets the lean angle (ArduCopter STABILIZE, ALT_HOLD, POSHOLD, DRIFT:
  LogAnalyzer TestPitchRollCoupling's manualModes; PX4 STAB/ALTCTL; Plane FBWA/STABILIZE): the stick
  target moves as fast as the pilot's hand. The logged target (ATT.DesRoll) is already the shaped one
  (ATC_INPUT_TC / RC_FEEL_RP), and the angle loop follows it with a time constant of 1/P (ATC_ANG_RLL_P,
  STB_RLL_P in 3.3 and older, PX4 MC_ROLL_P; default 4.5), so the actual attitude is compared with the target
  filtered by that lag, and must stay off for longer.
- LAND without a 3D fix is flown on the pilot's lean angle too (ArduCopter mode_land.cpp nogps_run).
- Rate and tuning modes (ACRO, SPORT, FLIP, AUTOTUNE, MANUAL, TRAINING, THROW): no attitude target; skipped.
- Inside a loss of control or crash the "error" is the accident itself: it is left to the crash detector.
Only airborne samples count. The default severity is an observation (rules.toml).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from uavsim.logs.detectors.common import limit_check, mode_at, window, wrap180
from uavsim.logs.raw import RawLog
from uavsim.logs.segment import Segment, step
from uavsim.records import Event
from uavsim.safety.rules import Rules

MANUAL_MODES = frozenset({"STABILIZE", "ALT_HOLD", "ALTHOLD", "POSHOLD", "DRIFT", "STAB", "ALTCTL", "FBWA",
                          "QSTABILIZE", "QHOVER"})
SKIPPED_MODES = frozenset({"ACRO", "SPORT", "FLIP", "AUTOTUNE", "MANUAL", "TRAINING", "THROW", "QACRO",
                           "QAUTOTUNE", "RATTITUDE"})


def _lag(t: np.ndarray, x: np.ndarray, tau: float) -> np.ndarray:
    """First-order lag of ``x`` with time constant ``tau`` at the log's (median) sample step; a missing sample
    holds the last value."""
    x = np.asarray(x, dtype=float)
    ok = np.isfinite(x)
    if len(x) < 2 or not ok.any():
        return x.copy()
    held = x[np.maximum.accumulate(np.where(ok, np.arange(len(x)), 0))]  # forward fill
    held[: int(np.argmax(ok))] = held[int(np.argmax(ok))]
    k = 1.0 - np.exp(-float(np.median(np.diff(t))) / tau)
    return lfilter([k], [1.0, k - 1.0], held, zi=[(1.0 - k) * held[0]])[0]


def _has_fix(raw: RawLog, t: np.ndarray) -> np.ndarray:
    """A 3D GPS fix at each time (False where the log has no GPS)."""
    g = raw.stream("gps")
    if not len(g["t"]):
        return np.zeros(t.shape, dtype=bool)
    return step(g["t"], g["fix"], t) >= 3


def attitude_events(raw: RawLog, seg: Segment, rules: Rules, crash_t: float | None) -> list[Event]:
    """ATTITUDE_ERROR in autopilot modes, then in manual modes; samples from ``crash_t - 1 s`` on are ignored."""
    th = rules.threshold
    a = window(raw, "att", seg)
    if not len(a["t"]) or not np.isfinite(a["des_roll_deg"]).any():
        return []
    t = a["t"]
    modes = mode_at(raw, t)
    keep = np.ones(t.shape, bool) if crash_t is None else t < crash_t - 1.0
    manual = (np.isin(modes, list(MANUAL_MODES)) | ((modes == "LAND") & ~_has_fix(raw, t))) & keep
    auto = ~manual & ~np.isin(modes, list(SKIPPED_MODES)) & keep

    def err(des_r: np.ndarray, des_p: np.ndarray) -> np.ndarray:
        return np.fmax(np.abs(wrap180(des_r - a["roll_deg"])), np.abs(wrap180(des_p - a["pitch_deg"])))

    out = limit_check(rules, seg, raw, "ATTITUDE_ERROR", t, np.where(auto, err(a["des_roll_deg"], a["des_pitch_deg"]),
                                                                     np.nan),
                      th("attitude_error_warn_deg"), th("attitude_error_fail_deg"), True, th("attitude_error_warn_s"),
                      "attitude error (autopilot mode)", "°")
    if out or not manual.any():
        return out
    p = next((raw.params[k] for k in ("ATC_ANG_RLL_P", "STB_RLL_P", "MC_ROLL_P") if raw.params.get(k, 0) > 0),
             th("attitude_angle_p_default"))
    lagged = err(_lag(t, a["des_roll_deg"], 1.0 / p), _lag(t, a["des_pitch_deg"], 1.0 / p))
    return limit_check(rules, seg, raw, "ATTITUDE_ERROR", t, np.where(manual, lagged, np.nan),
                       th("attitude_error_warn_deg"), th("attitude_error_fail_deg"), True,
                       th("attitude_error_manual_s"), f"attitude error against the stick target as the angle loop "
                       f"follows it ({1.0 / p:.2f} s; manual mode)", "°")
