"""Autopilot messages as events: ERR/EV codes, STATUSTEXT/MSG texts, heartbeat states, PX4 flags.

Each note goes to one flight; repeats of one kind merge into its first event, "resolved" codes annotate it.
The autopilot's own crash report is graded by the physics (uavsim.logs.detectors.crash), and a motor
emergency stop counts as a fall only when it came in the air.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from uavsim.logs.detectors.common import pos, undecided
from uavsim.logs.detectors.crash import autopilot_crash_level
from uavsim.logs.raw import Note, RawLog
from uavsim.logs.segment import Segment, airborne_mask
from uavsim.records import SEVERITY_RANK, Event
from uavsim.safety.rules import Rules

NOTE_GRACE_S = 2.0  # an autopilot message logged just after disarming (crash check) still belongs to the flight


@dataclass
class _Open:
    note: Note
    level: str
    count: int = 1
    last_t: float = 0.0
    resolved: list[str] = field(default_factory=list)
    also: list[str] = field(default_factory=list)
    why: str = ""


def assign_notes(notes: list[Note], segs: list[Segment]) -> list[list[Note]]:
    """Each note goes to exactly one flight: the first that contains it, else one that ended just before."""
    out: list[list[Note]] = [[] for _ in segs]
    for n in notes:
        for i, s in enumerate(segs):
            if s.t0 <= n.t <= s.t1 or (s.t1 < n.t <= s.t1 + NOTE_GRACE_S and (i + 1 == len(segs) or n.t < segs[i + 1].t0)):
                out[i].append(n)
                break
    return out


def _level(raw: RawLog, seg: Segment, n: Note, rules: Rules) -> tuple[str, str]:
    if n.kind == "CRASH" and not n.clears:
        return autopilot_crash_level(raw, seg, n.t, rules)
    if n.kind == "LOSS_OF_CONTROL" and not undecided(seg) and not any(a <= n.t for a, _ in seg.air_windows):
        return "ground", "before the aircraft ever left the ground (a tilted or handled board)"
    if n.kind == "MOTOR_FAILURE" and n.key == "EV54":  # the emergency stop: a fall in the air, a switch on the ground
        if airborne_mask(raw, seg, np.array([n.t]))[0]:
            return "crash", "while in the air"
        if undecided(seg):
            return n.level, "in the air or not cannot be told from this log"
        return "ground", "on the ground (the pilot's motor stop)"
    return n.level, ""


def _collect(raw: RawLog, seg: Segment, notes: list[Note], rules: Rules) -> dict[str, _Open]:
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
        level, why = _level(raw, seg, n, rules)
        if prev is None:
            opened[n.kind] = _Open(n, level, last_t=n.t, why=why)
            continue
        prev.count += 1
        prev.last_t = n.t
        if n.evidence not in prev.also and n.evidence != prev.note.evidence:
            prev.also.append(n.evidence)
        if SEVERITY_RANK[rules.severity_of(n.kind, level)] > SEVERITY_RANK[rules.severity_of(n.kind, prev.level)]:
            prev.level, prev.why = level, why
    return opened


def note_events(raw: RawLog, seg: Segment, notes: list[Note], rules: Rules) -> list[Event]:
    """Autopilot messages as events; repeats of one code merge into the first, "resolved" codes annotate it."""
    events = []
    for o in _collect(raw, seg, notes, rules).values():
        n = o.note
        detail = n.detail
        if o.count > 1:
            detail += f" ({o.count} times, last at t={o.last_t - seg.t0:.1f}s)"
        if o.why:
            detail += f": {o.why}"
        evidence = n.evidence + "".join(f"; also: {a}" for a in o.also[:5])
        evidence += "".join(f"; resolved: {r}" for r in o.resolved[:5])
        events.append(rules.make_event(n.kind, n.t - seg.t0, level=o.level, value=n.value, detail=detail,
                                       evidence=evidence, **pos(raw, n.t)))
    return events
