"""Event detectors for one flight segment: the entry points the importer calls.

``note_events`` turns autopilot messages (ERR/EV/STATUSTEXT/HEARTBEAT/PX4 flags) into events;
``sensor_events`` runs the sensor checks of :mod:`uavsim.logs.detectors` (health, vibration, motors, crash and
loss of control, hard landing, attitude tracking) and the truncated-log check below, then grades the health
events by the aircraft's configuration and flight mode. Every threshold comes from the rules table and every
severity from ``Rules.make_event``. Event times are seconds from the flight's start; each event carries the
message or sample that proves it.
"""

from __future__ import annotations

from uavsim.logs import airborne
from uavsim.logs.detectors import attitude, crash, health, motors, vibration
from uavsim.logs.detectors.common import pos as _pos
from uavsim.logs.detectors.common import runs as _runs
from uavsim.logs.detectors.notes import NOTE_GRACE_S, assign_notes
from uavsim.logs.detectors.notes import note_events as _note_events
from uavsim.logs.raw import Note, RawLog
from uavsim.logs.segment import Segment
from uavsim.records import Event
from uavsim.safety.rules import Rules

__all__ = ["NOTE_GRACE_S", "assign_notes", "note_events", "sensor_events", "truncated_event", "_runs"]

END_WINDOW_S = 3.0  # "in the air at the end" looks at the last seconds of the flight


def note_events(raw: RawLog, seg: Segment, notes: list[Note], rules: Rules) -> list[Event]:
    """Autopilot messages as events, graded by configuration and mode like the sensor checks."""
    return health.grade(_note_events(raw, seg, notes, rules), raw, seg, rules)


def _has_autopilot_crash(raw: RawLog, seg: Segment) -> bool:
    """An autopilot crash report inside the segment: its event carries the physics, so none is added twice."""
    return any(n.kind == "CRASH" and not n.clears and seg.t0 <= n.t <= seg.t1 + NOTE_GRACE_S for n in raw.notes)


def sensor_events(raw: RawLog, seg: Segment, rules: Rules) -> list[Event]:
    """The sensor checks of one segment (airborne-gated where they only mean something in the air)."""
    out: list[Event] = health.gps_ekf_events(raw, seg, rules)
    out += vibration.vibration_events(raw, seg, rules)
    out += motors.motor_events(raw, seg, rules)
    accident = crash.crash_events(raw, seg, rules)
    crash_t = next((seg.t0 + e.t_s for e in accident if e.kind in ("CRASH", "LOSS_OF_CONTROL")), None)
    if _has_autopilot_crash(raw, seg):
        accident = [e for e in accident if e.kind != "CRASH"]
    out += accident
    out += attitude.attitude_events(raw, seg, rules, crash_t)
    out += health.battery_events(raw, seg, rules)
    out += health.telemetry_invalid_event(raw, seg, rules)
    out += truncated_event(raw, seg, rules)
    return health.grade(out, raw, seg, rules)


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
