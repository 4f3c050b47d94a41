"""Behaviours found on ArduPilot's LogAnalyzer example tradheli_brownout.log (ArduCopter 3.0.1 heli), as
synthetic cases: a log that ends in the air (it ends climbing at 53 m) records no landing and its evidence
says so instead of naming a touch-down; a heli build is identified as a heli."""
from __future__ import annotations

import numpy as np

from uavsim.logs.raw import RawBuilder
from uavsim.logs.segment import segments
from uavsim.safety.rules import default_rules

RULES = default_rules()


def _climb_log(duration_s: float, baro) -> object:
    b = RawBuilder("synthetic", "dataflash-bin")
    b.log.vehicle = "copter"
    for t in np.arange(0.0, duration_s + 1e-9, 0.1):
        b.clock(float(t))
        b.add("baro", float(t), baro(t))
        b.add("throttle", float(t), 0.6 if 10.0 <= t <= 50.0 else 0.0)
    raw = b.finish()
    raw.arm = [(5.0, True, "EV Id=10 (ARMED)")]
    return raw


def test_evidence_of_a_log_ending_in_the_air_names_no_touch_down():
    raw = _climb_log(40.0, lambda t: max(0.0, 2.0 * (t - 10.0)))  # climbing at 2 m/s when the log ends
    seg = segments(raw, RULES)[0]
    assert seg.end == "log_end" and seg.airborne and seg.landing_t is None
    landing = seg.airborne_evidence["landing"]
    assert landing.startswith("not recorded: the log ends at t=40.0 with the aircraft in the air")
    assert "60.0 m over the ground level" in landing


def test_evidence_of_a_landed_flight_names_the_touch_down():
    raw = _climb_log(60.0, lambda t: float(np.interp(t, [0, 10, 20, 40, 50, 60], [0, 0, 10, 10, 0, 0])))
    seg = segments(raw, RULES)[0]
    assert seg.landing_t is not None and 49.0 <= seg.landing_t <= 52.0
    assert seg.airborne_evidence["landing"].startswith("touch-down at t=")


def test_a_heli_build_is_named_heli_not_by_its_meaningless_frame_parameter():
    # tradheli_brownout.log (ArduCopter 3.0.1 heli): FRAME 0 beside the H_ swashplate/collective group.
    from uavsim.logs.identity import frame_of

    assert frame_of({}, {"FRAME": 0.0, "H_SWASH_TYPE": 0.0, "H_COL_MIN": 1364.0}) == "heli"
    assert frame_of({}, {"FRAME": 0.0}) == "frame type plus"
    assert frame_of({}, {"FRAME_CLASS": 1.0, "FRAME_TYPE": 1.0, "H_COL_MIN": 1000.0}) == "quad/x"
