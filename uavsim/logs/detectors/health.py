"""Health checks (GPS, EKF, battery) and their grading by the aircraft's configuration.

- An EKF event (EKF_VARIANCE, FAILSAFE_EKF) counts in full only when an EKF flies the aircraft
  (AHRS_EKF_USE, AHRS_EKF_TYPE with EK2/EK3_ENABLE, the PX4 estimator): otherwise level ``not_in_control``.
- A GPS event (GPS_DEGRADED, FAILSAFE_GPS) counts in full only in a mode that navigates on GPS
  (ArduCopter mode.h requires_GPS()): otherwise level ``not_needed``.
- A battery event (FAILSAFE_BATTERY, BATTERY_LOW) counts in full only when the monitor is plausible: a
  monitor configured off (BATT_MONITOR=0), or a voltage that stays flat with zero current while armed, is not
  measuring; the flight gets BATTERY_TELEMETRY_INVALID and the battery events
  level ``monitor_invalid``.
An unknown configuration or mode never makes an event milder.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from uavsim.logs import params as P
from uavsim.logs.detectors.common import limit_check, mode_at, pos, runs, window
from uavsim.logs.raw import RawLog
from uavsim.logs.segment import Segment
from uavsim.records import Event
from uavsim.safety.rules import Rules

EKF_KINDS = frozenset({"EKF_VARIANCE", "FAILSAFE_EKF"})
GPS_KINDS = frozenset({"GPS_DEGRADED", "FAILSAFE_GPS"})
BATTERY_KINDS = frozenset({"FAILSAFE_BATTERY", "BATTERY_LOW"})


def gps_ekf_events(raw: RawLog, seg: Segment, rules: Rules) -> list[Event]:
    """GPS checks first over the samples flown in modes that need GPS (or an unknown mode), then, if those
    are clean, over the rest (graded down by ``grade``); the EKF variance check."""
    th = rules.threshold
    out: list[Event] = []
    g = window(raw, "gps", seg)
    if len(g["t"]):
        needs = np.array([P.mode_needs_gps(m) is not False for m in mode_at(raw, g["t"])], dtype=bool)
        out = _gps_checks(raw, seg, rules, g, needs) or _gps_checks(raw, seg, rules, g, ~needs)
    e = window(raw, "ekf", seg)
    out += limit_check(rules, seg, raw, "EKF_VARIANCE", e["t"], e["var"], th("ekf_variance_warn"),
                       th("ekf_variance_fail"), True, th("persist_s"), "EKF variance ratio", "")
    return out


def _gps_checks(raw: RawLog, seg: Segment, rules: Rules, g: dict[str, np.ndarray], sel: np.ndarray) -> list[Event]:
    th = rules.threshold
    persist = th("persist_s")
    fixed = g["fix"] >= 3
    out = limit_check(rules, seg, raw, "GPS_DEGRADED", g["t"], np.where(fixed & sel, g["sats"], np.nan),
                      th("gps_sats_warn"), th("gps_sats_fail"), False, persist, "GPS satellites", "")
    if not out:
        out += limit_check(rules, seg, raw, "GPS_DEGRADED", g["t"], np.where(fixed & sel, g["hdop"], np.nan),
                           th("gps_hdop_warn"), th("gps_hdop_fail"), True, persist, "GPS HDOP", "")
    had_fix = np.cumsum(fixed) > 0
    lost = runs(had_fix & ~fixed & np.isfinite(g["fix"]) & sel, g["t"], persist)
    if lost is not None:
        i, dur = lost
        out.append(rules.make_event("GPS_DEGRADED", g["t"][i] - seg.t0, value=float(g["fix"][i]), threshold=3.0,
                                    detail=f"3D fix lost for {dur:.1f} s in flight",
                                    evidence=f"GPS fix type {int(g['fix'][i])} at t={g['t'][i] - seg.t0:.1f}s"))
    return out


def battery_events(raw: RawLog, seg: Segment, rules: Rules) -> list[Event]:
    th = rules.threshold
    b = window(raw, "bat", seg, airborne=False)
    out: list[Event] = []
    pct = b["pct"][np.isfinite(b["pct"]) & (b["pct"] >= 0)] if len(b["t"]) else np.zeros(0)
    if pct.size and pct.min() < th("battery_fail_pct"):
        i = int(np.nanargmin(np.where(b["pct"] >= 0, b["pct"], np.inf)))
        out.append(rules.make_event("BATTERY_LOW", b["t"][i] - seg.t0, value=float(pct.min()),
                                    threshold=th("battery_fail_pct"),
                                    detail=f"battery at {pct.min():.0f} % (< {th('battery_fail_pct'):g} %)",
                                    evidence=f"battery remaining {pct.min():.0f} % at t={b['t'][i] - seg.t0:.1f}s",
                                    **pos(raw, float(b["t"][i]))))
    return out


def battery_monitor_invalid(raw: RawLog, seg: Segment, rules: Rules) -> str | None:
    """Why the battery monitor cannot be believed in this flight, or None when it is (or cannot be judged)."""
    if P.battery_monitor_enabled(raw.params) is False:
        return "BATT_MONITOR=0: no battery monitor is configured"
    b = window(raw, "bat", seg, airborne=bool(seg.air_windows))
    v = b["volt_v"][np.isfinite(b["volt_v"])] if len(b["t"]) else np.zeros(0)
    if v.size < 10:
        return None
    c = b["curr_a"][np.isfinite(b["curr_a"])]
    flat = float(v.max() - v.min()) < rules.threshold("battery_flat_volt_v")
    no_current = c.size == 0 or float(np.abs(c).max()) < rules.threshold("battery_zero_current_a")
    if flat and no_current:
        return (f"voltage flat at {np.median(v):.2f} V (range {v.max() - v.min():.2f} V) with "
                f"{'no' if c.size == 0 else 'zero'} current while armed")
    return None


def _regrade(e: Event, level: str, why: str, rules: Rules) -> Event:
    return replace(e, level=level, severity=rules.severity_of(e.kind, level), detail=f"{e.detail} ({why})")


def grade(events: list[Event], raw: RawLog, seg: Segment, rules: Rules) -> list[Event]:
    """Grade EKF, GPS and battery events by configuration and mode (see the module docstring)."""
    in_control, which = P.ekf_in_control(raw.params, raw.fmt)
    monitor_bad = battery_monitor_invalid(raw, seg, rules) if any(e.kind in BATTERY_KINDS for e in events) else None
    out = []
    for e in events:
        if e.kind in EKF_KINDS and in_control is False:
            e = _regrade(e, "not_in_control", f"the EKF did not fly the aircraft: {which}", rules)
        elif e.kind in GPS_KINDS:
            mode = mode_at(raw, np.array([seg.t0 + e.t_s]))[0]
            if P.mode_needs_gps(mode) is False:
                e = _regrade(e, "not_needed", f"in {mode}, which does not navigate on GPS", rules)
        elif e.kind in BATTERY_KINDS and monitor_bad:
            e = _regrade(e, "monitor_invalid", f"battery monitor not plausible: {monitor_bad}", rules)
        out.append(e)
    return out


def telemetry_invalid_event(raw: RawLog, seg: Segment, rules: Rules) -> list[Event]:
    """BATTERY_TELEMETRY_INVALID when the voltage is flat with zero current while armed."""
    if P.battery_monitor_enabled(raw.params) is False:
        return []
    why = battery_monitor_invalid(raw, seg, rules)
    if why is None:
        return []
    return [rules.make_event("BATTERY_TELEMETRY_INVALID", 0.0, detail=why,
                             evidence=f"battery stream {why}")]
