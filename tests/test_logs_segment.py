"""Segmentation, the in-air rule, the boot clock and the detectors on synthetic logs (property tests)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uavsim.logs import codes
from uavsim.logs.detect import _runs, note_events, sensor_events
from uavsim.logs.raw import Note, RawBuilder, RawLog
from uavsim.logs.segment import Segment, airborne_mask, in_air, segments
from uavsim.safety.rules import default_rules

RULES = default_rules()


def _raw(duration: float = 100.0, alt=None, speed=None, arm=(), landed=()) -> RawLog:
    b = RawBuilder("synthetic", "dataflash-bin")
    for t in np.arange(0.0, duration + 1e-9, 0.5):
        b.clock(t)
        if alt is not None:
            b.add("alt", t, alt(t))
        if speed is not None:
            b.add("gps", t, 21.5, 103.2, 600.0, speed(t), 3, 10, 0.8, None)
    raw = b.finish()
    raw.arm = list(arm)
    raw.landed = list(landed)
    return raw


def _naive_runs(mask, t, min_s):
    best = None
    for i in range(len(mask)):
        if mask[i] and (i == 0 or not mask[i - 1]):
            j = i
            while j + 1 < len(mask) and mask[j + 1]:
                j += 1
            if t[j] - t[i] >= min_s and (best is None or t[j] - t[i] > best[1]):
                best = (i, t[j] - t[i])
    return best


@given(st.lists(st.booleans(), max_size=60), st.floats(0, 5))
def test_runs_matches_the_obvious_loop(mask, min_s):
    t = np.arange(len(mask)) * 0.5
    assert _runs(np.array(mask, bool), t, min_s) == _naive_runs(mask, t, min_s)


@given(st.lists(st.floats(0, 1000, allow_nan=False), min_size=1, max_size=50))
def test_clock_never_runs_back_more_than_the_reboot_tolerance(raw_times):
    b = RawBuilder("x", "tlog")
    out = [b.clock(t) for t in raw_times]
    assert all(later >= earlier - 1.0 for earlier, later in zip(out, out[1:], strict=False))
    n_reboots = sum(1 for a, c in zip(raw_times, raw_times[1:], strict=False) if c < a - 1.0)
    assert len(b.log.boots) == n_reboots


@given(st.lists(st.tuples(st.floats(0, 100), st.booleans()), max_size=12))
def test_segments_are_ordered_disjoint_and_inside_the_log(arms):
    arm = sorted((t, a, "EV") for t, a in arms)
    raw = _raw(100.0, alt=lambda t: 0.0, arm=arm)
    segs = segments(raw, RULES)
    for s in segs:
        assert raw.t_start <= s.t0 <= s.t1 <= raw.t_end
    for a, b in zip(segs, segs[1:], strict=False):
        assert a.t1 <= b.t0
    if any(a for _, a, _ in arm):
        assert len(segs) <= sum(1 for _, a, _ in arm if a) + 1


@settings(max_examples=40)
@given(st.floats(-5, 50), st.floats(0, 30))
def test_in_air_is_monotone_in_height_and_speed(h, v):
    lo = in_air(_raw(10, alt=lambda t: h, speed=lambda t: v), np.array([5.0]), RULES)[0]
    hi = in_air(_raw(10, alt=lambda t: h + 10, speed=lambda t: v + 5), np.array([5.0]), RULES)[0]
    assert hi >= lo


def test_unarmed_log_is_split_by_the_in_air_rule():
    # A plane that never logs arming: airborne from 20 to 40 s and from 120 to 150 s.
    def speed(t):
        return 15.0 if 20 <= t <= 40 or 120 <= t <= 150 else 0.0

    segs = segments(_raw(200.0, speed=speed), RULES)
    assert [(round(s.t0), round(s.t1)) for s in segs] == [(15, 45), (115, 155)]
    assert {s.end for s in segs} == {"inferred"}


def test_log_ending_armed_high_is_truncated_and_landed_is_not():
    arm = [(10.0, True, "EV Id=10 (ARMED)")]
    high = _raw(60.0, alt=lambda t: max(0.0, t - 10), arm=arm)
    seg = segments(high, RULES)[0]
    assert seg.end == "log_end"
    kinds = {e.kind: e for e in sensor_events(high, seg, RULES)}
    assert kinds["LOG_TRUNCATED_IN_AIR"].severity == "serious_incident"
    assert kinds["LOG_TRUNCATED_IN_AIR"].value == pytest.approx(50.0, abs=1.0)  # 1 s median of the height
    low = _raw(60.0, alt=lambda t: 0.2, arm=arm)
    assert "LOG_TRUNCATED_IN_AIR" not in {e.kind for e in sensor_events(low, segments(low, RULES)[0], RULES)}


def test_log_ending_armed_with_no_height_or_speed_is_an_unknown_never_safe():
    raw = _raw(30.0, arm=[(5.0, True, "EV Id=10 (ARMED)")])
    seg = segments(raw, RULES)[0]
    assert not seg.airborne and seg.airborne_evidence["decided_by"].startswith("undecided")
    ev = [e for e in sensor_events(raw, seg, RULES) if e.kind in ("LOG_TRUNCATED_IN_AIR", "END_NOT_RECORDED")]
    assert [(e.kind, e.severity) for e in ev] == [("END_NOT_RECORDED", "observation")]
    assert "no height" in ev[0].detail


def test_repeated_and_resolved_err_codes_merge_into_one_event_with_all_evidence():
    raw = _raw(60.0, alt=lambda t: 10.0)
    seg = Segment(0.0, 60.0, "disarm", "", "")
    notes = []
    for t, code in ((10.0, 1), (12.0, 0), (20.0, 1), (22.0, 0)):
        kind, level, name, clears = codes.err_mapping(5, code)
        notes.append(Note(t, kind, level, f"ERR {name}", f"ERR Subsys=5 ECode={code} ({name})", key="ERR5", clears=clears))
    events = note_events(raw, seg, notes, RULES)
    assert len(events) == 1
    e = events[0]
    assert (e.kind, e.severity, e.t_s) == ("FAILSAFE_RADIO", "incident", 10.0)
    assert "2 times" in e.detail and e.evidence.count("ECode=0") == 2


def test_motor_stop_in_the_air_is_an_accident_and_on_the_ground_is_not():
    raw = _raw(60.0, alt=lambda t: 20.0 if t < 30 else 0.0)
    seg = Segment(0.0, 60.0, "disarm", "", "", airborne=True, takeoff_t=0.0, landing_t=30.0, air_windows=[(0.0, 30.0)])
    def stop(t):
        return Note(t, "MOTOR_FAILURE", "fail", "EV MOTORS_EMERGENCY_STOPPED",
                    "EV Id=54 (MOTORS_EMERGENCY_STOPPED)", key="EV54")
    assert note_events(raw, seg, [stop(10.0)], RULES)[0].severity == "accident"
    assert note_events(raw, seg, [stop(40.0)], RULES)[0].severity == "none"  # the pilot's stop switch


@pytest.mark.parametrize(("text", "kind"), [
    ("Crash: Disarming", "CRASH"), ("Low Battery!", "FAILSAFE_BATTERY"), ("Radio Failsafe", "FAILSAFE_RADIO"),
    ("GPS Glitch", "GPS_DEGRADED"), ("EKF variance", "FAILSAFE_EKF"), ("PreArm: Need 3D Fix", None),
    ("Initialising APM...", None), ("GCS Failsafe Cleared", None),
])
def test_autopilot_texts(text, kind):
    got = codes.text_mapping(text)
    assert (got[0] if got else None) == kind


def test_err_table_covers_every_logged_subsystem_with_a_known_kind():
    from uavsim.records import EVENT_KINDS

    for sub in range(1, 32):
        kind, level, name, _ = codes.err_mapping(sub, 1)
        assert kind in EVENT_KINDS and level in RULES.severity[kind] and "SUBSYS_" not in name
    assert codes.err_mapping(12, 1)[:3] == ("CRASH", "fail", "CRASH_CHECK/CRASH_CHECK_CRASH")
    assert codes.err_mapping(10, 0)[3] is False  # FLIGHT_MODE's code is a mode number, never "resolved"


_note = st.builds(
    lambda t, sub, code: (t, *codes.err_mapping(sub, code), sub, code),
    st.floats(0, 60), st.integers(1, 31), st.integers(0, 3))


@settings(max_examples=60, deadline=None)
@given(st.lists(_note, max_size=8), _note)
def test_an_added_autopilot_message_never_makes_a_flight_look_safer(notes, extra):
    from uavsim.records import SEVERITY_RANK
    from uavsim.safety.classify import classify

    raw = _raw(60.0, alt=lambda t: 10.0)
    seg = Segment(0.0, 60.0, "disarm", "", "")

    def as_notes(items):
        return sorted((Note(t, kind, level, name, f"ERR Subsys={sub} ECode={code} ({name})", key=f"ERR{sub}",
                            clears=clears) for t, kind, level, name, clears, sub, code in items), key=lambda n: n.t)

    before = classify(note_events(raw, seg, as_notes(notes), RULES)).severity
    after = classify(note_events(raw, seg, as_notes([*notes, extra]), RULES)).severity
    assert SEVERITY_RANK[after] >= SEVERITY_RANK[before]  # a "resolved" code annotates, never clears


def test_mode_changes_made_by_a_failsafe_are_evidence():
    from uavsim.logs.dataflash import _mode_rows

    b = RawBuilder("x", "dataflash-bin")
    b.log.vehicle = "copter"
    table = {"_ofs": np.arange(3), "Mode": np.array([5.0, 6.0, 9.0]), "ModeNum": np.array([5.0, 6.0, 9.0]),
             "Rsn": np.array([1.0, 4.0, 19.0])}  # RC_COMMAND, BATTERY_FAILSAFE, CRASH_FAILSAFE
    _mode_rows(b, table, np.array([1.0, 2.0, 3.0]), None)
    assert [m for _, m in b.log.modes] == ["LOITER", "RTL", "LAND"]
    assert [(n.kind, n.evidence) for n in b.log.notes] == [
        ("FAILSAFE_BATTERY", "MODE Mode=RTL Rsn=4 (BATTERY_FAILSAFE)"), ("CRASH", "MODE Mode=LAND Rsn=19 (CRASH_FAILSAFE)")]


# -- airborne from physics (issue 11): synthetic DataFlash-like logs with baro, throttle, motors and IMU --------
def _phys(duration: float, baro, thr, shake, split=lambda t: 0.02, arm_t: float = 5.0, landed=(), seed: int = 0,
          disarm_t: float | None = None) -> RawLog:
    """10 Hz baro/throttle/motors and 50 Hz IMU. ``shake(t)``: IMU noise (m/s², per axis); ``split(t)``:
    spread of motors 1-4 as a fraction of the output range; ``baro(t)`` metres over the pre-arming level."""
    rng = np.random.default_rng(seed)
    b = RawBuilder("synthetic", "dataflash-bin")
    b.log.vehicle = "copter"
    for t in np.arange(0.0, duration + 1e-9, 0.02):
        b.clock(t)
        b.add("imu", t, *(rng.normal(0.0, shake(t), 3) + np.array([0.0, 0.0, -9.81])))
        if round(t / 0.02) % 5 == 0:
            b.add("baro", t, baro(t) + rng.normal(0.0, 0.1))
            b.add("throttle", t, thr(t))
            base = 0.05 + 0.9 * thr(t)
            outs = [base + split(t) / 2, base - split(t) / 2, base, base]
            b.add("motors", t, *outs, *([None] * 4), *(1000 + 1000 * o for o in outs), *([None] * 4))
    raw = b.finish()
    raw.arm = [(arm_t, True, "EV Id=10 (ARMED)")] + ([(disarm_t, False, "EV Id=11 (DISARMED)")] if disarm_t else [])
    raw.landed = list(landed)
    return raw


def _step(t0: float, t1: float, inside: float, outside: float = 0.0):
    return lambda t: inside if t0 <= t <= t1 else outside


def test_a_normal_flight_has_its_take_off_and_landing_within_2_s():
    def baro(t):
        return float(np.interp(t, [0, 20, 30, 70, 80, 100], [0, 0, 10, 10, 0, 0]))
    raw = _phys(100.0, baro, _step(18, 81, 0.45), _step(15, 85, 0.6, 0.01), disarm_t=95.0)
    seg = segments(raw, RULES)[0]
    assert seg.airborne and seg.end == "disarm"
    assert seg.takeoff_t == pytest.approx(20.0, abs=2.0) and seg.landing_t == pytest.approx(80.0, abs=2.0)
    assert len(seg.air_windows) == 1 and "climb" in seg.airborne_evidence["decided_by"]
    mask = airborne_mask(raw, seg, np.array([10.0, 50.0, 90.0]))
    assert mask.tolist() == [False, True, False]


def test_a_bench_board_is_a_ground_run_whatever_the_land_detector_and_a_drifting_baro_say():
    # Motors commanded to 60 % with a strong split, IMU still (no props), baro drifting 1.3 m, NOT_LANDED.
    raw = _phys(60.0, lambda t: 1.3 * t / 60.0, _step(10, 50, 0.6), lambda t: 0.01, split=lambda t: 0.45,
                landed=[(12.0, False, "EV Id=28 (NOT_LANDED)")], disarm_t=55.0)
    seg = segments(raw, RULES)[0]
    assert not seg.airborne and seg.takeoff_t is None and seg.air_windows == []
    assert seg.airborne_evidence["decided_by"].startswith("ground run")
    assert "NOT_LANDED" in seg.airborne_evidence["support"]


def test_a_bench_flip_with_a_crash_check_is_a_ground_run_in_the_import():
    from uavsim.logs.ingest import analyse

    b = RawBuilder("bench", "dataflash-bin")
    for t in np.arange(0.0, 40.0, 0.1):
        b.clock(t)
        b.add("baro", t, 0.02 * t)  # drift only
        b.add("throttle", t, 0.0)
        b.add("imu", t, 0.0, 0.0, -9.81)
        b.add("att", t, 175.0 if t > 20 else 1.0, 0.0, 0.0, 0.0)  # turned upside-down by hand
    raw = b.finish()
    raw.arm = [(5.0, True, "EV Id=10 (ARMED)"), (35.0, False, "EV Id=11 (DISARMED)")]
    raw.notes = [Note(22.0, "CRASH", "fail", "ERR CRASH_CHECK", "ERR Subsys=12 ECode=1", key="ERR12")]
    records, summary = analyse(raw, "0" * 64, rules=RULES)
    assert [r.kind for r in records] == ["ground_run"]
    assert summary["ground_runs"] == 1 and records[0].takeoff_s is None
    assert records[0].log_t0_s == pytest.approx(5.0) and records[0].log_t1_s == pytest.approx(35.0)
    assert records[0].log_clock == "boot"


def test_a_hover_near_1_m_in_ground_effect_is_a_flight():
    # Baro shows only ~0.7 m (ground effect, prop wash), but hover thrust, loaded props and balanced motors
    # hold for 40 s: the aircraft's weight is on its rotors.
    raw = _phys(80.0, lambda t: 0.7 if 20 <= t <= 60 else 0.0, _step(20, 60, 0.36), _step(18, 62, 0.7, 0.01),
                disarm_t=75.0)
    seg = segments(raw, RULES)[0]
    assert seg.airborne and "hover" in seg.airborne_evidence["decided_by"]
    assert seg.takeoff_t == pytest.approx(20.0, abs=2.0) and seg.landing_t == pytest.approx(60.0, abs=2.0)


def test_a_ground_run_up_with_split_motors_is_not_a_flight():
    # Props loaded (IMU shakes), thrust near hover, but the motors split (the ground holds it): no lift-off.
    raw = _phys(60.0, lambda t: 0.4 if 20 <= t <= 40 else 0.0, _step(20, 40, 0.4), _step(20, 40, 0.7, 0.01),
                split=_step(20, 40, 0.35, 0.02), disarm_t=55.0)
    assert not segments(raw, RULES)[0].airborne


def test_a_log_cut_while_falling_is_truncated_in_the_air():
    def baro(t):
        return float(np.interp(t, [0, 20, 30, 50, 52.4], [0, 0, 20, 20, 8]))  # falling at 5 m/s when cut
    raw = _phys(52.4, baro, lambda t: 0.45 if 18 <= t <= 50 else 0.0, _step(15, 53, 0.6, 0.01))
    seg = segments(raw, RULES)[0]
    assert seg.end == "log_end" and seg.airborne and seg.landing_t is None
    ev = [e for e in sensor_events(raw, seg, RULES) if e.kind in ("LOG_TRUNCATED_IN_AIR", "END_NOT_RECORDED")]
    assert [(e.kind, e.severity) for e in ev] == [("LOG_TRUNCATED_IN_AIR", "serious_incident")]
    assert ev[0].value == pytest.approx(8.0, abs=1.5)


def test_a_log_cut_after_landing_or_low_with_motors_idle_is_not_truncated_in_the_air():
    def baro(t):
        return float(np.interp(t, [0, 20, 30, 50, 60], [0, 0, 10, 10, 0]))
    landed = _phys(70.0, baro, _step(18, 60, 0.45), _step(15, 62, 0.6, 0.01))
    seg = segments(landed, RULES)[0]
    assert seg.airborne and seg.landing_t == pytest.approx(60.0, abs=2.0)
    assert not [e for e in sensor_events(landed, seg, RULES) if e.kind in ("LOG_TRUNCATED_IN_AIR", "END_NOT_RECORDED")]

    def low(t):  # cut at 1.5 m with the motors at idle: neither above 3 m nor making lift
        return float(np.interp(t, [0, 20, 30, 50, 55], [0, 0, 10, 10, 1.5]))
    raw = _phys(55.0, low, lambda t: 0.45 if 18 <= t <= 50 else 0.0, _step(15, 56, 0.6, 0.01))
    seg = segments(raw, RULES)[0]
    kinds = [(e.kind, e.severity) for e in sensor_events(raw, seg, RULES)
             if e.kind in ("LOG_TRUNCATED_IN_AIR", "END_NOT_RECORDED")]
    assert kinds == [("END_NOT_RECORDED", "observation")]


def test_a_rearming_without_a_logged_disarm_starts_a_new_segment():
    raw = _raw(60.0, alt=lambda t: 0.0, arm=[(5.0, True, "EV Id=10 (ARMED)"), (30.0, True, "EV Id=10 (ARMED)")])
    segs = segments(raw, RULES)
    assert [(s.t0, s.end) for s in segs] == [(5.0, "rearmed"), (30.0, "log_end")]


@settings(max_examples=25, deadline=None)
@given(st.floats(0.0, 30.0), st.floats(0.0, 0.9), st.floats(0.0, 1.5), st.floats(0.0, 0.5), st.integers(0, 3))
def test_airborne_windows_are_ordered_inside_the_segment_and_match_take_off_and_landing(top, thr, shake, split,
                                                                                         seed):
    def baro(t):
        return float(np.interp(t, [0, 15, 25, 35, 45, 60], [0, 0, top, top, 0, 0]))
    raw = _phys(60.0, baro, _step(12, 48, thr), _step(10, 50, shake, 0.01), split=_step(12, 48, split, 0.02),
                seed=seed, disarm_t=58.0)
    seg = segments(raw, RULES)[0]
    w = seg.air_windows
    assert all(seg.t0 <= a <= b <= seg.t1 for a, b in w)
    assert all(b1 < a2 for (_, b1), (a2, _) in zip(w, w[1:], strict=False))
    assert seg.airborne == bool(w)
    if w:
        assert (seg.takeoff_t, seg.landing_t) == (w[0][0], w[-1][1])
    else:
        assert seg.takeoff_t is None and seg.landing_t is None
    if shake <= 0.02:  # a still IMU: no props, never a flight, however the throttle and baro move
        assert not seg.airborne
