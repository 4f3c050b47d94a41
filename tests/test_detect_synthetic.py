"""The detectors' edges on small synthetic logs: a bench flip with a crash check, a tumble with and without an
impact, a log cut while falling, a hard landing, a STABILIZE stick step, a pinned motor, a flat battery
monitor, GPS trouble in a mode that does not use GPS, vibration from the raw accelerometer in loiter."""

from __future__ import annotations

import numpy as np
import pytest

from uavsim.logs import codes
from uavsim.logs.detect import note_events, sensor_events
from uavsim.logs.raw import Note, RawBuilder, RawLog
from uavsim.logs.segment import Segment
from uavsim.safety.rules import default_rules

RULES = default_rules()
G = 9.80665


def _log(duration: float, att=None, imu=None, baro=None, motors=None, bat=None, gps=None, modes=(("STABILIZE", 0.0),),
         params=None, rate: float = 50.0) -> RawLog:
    """Streams sampled at ``rate`` Hz from functions of t: att -> (roll, pitch, des_roll, des_pitch),
    imu -> (ax, ay, az), baro -> alt, motors -> 4 outputs 0..1, bat -> (volt, curr), gps -> (fix, sats)."""
    b = RawBuilder("synthetic", "dataflash-bin")
    for t in np.arange(0.0, duration + 1e-9, 1.0 / rate):
        b.clock(t)
        if att:
            b.add("att", t, *att(t))
        b.add("imu", t, *(imu(t) if imu else (0.0, 0.0, -G)))
        if baro:
            b.add("baro", t, baro(t))
        if motors:
            outs = motors(t)
            b.add("motors", t, *outs, *([None] * 4), *(1000 + 1000 * o for o in outs), *([None] * 4))
        if bat:
            b.add("bat", t, *bat(t), None, None)
        if gps:
            b.add("gps", t, 21.0, 103.0, 500.0, 0.0, *gps(t), 0.8, None)
    raw = b.finish()
    raw.modes = [(t, m) for m, t in modes]
    raw.params = dict(params or {})
    raw.identity = {"frame": "quad"}
    return raw


def _flight(t0: float, t1: float, up: float, down: float, end: str = "disarm") -> Segment:
    return Segment(t0, t1, end, "EV ARMED", "EV DISARMED", airborne=True, takeoff_t=up,
                   landing_t=None if end == "log_end" else down, air_windows=[(up, down)])


def _kinds(events) -> dict[str, tuple[str, str]]:
    return {e.kind: (e.level, e.severity) for e in events}


def _level(t: float):
    return (1.0, 0.5, 0.0, 0.0)


def _hover_motors(t: float):
    if t < 4.0:
        return [0.1] * 4  # armed idle before the take-off
    return [0.5 + 0.01 * np.sin(7 * t + i) for i in range(4)]  # a controller's outputs move every sample


def test_a_bench_flip_with_a_crash_check_is_an_observation():
    raw = _log(30.0, att=lambda t: (178.0 if t > 15 else 1.0, 0.0, 0.0, 0.0), motors=lambda t: [0.1] * 4)
    seg = Segment(2.0, 28.0, "disarm", "EV ARMED", "EV DISARMED")  # never airborne
    crash = Note(18.0, "CRASH", "fail", "ERR CRASH_CHECK", "ERR Subsys=12 ECode=1", key="ERR12")
    [e] = note_events(raw, seg, [crash], RULES)
    assert (e.kind, e.level, e.severity) == ("CRASH", "ground", "observation")
    assert "never left the ground" in e.detail
    assert not [x for x in sensor_events(raw, seg, RULES) if x.kind in ("CRASH", "LOSS_OF_CONTROL")]


def _tumble(t: float):
    if 30.0 <= t < 30.6:  # a 0.6 s roll through 150° past the lean limit
        return (150.0 * np.sin(np.pi * (t - 30.0) / 0.6), 0.0, 0.0, 0.0)
    return _level(t)


def test_a_tumble_that_ends_in_an_impact_is_a_crash_and_one_that_recovers_is_a_loss_of_control():
    def impact(t):
        return (0.0, 0.0, -G * (10.0 if 32.0 <= t < 32.04 else 1.0))
    seg = _flight(0.0, 40.0, 5.0, 32.0)
    crashed = _log(40.0, att=_tumble, imu=impact, motors=_hover_motors)
    ev = [e for e in sensor_events(crashed, seg, RULES) if e.kind in ("CRASH", "LOSS_OF_CONTROL")]
    assert [(e.kind, e.severity) for e in ev] == [("CRASH", "accident")]
    assert ev[0].t_s == pytest.approx(30.0, abs=0.1) and "impact 10.0 g" in ev[0].detail
    recovered = _log(40.0, att=_tumble, motors=_hover_motors)
    ev = [e for e in sensor_events(recovered, seg, RULES) if e.kind in ("CRASH", "LOSS_OF_CONTROL")]
    assert [(e.kind, e.severity) for e in ev] == [("LOSS_OF_CONTROL", "incident")]


def test_a_short_flick_past_the_limit_is_not_a_loss_of_control():
    def flick(t):  # 0.1 s at 70° (15° past the 55° limit): 1.5 deg·s, far below the 10 deg·s of the rule
        return (70.0 if 30.0 <= t < 30.1 else 1.0, 0.0, 0.0, 0.0)
    raw = _log(40.0, att=flick, motors=_hover_motors)
    assert not {"CRASH", "LOSS_OF_CONTROL"} & set(_kinds(sensor_events(raw, _flight(0.0, 40.0, 5.0, 35.0), RULES)))


def test_a_loss_of_control_with_motors_at_idle_on_the_ground_is_not_a_crash():
    raw = _log(40.0, att=_tumble, imu=lambda t: (0.0, 0.0, -G * (8.0 if 30.3 <= t < 30.34 else 1.0)),
               motors=lambda t: [0.1] * 4)
    seg = Segment(0.0, 40.0, "disarm", "", "")  # carried and dropped on the bench: never airborne
    assert not {"CRASH", "LOSS_OF_CONTROL"} & set(_kinds(sensor_events(raw, seg, RULES)))


def test_a_log_cut_while_falling_after_a_loss_of_control_is_a_crash():
    def baro(t):
        return float(np.interp(t, [0, 5, 10, 30, 34], [0, 0, 40, 40, 20]))  # 5 m/s down when the log stops
    def att(t):
        return (100.0, 20.0, 0.0, 0.0) if t >= 30.0 else _level(t)
    raw = _log(34.0, att=att, baro=baro, motors=_hover_motors)
    [e] = [x for x in sensor_events(raw, _flight(0.0, 34.0, 5.0, 34.0, end="log_end"), RULES) if x.kind == "CRASH"]
    assert e.severity == "accident" and "log ends" in e.detail and "fell" in e.detail


def test_a_hard_landing_upright_is_an_incident_and_a_normal_touchdown_is_nothing():
    seg = _flight(0.0, 40.0, 5.0, 30.0)
    for peak_g, expected in ((7.0, ("fail", "incident")), (4.0, None)):
        raw = _log(40.0, att=_level, imu=lambda t, g=peak_g: (0.0, 0.0, -G * (g if 30.0 <= t < 30.04 else 1.0)),
                   motors=_hover_motors)
        got = _kinds(sensor_events(raw, seg, RULES)).get("HARD_LANDING")
        assert got == expected, peak_g


def test_an_impact_at_touchdown_that_ends_on_its_side_is_a_crash():
    def att(t):
        return (70.0, 10.0, 0.0, 0.0) if t >= 30.1 else _level(t)
    raw = _log(40.0, att=att, imu=lambda t: (0.0, 0.0, -G * (6.0 if 30.0 <= t < 30.04 else 1.0)), motors=_hover_motors)
    kinds = _kinds(sensor_events(raw, _flight(0.0, 40.0, 5.0, 30.0), RULES))
    assert kinds["CRASH"] == ("fail", "accident")


def test_one_motor_pinned_full_while_another_sits_at_its_floor_is_lost_control_authority():
    def outs(t):
        if 20.0 <= t < 21.5:
            return [0.97, 0.5 + 0.05 * np.sin(9 * t), 0.15, 0.5 + 0.05 * np.cos(9 * t)]
        return _hover_motors(t)
    raw = _log(40.0, att=_level, motors=outs)
    ev = {e.kind: e for e in sensor_events(raw, _flight(0.0, 40.0, 5.0, 35.0), RULES)}
    sat = ev["MOTOR_SATURATION"]
    assert (sat.level, sat.severity) == ("fail", "incident") and sat.t_s == pytest.approx(20.0, abs=0.05)
    assert "motor 1 pinned" in sat.detail and "motor 3" in sat.detail
    assert ev["LOSS_OF_CONTROL"].severity == "incident"  # no impact, fall or tip-over: recovered


def test_all_motors_pinned_high_is_a_saturation_observation():
    raw = _log(40.0, att=_level, motors=lambda t: [0.95] * 4 if 20.0 <= t < 22.0 else _hover_motors(t))
    assert _kinds(sensor_events(raw, _flight(0.0, 40.0, 5.0, 35.0), RULES))["MOTOR_SATURATION"] == ("warn", "observation")


def _step_target(t: float, actual_lag_s: float | None):
    """A 20° roll stick step at t=20 s; the aircraft follows with a first-order lag (None: it does not follow)."""
    des = 20.0 if t >= 20.0 else 0.0
    if actual_lag_s is None:
        act = 0.0
    else:
        act = 20.0 * (1.0 - np.exp(-(t - 20.0) / actual_lag_s)) if t >= 20.0 else 0.0
    return (act, 0.0, des, 0.0)


def test_a_stabilize_stick_step_followed_with_the_controller_lag_is_no_attitude_error():
    seg = _flight(0.0, 40.0, 5.0, 35.0)
    follows = _log(40.0, att=lambda t: _step_target(t, 0.25), motors=_hover_motors)
    assert "ATTITUDE_ERROR" not in _kinds(sensor_events(follows, seg, RULES))
    # The same record in an autopilot mode: desired against actual, and the lag is an error (observation).
    auto = _log(40.0, att=lambda t: _step_target(t, 0.25), motors=_hover_motors, modes=(("LOITER", 0.0),))
    assert _kinds(sensor_events(auto, seg, RULES))["ATTITUDE_ERROR"] == ("warn", "observation")  # > 5° for 0.35 s
    # In STABILIZE an aircraft that does not follow the stick at all is reported, still as an observation.
    stuck = _log(40.0, att=lambda t: _step_target(t, None), motors=_hover_motors)
    assert _kinds(sensor_events(stuck, seg, RULES))["ATTITUDE_ERROR"] == ("fail", "observation")


def test_attitude_error_is_not_reported_in_acro_or_inside_a_crash():
    seg = _flight(0.0, 40.0, 5.0, 35.0)
    acro = _log(40.0, att=lambda t: _step_target(t, None), motors=_hover_motors, modes=(("ACRO", 0.0),))
    assert "ATTITUDE_ERROR" not in _kinds(sensor_events(acro, seg, RULES))
    tumble = _log(40.0, att=_tumble, motors=_hover_motors, modes=(("LOITER", 0.0),))
    assert "ATTITUDE_ERROR" not in _kinds(sensor_events(tumble, seg, RULES))


def test_a_flat_battery_voltage_with_zero_current_is_telemetry_invalid_and_its_failsafe_an_observation():
    seg = _flight(0.0, 40.0, 5.0, 35.0)
    flat = _log(40.0, att=_level, motors=_hover_motors, bat=lambda t: (6.0 + 0.01 * np.sin(t), 0.0), rate=10.0)
    low = Note(20.0, "FAILSAFE_BATTERY", "fail", "ERR FAILSAFE_BATT", "ERR Subsys=6 ECode=1", key="ERR6")
    assert _kinds(note_events(flat, seg, [low], RULES))["FAILSAFE_BATTERY"] == ("monitor_invalid", "observation")
    assert _kinds(sensor_events(flat, seg, RULES))["BATTERY_TELEMETRY_INVALID"] == ("fail", "observation")
    real = _log(40.0, att=_level, motors=_hover_motors, bat=lambda t: (12.6 - 0.02 * t, 15.0), rate=10.0)
    assert _kinds(note_events(real, seg, [low], RULES))["FAILSAFE_BATTERY"] == ("fail", "incident")
    assert "BATTERY_TELEMETRY_INVALID" not in _kinds(sensor_events(real, seg, RULES))


def test_gps_trouble_counts_only_in_a_mode_that_navigates_on_gps():
    seg = _flight(0.0, 60.0, 5.0, 55.0)

    def gps(t):
        return (1.0, 3.0) if 20.0 <= t < 40.0 else (3.0, 10.0)  # fix lost for 20 s
    for mode, expected in (("LOITER", "incident"), ("STABILIZE", "none"), ("SOMETHING_NEW", "incident")):
        raw = _log(60.0, att=_level, motors=_hover_motors, gps=gps, modes=((mode, 0.0),), rate=5.0)
        sev = {e.severity for e in sensor_events(raw, seg, RULES) if e.kind == "GPS_DEGRADED"}
        assert sev == {expected}, mode


def test_ekf_events_count_only_when_the_ekf_flies_the_aircraft():
    seg = _flight(0.0, 60.0, 5.0, 55.0)
    note = Note(20.0, "EKF_VARIANCE", "fail", "ERR EKFCHECK", "ERR Subsys=16 ECode=2", key="ERR16")
    for params, expected in (({"AHRS_EKF_USE": 0.0}, "none"), ({"AHRS_EKF_TYPE": 2.0, "EK2_ENABLE": 1.0}, "incident"),
                             ({}, "incident")):
        raw = _log(60.0, att=_level, params=params, rate=5.0)
        assert note_events(raw, seg, [note], RULES)[0].severity == expected, params


def test_vibration_from_the_accelerometer_in_loiter_when_vibe_is_absent():
    rng = np.random.default_rng(7)
    seg = _flight(0.0, 40.0, 2.0, 38.0)
    for sigma_x, expected in ((2.0, ("fail", "incident")), (0.9, ("warn", "observation")), (0.3, None)):
        noise = rng.normal(0.0, 1.0, (40 * 50 + 1, 3))
        counter = iter(range(noise.shape[0]))

        def imu(t, s=sigma_x, noise=noise, counter=counter):
            i = next(counter)
            return (s * noise[i, 0], 0.3 * noise[i, 1], -G + 0.3 * noise[i, 2])
        raw = _log(40.0, att=_level, imu=imu, modes=(("STABILIZE", 0.0), ("LOITER", 10.0)))
        assert _kinds(sensor_events(raw, seg, RULES)).get("VIBRATION") == expected, sigma_x
    raw = _log(40.0, att=_level, imu=lambda t: (3.0 * np.sin(200 * t), 0.0, -G))  # shaking, never in LOITER
    assert "VIBRATION" not in _kinds(sensor_events(raw, seg, RULES))


@pytest.mark.parametrize(("text", "kind"), [
    ("[ekf2] filter fault", "FAILSAFE_EKF"), ("Estimator failure: stopping navigation", "FAILSAFE_EKF"),
    ("Navigation failure! Land and recalibrate sensors", "FAILSAFE_EKF"),
    ("Critical failure detected: lockdown", "LOSS_OF_CONTROL"), ("Attitude failure (roll)", "LOSS_OF_CONTROL"),
    ("Imbalanced propeller detected, landing advised", "MOTOR_IMBALANCE"), ("Preflight Fail: ekf2 missing data", None),
])
def test_px4_critical_messages(text, kind):
    got = codes.critical_text_mapping(text)
    assert (got[0] if got else None) == kind


def test_an_unnamed_px4_critical_message_is_a_system_error_to_look_at():
    assert codes.critical_text_mapping("Compass sensor 0 missing") == ("SYSTEM_ERROR", "warn")
    assert codes.text_mapping("Compass sensor 0 missing") is None  # at WARNING level it proves nothing


def test_an_autopilot_crash_report_stands_when_the_log_cannot_tell_whether_the_aircraft_flew():
    raw = _log(30.0, att=lambda t: (178.0 if t > 15 else 1.0, 0.0, 0.0, 0.0))
    seg = Segment(2.0, 28.0, "log_end", "EV ARMED", "log ended while armed",
                  airborne_evidence={"decided_by": "undecided: no height, thrust or speed logged"})
    crash = Note(18.0, "CRASH", "fail", "ERR CRASH_CHECK", "ERR Subsys=12 ECode=1", key="ERR12")
    [e] = note_events(raw, seg, [crash], RULES)
    assert (e.level, e.severity) == ("fail", "accident")  # an unknown never makes it milder


def test_gps_trouble_that_lasts_into_a_gps_mode_counts_in_full():
    seg = _flight(0.0, 60.0, 5.0, 55.0)
    raw = _log(60.0, att=_level, motors=_hover_motors, gps=lambda t: (1.0, 3.0) if 20.0 <= t < 40.0 else (3.0, 10.0),
               modes=(("STABILIZE", 0.0), ("LOITER", 25.0)), rate=5.0)
    worst = [e for e in sensor_events(raw, seg, RULES) if e.kind == "GPS_DEGRADED"]
    assert worst and {e.severity for e in worst} == {"incident"}  # fix lost while LOITER navigated on it
    assert worst[0].t_s == pytest.approx(25.0, abs=0.3)


def test_rolls_and_loops_of_an_aeroplane_or_in_acro_are_no_loss_of_control():
    seg = _flight(0.0, 40.0, 5.0, 35.0)
    for vehicle, mode in (("plane", "MANUAL"), ("copter", "ACRO")):
        raw = _log(40.0, att=_tumble, imu=lambda t: (0.0, 0.0, -G * (5.5 if 30.2 <= t < 30.3 else 1.0)),
                   motors=_hover_motors, modes=((mode, 0.0),))
        raw.vehicle = vehicle
        assert not {"CRASH", "LOSS_OF_CONTROL"} & set(_kinds(sensor_events(raw, seg, RULES))), vehicle


def test_a_px4_attitude_failure_before_take_off_is_an_observation():
    raw = _log(30.0, att=_level)
    fd = Note(10.0, "LOSS_OF_CONTROL", "fail", "PX4 failure detector FAILURE_ROLL",
              "vehicle_status.failure_detector_status=0x1", key="FAILURE_ROLL")
    assert _kinds(note_events(raw, _flight(0.0, 30.0, 15.0, 25.0), [fd], RULES))["LOSS_OF_CONTROL"] == (
        "ground", "observation")
    assert _kinds(note_events(raw, _flight(0.0, 30.0, 5.0, 25.0), [fd], RULES))["LOSS_OF_CONTROL"] == (
        "fail", "incident")


def test_land_without_gps_is_flown_on_the_stick_and_judged_as_a_manual_mode():
    seg = _flight(0.0, 40.0, 5.0, 35.0)
    for fix, expected in ((1.0, None), (3.0, ("warn", "observation"))):
        raw = _log(40.0, att=lambda t: _step_target(t, 0.25), motors=_hover_motors, gps=lambda t, f=fix: (f, 10.0),
                   modes=(("LAND", 0.0),))
        assert _kinds(sensor_events(raw, seg, RULES)).get("ATTITUDE_ERROR") == expected, fix


def test_an_autopilot_crash_report_after_flying_is_graded_by_the_attitude_at_rest_and_the_time_since_landing():
    seg = _flight(0.0, 100.0, 5.0, 30.0)
    crash = Note(33.0, "CRASH", "fail", "ERR CRASH_CHECK", "ERR Subsys=12 ECode=1", key="ERR12")
    on_side = _log(100.0, att=lambda t: (85.0, 5.0, 0.0, 0.0) if t > 30.5 else _level(t), motors=_hover_motors,
                   rate=10.0)
    assert _kinds(note_events(on_side, seg, [crash], RULES))["CRASH"] == ("fail", "accident")
    upright = _log(100.0, att=_level, motors=_hover_motors, rate=10.0)
    assert _kinds(note_events(upright, seg, [crash], RULES))["CRASH"] == ("unconfirmed", "incident")
    late = Note(90.0, "CRASH", "fail", "ERR CRASH_CHECK", "ERR Subsys=12 ECode=1", key="ERR12")
    assert _kinds(note_events(on_side, seg, [late], RULES))["CRASH"] == ("ground", "observation")


def test_a_fast_descent_long_after_a_recovered_loss_of_control_is_not_a_crash():
    def baro(t):  # the pilot drops 20 m at 5 m/s, 15 s after the tumble was recovered
        return float(np.interp(t, [0, 5, 10, 45, 49, 60], [0, 0, 30, 30, 10, 10]))
    raw = _log(70.0, att=_tumble, baro=baro, motors=_hover_motors)
    kinds = _kinds(sensor_events(raw, _flight(0.0, 70.0, 5.0, 65.0), RULES))
    assert "CRASH" not in kinds and kinds["LOSS_OF_CONTROL"] == ("fail", "incident")
