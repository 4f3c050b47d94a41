"""Mission files: QGC .plan and WPL 110 read/write, round trips, frames, malformed files, the check."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uavsim.errors import MissionFileError
from uavsim.planning import check_mission, plan_field, plan_route
from uavsim.planning.missionfile import export_plan, read_mission

HOME = (21.5197, 103.2174)


@pytest.fixture(scope="module")
def route(sc, terrain):
    return plan_route(sc, "ttyt-muong-ang", "tyt-muong-dang", terrain=terrain)


def _same(a, b, energy=True):
    assert a.feasible == b.feasible and a.zones == b.zones and len(a.reasons) == len(b.reasons)
    assert a.distance_m == pytest.approx(b.distance_m, rel=1e-7)
    assert a.min_terrain_clearance_m == pytest.approx(b.min_terrain_clearance_m, abs=1e-3)
    assert a.max_agl_m == pytest.approx(b.max_agl_m, abs=1e-3)
    if energy:
        assert a.energy_wh == pytest.approx(b.energy_wh, rel=1e-5)
        assert a.duration_s == pytest.approx(b.duration_s, rel=1e-5)
        assert a.reserve_pct == pytest.approx(b.reserve_pct, abs=1e-3)


@pytest.mark.parametrize("suffix", [".plan", ".waypoints"])
@pytest.mark.parametrize("frame", [0, 3])
def test_route_round_trip(route, sc, terrain, tmp_path, suffix, frame):
    [f] = export_plan(route, tmp_path / f"r{suffix}", terrain, frame)
    c = check_mission(f, sc, terrain)
    assert c.aircraft_id == route.aircraft_id if suffix == ".plan" else True
    _same(route, c)
    assert np.allclose(c.waypoints, route.waypoints, atol=1e-6)
    # and again: export the checked mission, re-import, re-check
    [f2] = export_plan(c, tmp_path / f"again{suffix}", terrain, frame)
    _same(c, check_mission(f2, sc, terrain, route.aircraft_id))


def test_field_sorties_round_trip(sc, terrain, tmp_path):
    p = plan_field(sc, "bc-macadamia-1", terrain=terrain)
    files = export_plan(p, tmp_path / "mac.plan", terrain, frame=0)
    assert [f.name for f in files] == [f"mac-{k:02d}.plan" for k in range(1, len(p.sorties) + 1)]
    for s, f in zip(p.sorties, files, strict=True):
        c = check_mission(f, sc, terrain)
        assert c.aircraft_id == "sprayer-t40"
        _same(s, c)  # DO_SPRAYER on/off and the load in the uavsim block give the same mass schedule


def test_wpl_sortie_without_load_assumes_a_full_tank(sc, terrain, tmp_path):
    p = plan_field(sc, "bc-macadamia-1", terrain=terrain)
    last = p.sorties[-1]
    [f] = export_plan(last, tmp_path / "last.waypoints", terrain, frame=0)
    c = check_mission(f, sc, terrain, "sprayer-t40")
    _same(last, c, energy=False)
    assert last.extra["payload_kg"] < 40.0 and c.energy_wh > last.energy_wh  # conservative


def _plan_doc(items, home=(HOME[0], HOME[1], 600.0)):
    return {"fileType": "Plan", "version": 1, "mission": {"plannedHomePosition": list(home), "items": [
        {"type": "SimpleItem", "command": c, "frame": fr, "params": [0, 0, 0, None, la, lo, al], "doJumpId": k}
        for k, (c, fr, la, lo, al) in enumerate(items, 1)]}}


def test_waypoint_below_terrain_fails_and_is_named(sc, terrain, tmp_path):
    g = float(terrain.elevation(21.5300, 103.2250)[0])
    f = tmp_path / "low.plan"
    f.write_text(json.dumps(_plan_doc([(22, 3, 0, 0, 60), (16, 3, 21.5250, 103.2200, 80),
                                       (16, 0, 21.5300, 103.2250, g - 15.0), (21, 3, 0, 0, 0)])))
    c = check_mission(f, sc, terrain)
    assert not c.feasible
    assert any("mission item 3" in r and "below the terrain" in r for r in c.reasons), c.reasons
    assert c.min_terrain_clearance_m < 0


def test_terrain_frame_means_above_ground(sc, terrain, tmp_path):
    f = tmp_path / "agl.plan"
    f.write_text(json.dumps(_plan_doc([(22, 3, 0, 0, 40), (16, 10, 21.5215, 103.2180, 40), (20, 2, 0, 0, 0)])))
    m = read_mission(f, terrain)
    assert m.waypoints[2, 2] == pytest.approx(float(terrain.elevation(21.5215, 103.2180)[0]) + 40)
    assert m.frames == {3, 10}
    assert np.allclose(m.waypoints[-1], [HOME[0], HOME[1], 600.0])  # RTL lands at home
    assert check_mission(f, sc, terrain).feasible


def test_complex_survey_item_is_flattened(terrain, tmp_path):
    doc = _plan_doc([(22, 3, 0, 0, 60)])
    inner = _plan_doc([(16, 3, 21.5210, 103.2180, 60), (16, 3, 21.5220, 103.2190, 60)])["mission"]["items"]
    doc["mission"]["items"].append({"type": "ComplexItem", "complexItemType": "survey",
                                    "TransectStyleComplexItem": {"Items": inner}})
    f = tmp_path / "survey.plan"
    f.write_text(json.dumps(doc))
    m = read_mission(f, terrain)
    assert len(m.waypoints) == 2 + 2 + 2  # home, take-off, two survey points, RTL over home, landing
    assert any("does not end on the ground (LAND or RTL)" in w for w in m.warnings)


def test_wpl_without_takeoff_climbs_at_home(terrain, tmp_path):
    f = tmp_path / "m.waypoints"
    f.write_text("QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t21.5197\t103.2174\t600\t1\n"
                 "1\t0\t3\t16\t5\t0\t0\t0\t21.5210\t103.2180\t50\t1\n2\t0\t3\t21\t0\t0\t0\t0\t0\t0\t0\t1\n")
    m = read_mission(f, terrain)
    assert m.format == "waypoints"
    assert m.waypoints[1].tolist() == [21.5197, 103.2174, 650.0]
    assert m.hold_s[2] == 5.0
    assert any("no TAKEOFF" in w for w in m.warnings)


@pytest.mark.parametrize(("name", "text", "match"), [
    ("empty.plan", "", "empty file"),
    ("cut.plan", '{"fileType": "Plan", "mission": {"items": [{"type": "Simp', r"not valid JSON at line 1.*truncated"),
    ("notplan.plan", '{"hello": 1}', "not a QGroundControl plan"),
    ("nohome.plan", '{"fileType": "Plan", "mission": {"items": []}}', "plannedHomePosition"),
    ("params.plan", json.dumps({"fileType": "Plan", "mission": {"plannedHomePosition": [21.5, 103.2, 600],
                                "items": [{"type": "SimpleItem", "command": 16, "frame": 3, "params": [0, 0]}]}}),
     r"mission.items\[0\]: params must be a list of 7"),
    ("frame.plan", json.dumps(_plan_doc([(22, 3, 0, 0, 50), (16, 7, 21.52, 103.22, 50)])),
     r"mission.items\[1\]: unsupported altitude frame 7"),
    ("text.plan", json.dumps(_plan_doc([(22, 3, 0, 0, 50)])).replace("50]", '"high"]'),
     r"mission.items\[0\]: params\[6\] must be a number"),
    ("cut.waypoints", "QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t21.5\t103.2\t600\t1\n1\t0\t3\t22\t0\t0\t0",
     r"line 3: expected 12 fields .*, got 7 \(truncated\?\)"),
    ("head.waypoints", "QGC WPL 999\n", "line 1: expected 'QGC WPL 110'"),
    ("nan.waypoints", "QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t21.5\t103.2\t600\t1\n1\t0\t3\t16\t0\t0\t0\t0\tx\t103\t50\t1\n",
     "line 3: not a number"),
    ("nav.waypoints", "QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t21.5\t103.2\t600\t1\n1\t0\t3\t25\t0\t0\t0\t0\t21.5\t103.2\t50\t1\n",
     r"line 3 \(seq 1\): unsupported navigation command 25"),
])
def test_malformed_files_name_file_and_item(tmp_path, terrain, name, text, match):
    f = tmp_path / name
    f.write_text(text)
    with pytest.raises(MissionFileError, match=match) as err:
        read_mission(f, terrain)
    assert str(f) in str(err.value)


def test_truncated_export_is_rejected(route, terrain, tmp_path):
    for suffix in (".plan", ".waypoints"):
        [f] = export_plan(route, tmp_path / f"full{suffix}", terrain)
        data = f.read_text()
        cut = tmp_path / f"cut{suffix}"
        cut.write_text(data[: len(data) // 2])
        with pytest.raises(MissionFileError, match=str(cut)):
            read_mission(cut, terrain)


def test_missing_file(terrain, tmp_path):
    with pytest.raises(MissionFileError, match="file not found"):
        read_mission(tmp_path / "nope.plan", terrain)


def test_unknown_export_suffix(route, terrain, tmp_path):
    with pytest.raises(MissionFileError, match="unknown mission format"):
        export_plan(route, tmp_path / "x.kml", terrain)


def test_permit_ceiling_and_zones_are_checked(sc, terrain, tmp_path):
    f = tmp_path / "high.plan"
    doc = _plan_doc([(22, 3, 0, 0, 60), (16, 3, 21.3190, 103.0080, 60), (21, 3, 0, 0, 0)],
                    home=(21.3165, 103.0028, float(terrain.elevation(21.3165, 103.0028)[0])))
    doc["uavsim"] = {"aircraft_id": "sprayer-t40", "mission_type": "spray"}
    f.write_text(json.dumps(doc))
    c = check_mission(f, sc, terrain)
    assert not c.feasible and c.zones == ["PERMIT"]
    assert any("above the permit's ceiling of 30 m AGL" in r for r in c.reasons)
    # the same flight by an aircraft the Mường Thanh permit does not name breaks the border band as well
    c2 = check_mission(f, sc, terrain, "delivery-2kg")
    assert {"BORDER-LA", "PERMIT"} <= set(c2.zones)
    assert any("outside every permit area" in r for r in c2.reasons)


def test_home_altitude_zero_is_taken_as_unset(terrain, tmp_path):
    f = tmp_path / "zero.plan"
    f.write_text(json.dumps(_plan_doc([(22, 3, 0, 0, 40), (21, 3, 0, 0, 0)], home=(HOME[0], HOME[1], 0))))
    m = read_mission(f, terrain)
    g = float(terrain.elevation(*HOME)[0])
    assert m.waypoints[0, 2] == pytest.approx(g) and m.waypoints[1, 2] == pytest.approx(g + 40)
    assert any("taken as unset" in w for w in m.warnings)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from([".plan", ".waypoints"]), st.floats(0.0, 1.0), st.integers(0, 255), st.booleans())
def test_damaged_files_never_raise_anything_else(route, terrain, tmp_path, suffix, where, byte, cut):
    [f] = export_plan(route, tmp_path / f"ok{suffix}", terrain)
    data = bytearray(f.read_bytes())
    k = int(where * (len(data) - 1))
    if cut:
        data = data[:k]
    else:
        data[k] = byte
    bad = tmp_path / f"bad{suffix}"
    bad.write_bytes(bytes(data))
    outcome: object
    try:
        outcome = read_mission(bad, terrain)
    except MissionFileError as exc:  # the only error a damaged file may raise, naming the file
        outcome = exc
    if isinstance(outcome, MissionFileError):
        assert str(bad) in str(outcome)
    else:
        assert outcome.waypoints.shape[1] == 3 and len(outcome.waypoints) >= 2


def test_waypoint_without_position_flies_here(terrain, tmp_path):
    """A zero or missing position means "here" to ArduPilot and PX4 (loc_from_cmd); a bad one is an error."""
    f = tmp_path / "nopos.plan"
    f.write_text(json.dumps(_plan_doc([(22, 3, 0, 0, 40), (16, 3, None, None, 60)])))
    m = read_mission(f, terrain)
    assert m.waypoints[2, :2].tolist() == m.waypoints[1, :2].tolist() and m.waypoints[2, 2] - m.waypoints[0, 2] == 60
    f.write_text(json.dumps(_plan_doc([(22, 3, 0, 0, 40), (16, 3, 95.0, 103.0, 60)])))
    with pytest.raises(MissionFileError, match=r"mission.items\[1\]: \(95.0, 103.0\) is not a valid latitude"):
        read_mission(f, terrain)
