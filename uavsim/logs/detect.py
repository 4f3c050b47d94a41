"""Event detectors for one flight segment: autopilot notes (ERR/EV/STATUSTEXT/HEARTBEAT/PX4 flags) and
sensor checks (GPS, EKF, vibration, clipping, attitude, crash attitude, battery, truncated log).

Every threshold comes from the rules table and every severity from ``Rules.make_event``. Event times
are seconds from the flight's start; each event carries the message or sample that proves it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from uavsim.logs import airborne
from uavsim.logs.raw import Note, RawLog
from uavsim.logs.segment import Segment, in_air, step
from uavsim.records import SEVERITY_RANK, Event
from uavsim.safety.rules import Rules

NOTE_GRACE_S = 2.0  # an autopilot message logged just after disarming (crash check) still belongs to the flight
END_WINDOW_S = 3.0  # "in the air at the end" looks at the last seconds of the flight


@dataclass
class _Open:
    note: Note
    level: str
    count: int = 1
    last_t: float = 0.0
    resolved: list[str] = field(default_factory=list)
    also: list[str] = field(default_factory=list)


def assign_notes(notes: list[Note], segs: list[Segment]) -> list[list[Note]]:
    """Each note goes to exactly one flight: the first that contains it, else one that ended just before."""
    out: list[list[Note]] = [[] for _ in segs]
    for n in notes:
        for i, s in enumerate(segs):
            if s.t0 <= n.t <= s.t1 or (s.t1 < n.t <= s.t1 + NOTE_GRACE_S and (i + 1 == len(segs) or n.t < segs[i + 1].t0)):
                out[i].append(n)
                break
    return out


def _pos(raw: RawLog, t: float) -> dict[str, float | None]:
    g = raw.stream("gps")
    if len(g["t"]) == 0:
        return {}
    vals = {k: step(g["t"], g[k], np.array([t]))[0] for k in ("lat", "lon", "alt_msl_m")}
    if not all(np.isfinite(v) for v in vals.values()) or (vals["lat"] == 0 and vals["lon"] == 0):
        return {}
    return {"lat": float(vals["lat"]), "lon": float(vals["lon"]), "alt": float(vals["alt_msl_m"])}


def note_events(raw: RawLog, seg: Segment, notes: list[Note], rules: Rules) -> list[Event]:
    """Autopilot messages as events; repeats of one code merge into the first, "resolved" codes annotate it."""
    opened: dict[str, _Open] = {}  # one event per kind; ERR, EV and text evidence of one kind merge
    for n in notes:
        if n.kind is None:
            continue
        prev = opened.get(n.kind)
        if n.clears:
            if prev is not None:
                prev.resolved.append(f"{n.evidence} at t={n.t - seg.t0:.1f}s")
            else:
                opened[n.kind] = _Open(n, "warn", last_t=n.t)  # a resolution without its onset in this flight
            continue
        level = n.level
        if n.kind == "MOTOR_FAILURE" and n.key == "EV54" and in_air(raw, np.array([n.t]), rules)[0] == 1.0:
            level = "crash"  # motors stopped while flying: the aircraft fell
        if prev is None:
            opened[n.kind] = _Open(n, level, last_t=n.t)
        else:
            prev.count += 1
            prev.last_t = n.t
            if n.evidence not in prev.also and n.evidence != prev.note.evidence:
                prev.also.append(n.evidence)
            if SEVERITY_RANK[rules.severity_of(n.kind, level)] > SEVERITY_RANK[rules.severity_of(n.kind, prev.level)]:
                prev.level = level
    events = []
    for o in opened.values():
        n = o.note
        detail = n.detail
        if o.count > 1:
            detail += f" ({o.count} times, last at t={o.last_t - seg.t0:.1f}s)"
        if o.level == "crash":
            detail += " while in the air"
        evidence = n.evidence + "".join(f"; also: {a}" for a in o.also[:5])
        evidence += "".join(f"; resolved: {r}" for r in o.resolved[:5])
        events.append(rules.make_event(n.kind, n.t - seg.t0, level=o.level, value=n.value, detail=detail,
                                       evidence=evidence, **_pos(raw, n.t)))
    return events


def _runs(mask: np.ndarray, t: np.ndarray, min_s: float) -> tuple[int, float] | None:
    """First index of the longest run where ``mask`` holds, if that run lasts ``min_s`` or more."""
    best: tuple[int, float] | None = None
    i, n = 0, len(mask)
    while i < n:
        if not mask[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and mask[j + 1]:
            j += 1
        dur = t[j] - t[i]
        if dur >= min_s and (best is None or dur > best[1]):
            best = (i, dur)
        i = j + 1
    return best


def _window(raw: RawLog, name: str, seg: Segment, rules: Rules, airborne: bool = True) -> dict[str, np.ndarray]:
    s = raw.stream(name)
    sel = (s["t"] >= seg.t0) & (s["t"] <= seg.t1)
    if airborne and sel.any():
        sel[sel] &= in_air(raw, s["t"][sel], rules) == 1.0
    return {k: v[sel] for k, v in s.items()}


def _limit_check(rules: Rules, seg: Segment, raw: RawLog, kind: str, t: np.ndarray, v: np.ndarray,
                 warn: float, fail: float, above: bool, persist: float, what: str, unit: str) -> list[Event]:
    """One event at the worst level whose limit held for ``persist`` seconds."""
    ok = np.isfinite(v)
    for level, lim in (("fail", fail), ("warn", warn)):
        bad = ok & ((v > lim) if above else (v < lim))
        hit = _runs(bad, t, persist)
        if hit is not None:
            i, dur = hit
            worst = float(np.max(v[bad]) if above else np.min(v[bad]))
            sign = ">" if above else "<"
            return [rules.make_event(
                kind, t[i] - seg.t0, level=level, value=worst, threshold=lim,
                detail=f"{what} {sign} {lim:g}{unit} for {dur:.1f} s in flight (worst {worst:g}{unit})",
                evidence=f"{what}={v[i]:g}{unit} at t={t[i] - seg.t0:.1f}s", **_pos(raw, float(t[i])))]
    return []


def sensor_events(raw: RawLog, seg: Segment, rules: Rules) -> list[Event]:
    th = rules.threshold
    persist = th("persist_s")
    out: list[Event] = []
    g = _window(raw, "gps", seg, rules)
    if len(g["t"]):
        fixed = g["fix"] >= 3
        out += _limit_check(rules, seg, raw, "GPS_DEGRADED", g["t"], np.where(fixed, g["sats"], np.nan),
                            th("gps_sats_warn"), th("gps_sats_fail"), False, persist, "GPS satellites", "")
        if not out:
            out += _limit_check(rules, seg, raw, "GPS_DEGRADED", g["t"], np.where(fixed, g["hdop"], np.nan),
                                th("gps_hdop_warn"), th("gps_hdop_fail"), True, persist, "GPS HDOP", "")
        had_fix = np.cumsum(fixed) > 0
        lost = _runs(had_fix & ~fixed & np.isfinite(g["fix"]), g["t"], persist)
        if lost is not None:
            i, dur = lost
            out.append(rules.make_event("GPS_DEGRADED", g["t"][i] - seg.t0, value=float(g["fix"][i]), threshold=3.0,
                                        detail=f"3D fix lost for {dur:.1f} s in flight",
                                        evidence=f"GPS fix type {int(g['fix'][i])} at t={g['t'][i] - seg.t0:.1f}s"))
    e = _window(raw, "ekf", seg, rules)
    out += _limit_check(rules, seg, raw, "EKF_VARIANCE", e["t"], e["var"], th("ekf_variance_warn"),
                        th("ekf_variance_fail"), True, persist, "EKF variance ratio", "")
    v = _window(raw, "vibe", seg, rules)
    vib = v["vibe_mps2"][np.isfinite(v["vibe_mps2"])] if len(v["t"]) else np.zeros(0)
    if vib.size:
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
    out += _attitude_events(raw, seg, rules)
    b = _window(raw, "bat", seg, rules, airborne=False)
    pct = b["pct"][np.isfinite(b["pct"]) & (b["pct"] >= 0)] if len(b["t"]) else np.zeros(0)
    if pct.size and pct.min() < th("battery_fail_pct"):
        i = int(np.nanargmin(np.where(b["pct"] >= 0, b["pct"], np.inf)))
        out.append(rules.make_event("BATTERY_LOW", b["t"][i] - seg.t0, value=float(pct.min()),
                                    threshold=th("battery_fail_pct"),
                                    detail=f"battery at {pct.min():.0f} % (< {th('battery_fail_pct'):g} %)",
                                    evidence=f"battery remaining {pct.min():.0f} % at t={b['t'][i] - seg.t0:.1f}s",
                                    **_pos(raw, float(b["t"][i]))))
    out += truncated_event(raw, seg, rules)
    return out


def _attitude_events(raw: RawLog, seg: Segment, rules: Rules) -> list[Event]:
    th = rules.threshold
    out: list[Event] = []
    a = _window(raw, "att", seg, rules, airborne=False)
    if not len(a["t"]):
        return out
    lean = np.fmax(np.abs(a["roll_deg"]), np.abs(a["pitch_deg"]))
    # The whole segment is armed (motors on): a lean beyond the crash angle that lasts is a crash.
    hit = _runs(np.nan_to_num(lean) > th("crash_attitude_deg"), a["t"], th("crash_attitude_s"))
    if hit is not None:
        i, dur = hit
        out.append(rules.make_event(
            "CRASH", a["t"][i] - seg.t0, value=float(lean[i]), threshold=th("crash_attitude_deg"),
            detail=f"attitude beyond {th('crash_attitude_deg'):g}° for {dur:.1f} s while armed",
            evidence=f"roll={a['roll_deg'][i]:.0f}° pitch={a['pitch_deg'][i]:.0f}° at t={a['t'][i] - seg.t0:.1f}s",
            **_pos(raw, float(a["t"][i]))))
    air = in_air(raw, a["t"], rules) == 1.0
    err = np.fmax(np.abs(_wrap180(a["des_roll_deg"] - a["roll_deg"])), np.abs(_wrap180(a["des_pitch_deg"] - a["pitch_deg"])))
    err = np.where(air, err, np.nan)
    out += _limit_check(rules, seg, raw, "ATTITUDE_ERROR", a["t"], err, th("attitude_error_warn_deg"),
                        th("attitude_error_fail_deg"), True, th("attitude_error_warn_s"), "attitude error", "°")
    return out


def _wrap180(deg: np.ndarray) -> np.ndarray:
    return (deg + 180.0) % 360.0 - 180.0


def truncated_event(raw: RawLog, seg: Segment, rules: Rules) -> list[Event]:
    """The log ends (or the autopilot reboots) while armed. LOG_TRUNCATED_IN_AIR only when the last samples
    show the aircraft airborne by physics (above truncated_in_air_rel_alt_m, or motors at lift off the ground
    level); an end that cannot be decided is END_NOT_RECORDED (an observation); landed or never airborne: none."""
    undecided = seg.airborne_evidence.get("decided_by", "").startswith("undecided")
    if seg.end not in ("log_end", "reboot") or not (seg.airborne or undecided) or seg.landing_t is not None:
        return []
    end = seg.t1 - (1e-3 if seg.end == "reboot" else 0.0)  # the state before the reboot, not after it
    st = airborne.end_state(raw, seg.t0, end, rules, END_WINDOW_S)
    if st.airborne is False:
        return []
    rel = "unknown" if st.rise_m is None else f"{st.rise_m:.1f} m"
    kind = "LOG_TRUNCATED_IN_AIR" if st.airborne else "END_NOT_RECORDED"
    detail = (f"{seg.end_evidence} in the air ({st.why}); the end of the flight is unknown" if st.airborne else
              f"{seg.end_evidence}; end of flight not recorded ({st.why})")
    return [rules.make_event(
        kind, seg.t1 - seg.t0, value=st.rise_m, threshold=rules.threshold("truncated_in_air_rel_alt_m"),
        detail=detail, evidence=f"last record at t={seg.t1 - seg.t0:.1f}s, height over the ground level {rel}"
        + ("" if st.thrust is None else f", thrust {st.thrust:.2f}"), **_pos(raw, seg.t1))]
