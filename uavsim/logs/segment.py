"""Split one log into flights.

A flight runs from arming to disarming (EV/ARM/STAT messages, HEARTBEAT base_mode, PX4 arming_state).
A reboot ends the flight (the end is then unknown). A log that never records arming (planes, rovers,
partial logs) gets its flights from the "in air" rule of MISSION.md: ground speed above the threshold
with a 3D fix, or height above launch above the threshold, or the land detector saying "flying".
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from uavsim.logs import airborne
from uavsim.logs.raw import RawLog
from uavsim.safety.rules import Rules

MERGE_GAP_S = 30.0  # in-air runs closer than this are one inferred flight
PAD_S = 5.0  # inferred flights start/end this much before/after the in-air run
REARM_MIN_S = 2.0  # a repeated arming message from the same source this long after the first is a new arming


@dataclass(frozen=True)
class Segment:
    t0: float
    t1: float
    end: str  # disarm | log_end | reboot | inferred | rearmed
    start_evidence: str
    end_evidence: str
    # Airborne by physics (see decide_airborne); log-clock seconds like t0/t1.
    airborne: bool = False
    takeoff_t: float | None = None  # None when never airborne
    landing_t: float | None = None  # None when never airborne, or when the log ends in the air
    air_windows: list[tuple[float, float]] = field(default_factory=list)  # (lift-off, touch-down) runs
    airborne_evidence: dict[str, str] = field(default_factory=dict)  # takeoff / landing / decided_by / streams

    @property
    def duration_s(self) -> float:
        return self.t1 - self.t0


def airborne_mask(raw: RawLog, seg: Segment, t: np.ndarray) -> np.ndarray:
    """True at each time ``t`` (log clock) that lies inside one of the segment's airborne windows.
    Detectors call this to gate checks that only mean something in the air."""
    t = np.asarray(t, dtype=float)
    out = np.zeros(t.shape, dtype=bool)
    for a, b in seg.air_windows:
        out |= (t >= a) & (t <= b)
    return out


def step(times: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Value of a step function (last sample at or before each grid time); NaN before the first sample."""
    out = np.full(np.shape(grid), np.nan)
    if len(times) == 0:
        return out
    idx = np.searchsorted(times, grid, side="right") - 1
    ok = idx >= 0
    out[ok] = np.asarray(values, dtype=float)[idx[ok]]
    return out


def in_air(raw: RawLog, grid: np.ndarray, rules: Rules) -> np.ndarray:
    """Per grid time: 1.0 in the air, 0.0 on the ground, NaN when nothing says either way.

    Physical evidence (speed with a 3D fix, height above launch) decides first. The autopilot's land
    detector (EV NOT_LANDED/LAND_COMPLETE, PX4 land_detected, STAT isFlying) fills in when the physics
    says "ground" or nothing, unless the height above launch shows the aircraft is on the ground.
    """
    grid = np.asarray(grid, dtype=float)
    phys = np.full(grid.shape, np.nan)
    low = np.zeros(grid.shape, dtype=bool)

    def vote(flag: np.ndarray) -> None:
        known = ~np.isnan(flag)
        phys[known] = np.fmax(np.nan_to_num(phys[known], nan=0.0), flag[known])

    gps = raw.stream("gps")
    if len(gps["t"]):
        fix3d = gps["fix"] >= 3
        fast = np.where(fix3d & np.isfinite(gps["gspd_mps"]),
                        (gps["gspd_mps"] > rules.threshold("in_air_ground_speed_mps")).astype(float), np.nan)
        vote(_held(gps["t"], fast, grid))
    alt = raw.stream("alt")
    if len(alt["t"]):
        rel = _held(alt["t"], alt["rel_alt_m"], grid)
        vote(np.where(np.isfinite(rel), (rel > rules.threshold("in_air_rel_alt_m")).astype(float), np.nan))
        low = np.abs(np.nan_to_num(rel, nan=np.inf)) < rules.threshold("on_ground_rel_alt_m")
    if not raw.landed:
        return phys
    t = np.array([x[0] for x in raw.landed])
    flying = step(t, np.array([0.0 if x[1] else 1.0 for x in raw.landed]), grid)
    use = (phys != 1.0) & np.isfinite(flying) & ~low
    out = phys.copy()
    out[use] = flying[use]
    return out


def _held(t: np.ndarray, v: np.ndarray, grid: np.ndarray, max_age_s: float = 5.0) -> np.ndarray:
    """Step-sample ``v`` but forget a sample older than ``max_age_s`` (a stream that stopped says nothing)."""
    out = step(t, v, grid)
    age = grid - step(t, t, grid)
    out[~(age <= max_age_s)] = np.nan
    return out


def segments(raw: RawLog, rules: Rules) -> list[Segment]:
    """Armed segments of one log, in time order, each with its airborne decision (uavsim.logs.airborne)."""
    if any(a for _, a, _ in raw.arm):
        segs = _armed_segments(raw)
    else:
        segs = _split_at_reboots(_inferred_segments(raw, rules), raw.boots)
    return [with_airborne(raw, s, rules) for s in segs]


def with_airborne(raw: RawLog, seg: Segment, rules: Rules) -> Segment:
    """The segment with its take-off, landing and airborne windows decided from physics."""
    d = airborne.decide(raw, seg.t0, seg.t1, seg.end, rules)
    return replace(seg, airborne=d.airborne, takeoff_t=d.takeoff_t, landing_t=d.landing_t, air_windows=d.windows,
                   airborne_evidence=d.evidence)


def _armed_segments(raw: RawLog) -> list[Segment]:
    segs: list[Segment] = []
    armed_at: tuple[float, str] | None = None
    first = raw.arm[0]
    if not first[1] and first[2].startswith(("EV", "ARM", "STAT")):
        # A logged disarm before any arm: the log began while armed.
        armed_at = (raw.t_start, "log began armed")
    # A reboot disarms: it ends the flight (with an unknown end), and the next arming starts a new one.
    changes = sorted([(t, 1, armed, ev) for t, armed, ev in raw.arm] + [(t, 0, None, "") for t in raw.boots],
                     key=lambda x: (x[0], x[1]))
    for t, _, armed, ev in changes:
        if armed is None:
            if armed_at is not None:
                segs.append(Segment(armed_at[0], t, "reboot", armed_at[1], "autopilot rebooted while armed"))
            armed_at = None
        elif armed and armed_at is None:
            armed_at = (t, ev)
        elif armed and ev.split(" ")[0] == armed_at[1].split(" ")[0] and t - armed_at[0] > REARM_MIN_S:
            # Armed again without a logged disarm: the disarm was lost; the new arming starts a new segment.
            segs.append(Segment(armed_at[0], t, "rearmed", armed_at[1], f"armed again ({ev}) without a logged disarm"))
            armed_at = (t, ev)
        elif not armed and armed_at is not None:
            segs.append(Segment(armed_at[0], t, "disarm", armed_at[1], ev))
            armed_at = None
    if armed_at is not None:
        segs.append(Segment(armed_at[0], max(raw.t_end, armed_at[0]), "log_end", armed_at[1],
                            "log ended while armed"))
    return segs


def _inferred_segments(raw: RawLog, rules: Rules) -> list[Segment]:
    times = [raw.stream(s)["t"] for s in ("gps", "alt")]
    grid = np.unique(np.concatenate(times)) if any(len(t) for t in times) else np.zeros(0)
    if grid.size == 0:
        return []
    air = in_air(raw, grid, rules) == 1.0
    if not air.any():
        return []
    idx = np.flatnonzero(air)
    runs: list[list[int]] = [[idx[0], idx[0]]]
    for i in idx[1:]:
        if grid[i] - grid[runs[-1][1]] <= MERGE_GAP_S:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    segs = []
    for a, b in runs:
        t0, t1 = max(raw.t_start, grid[a] - PAD_S), min(raw.t_end, grid[b] + PAD_S)
        end = "log_end" if b == grid.size - 1 or t1 >= raw.t_end else "inferred"
        segs.append(Segment(float(t0), float(t1), end, "in air (speed/height rule; arming not logged)",
                            "log ended in the air" if end == "log_end" else "on ground (speed/height rule)"))
    return segs


def _split_at_reboots(segs: list[Segment], boots: list[float]) -> list[Segment]:
    out = []
    for s in segs:
        cut = [b for b in boots if s.t0 < b < s.t1]
        if cut:
            out.append(Segment(s.t0, cut[0], "reboot", s.start_evidence, "autopilot rebooted while armed"))
        else:
            out.append(s)
    return out
