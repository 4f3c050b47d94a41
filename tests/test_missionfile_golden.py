"""Golden tests: real ArduPilot/PX4 test missions and Dalby-style fixtures flown by the check, against an
independent walk of each file written here (DO_JUMP unrolled, every landing, loiters, RTL)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Geod

from uavsim.aircraft import get_aircraft
from uavsim.errors import MissionFileError
from uavsim.planning import check_mission
from uavsim.planning.missionfile import read_mission
from uavsim.terrain.dem import Terrain

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "missions"
FIXTURES = ROOT / "tests" / "data" / "missions"
GEOD = Geod(ellps="WGS84")
PLANE_FILES = ("CMAC-VTOL-ccw.txt", "KSFO-VTOL.txt", "CMAC-circuit.txt", "CMAC-grid.txt",
               "plane-gripper-mission.txt", "dalby_style_vtol.waypoints")
STALE_HOME_M = 100_000.0


# -- the independent walk ---------------------------------------------------------------------------------------
def _rows(path: Path) -> tuple[list[tuple[int, int, int, list[float]]], tuple[float, float, float], int]:
    """(seq, frame, command, [p1..p7]) rows after home, home (lat, lon, alt), autopilot (3 ArduPilot, 12 PX4)."""
    text = path.read_text()
    if text.startswith("QGC WPL"):
        rows = []
        for line in text.splitlines()[1:]:
            f = line.split("#")[0].split()
            if f:
                rows.append((int(f[0]), int(f[2]), int(f[3]), [float(v) for v in f[4:11]]))
        return rows[1:], (rows[0][3][4], rows[0][3][5], rows[0][3][6]), 3
    doc = json.loads(text)["mission"]
    rows = [(k + 1, it["frame"], it["command"], [math.nan if v is None else float(v) for v in it["params"]])
            for k, it in enumerate(doc["items"])]
    return rows, tuple(doc["plannedHomePosition"][:3]), doc.get("firmwareType", 3)


def _dist(a, b) -> float:
    return float(GEOD.inv(a[1], a[0], b[1], b[0])[2])


def _toward(a, b, d) -> tuple[float, float]:
    """The point ``d`` metres from a towards b."""
    az = GEOD.inv(a[1], a[0], b[1], b[0])[0]
    lon, lat, _ = GEOD.fwd(a[1], a[0], az, d)
    return lat, lon


def walk_distance(path: Path, plane: bool) -> tuple[float, int]:
    """Horizontal distance flown and the number of touch-downs, by the autopilots' documented rules."""
    rows, (hlat, hlon, _), _ = _rows(path)
    home = (hlat, hlon)
    seqs = {r[0]: k for k, r in enumerate(rows)}
    first = next(((r[3][4], r[3][5]) for r in rows if r[2] < 100 and r[3][4] != 0 and math.isfinite(r[3][4])), home)
    if _dist(home, first) > STALE_HOME_M:  # the flight starts where it arms
        home = first
    pos, total, landings, airborne = home, 0.0, 0, False
    jumps: dict[int, int] = {}
    radius_default = 60.0 if plane else 10.0

    def go(p):
        nonlocal pos, total
        total += _dist(pos, p)
        pos = p

    pc = 0
    while pc < len(rows):
        _, _, cmd, p = rows[pc]
        target = pos if (p[4] == 0 and p[5] == 0) or not math.isfinite(p[4]) else (p[4], p[5])
        if cmd == 177:
            if p[1] < 0:  # forever: one lap, the items after the jump are never reached
                break
            if jumps.get(pc, 0) < p[1]:
                jumps[pc] = jumps.get(pc, 0) + 1
                pc = seqs[int(p[0])]
            else:
                pc += 1
            continue
        if cmd in (16, 82, 17, 19, 31, 94) or (cmd in (21, 85) and airborne):
            airborne = airborne or cmd not in (21, 85)
            if cmd == 19 and plane and p[0] > 0:  # a plane circles its loiter time away
                r = radius_default
                d = _dist(pos, target)
                go(_toward(target, pos, r) if d > r else pos)
                total += p[0] * 27.8 * np.sinc(1 / 36)  # medical-vtol cruise, chords of 10 degrees
            else:
                go(target)
            if cmd in (21, 85):
                landings += 1
                airborne = False
            landings += cmd == 94  # the payload touches down, the aircraft climbs back
        elif cmd == 18:
            r = abs(p[2]) if p[2] else radius_default
            d = _dist(pos, target)
            go(_toward(target, pos, r) if d > r else pos)
            total += p[0] * 2 * math.pi * r * np.sinc(1 / 36)  # 36 chords per turn, as the model flies circles
        elif cmd in (22, 84):
            airborne = True
        elif cmd == 20 and airborne:
            go(home)
            landings += 1
            airborne = False
        pc += 1
    if airborne:  # a mission that ends in the air: assumed RTL
        go(home)
        landings += 1
    return total, landings


# -- terrain -------------------------------------------------------------------------------------------------------
def flat_dem(lat: float, lon: float, elev: float, half_deg: float = 0.3) -> Terrain:
    grid = np.full((120, 120), elev, np.float32)
    return Terrain(grid, rasterio.transform.from_bounds(lon - half_deg, lat - half_deg, lon + half_deg,
                                                        lat + half_deg, 120, 120), "EPSG:4326")


def _dem_for(path: Path) -> Terrain:
    rows, (hlat, hlon, halt), _ = _rows(path)
    pts = [(r[3][4], r[3][5]) for r in rows if math.isfinite(r[3][4]) and r[3][4] != 0] or [(hlat, hlon)]
    lat, lon = float(np.mean([p[0] for p in pts])), float(np.mean([p[1] for p in pts]))
    return flat_dem(lat, lon, halt if _dist((hlat, hlon), (lat, lon)) < STALE_HOME_M else 100.0)


def _files() -> list[Path]:
    shared = sorted(SHARED.rglob("*.txt")) + sorted(SHARED.rglob("*.plan")) if SHARED.is_dir() else []
    return shared + sorted(FIXTURES.glob("*.*"))


def _aircraft(path: Path) -> str:
    return "medical-vtol" if path.name in PLANE_FILES else "delivery-2kg"


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.name)
def test_every_mission_parses_and_flies_the_walked_distance(path, sc):
    terrain = _dem_for(path)
    plan = check_mission(path, sc, terrain, _aircraft(path))
    want, landings = walk_distance(path, _aircraft(path) == "medical-vtol")
    assert plan.distance_m == pytest.approx(want, rel=3e-3), plan.extra["warnings"]
    assert plan.extra["landings"] == landings
    assert plan.duration_s > 0 and math.isfinite(plan.energy_wh)
    assert plan.max_agl_m is not None  # flat terrain is known everywhere the mission flies
    # take-off and landing areas (terminal_radius_m) are judged against the ground only, as the classifier does
    assert not any("TAKEOFF" in r and "above the terrain" in r for r in plan.reasons)
    assert not any(r.startswith("terrain unknown") for r in plan.reasons)


def test_shared_missions_present():
    if not SHARED.is_dir():
        pytest.skip("../shared/data/missions is absent (a fresh clone)")
    assert len(list(SHARED.rglob("*.txt"))) >= 8


def test_dalby_style_loop_is_flown_five_times_with_two_landings(sc):
    path = FIXTURES / "dalby_style_vtol.waypoints"
    m = read_mission(path, _dem_for(path), get_aircraft(sc, "medical-vtol"))
    loop = [i for i, lab in enumerate(m.labels) if lab.startswith("mission item 4 ")]
    assert len(loop) == 5  # once, then 4 repeats
    assert int(m.on_ground[1:].sum()) == 2 and m.on_ground[-1]
    assert m.release_index is not None and m.on_ground[m.release_index]  # released on the ground
    assert m.ground_wait_s == 30.0
    assert m.land_start is not None and m.labels[m.land_start].startswith("mission item 12 ")


def test_copter_fixture_models_loiters_payload_and_conditions(sc):
    path = FIXTURES / "copter_payload_loiters.waypoints"
    m = read_mission(path, _dem_for(path), get_aircraft(sc, "delivery-2kg"))
    circling = [lab for lab in m.labels if lab.startswith("mission item 3 ") and "circling" in lab]
    assert len(circling) == 2 * 72  # 2 turns of 36 chords, flown again on the outer DO_JUMP's repeat
    assert m.hold_s[m.labels.index(next(lab for lab in m.labels if lab.startswith("mission item 4 ")))] == 20.0
    events = [e["event"] for e in m.payload_events]
    assert "payload placed" in events and any(e.startswith("winch") for e in events)
    assert any(e.startswith("servo 9") for e in events) and any("wait 4 s" in e for e in events)
    assert any("mission item 13 (command 31999" in w and "not modelled" in w for w in m.warnings)
    # inner DO_JUMP (item 7 -> 5, twice) is not re-run on the outer loop's second pass (AP_Mission)
    assert sum(lab.startswith("mission item 6 ") for lab in m.labels) == 3 + 1
    # the PAYLOAD_PLACE descends to the ground and climbs back to the height it arrived at
    placed = m.labels.index(next(lab for lab in m.labels if "payload placed" in lab))
    assert m.on_ground[placed] and m.waypoints[placed + 1, 2] == pytest.approx(m.waypoints[placed - 1, 2])


def test_px4_plan_lands_releases_and_takes_off_again(sc):
    path = FIXTURES / "px4_land_and_takeoff_again.plan"
    m = read_mission(path, _dem_for(path), get_aircraft(sc, "delivery-2kg"))
    assert m.meta["stack"] == "PX4"
    assert int(m.on_ground[1:].sum()) == 2
    assert m.on_ground[m.release_index]
    # PX4 RTL: climb to RTL_RETURN_ALT 60 m above home unless the cone (45 degrees) lets it return lower
    climb = next(i for i, lab in enumerate(m.labels) if "RETURN_TO_LAUNCH" in lab and "climb" in lab)
    dist = GEOD.inv(m.waypoints[climb, 1], m.waypoints[climb, 0], 8.5456, 47.3977)[2]
    assert m.waypoints[climb, 2] - 488.0 == pytest.approx(max(30.0, min(60.0, dist)))


def test_copter_rtl_uses_rtl_alt_and_the_cone(sc, tmp_path):
    """ArduCopter ModeRTL: at least RTL_ALT above home, but within the cone (RTL_CONE_SLOPE x distance)."""
    path = SHARED / "ardupilot" / "copter_mission.txt"
    if not path.exists():
        pytest.skip("../shared/data/missions is absent (a fresh clone)")
    t = _dem_for(path)
    ac = get_aircraft(sc, "delivery-2kg")
    m = read_mission(path, t, ac, {"RTL_ALT": 5000.0})  # 50 m
    over = next(i for i, lab in enumerate(m.labels) if "over home" in lab)
    start = over - 1 if "climb" in m.labels[over - 1] else over
    d = GEOD.inv(m.waypoints[start, 1], m.waypoints[start, 0], m.waypoints[0, 1], m.waypoints[0, 0])[2]
    rel_before = m.waypoints[start - 1, 2] - m.waypoints[0, 2]
    expect = max(rel_before, min(50.0, max(3.0 * d, rel_before + 2.5)))
    assert m.waypoints[over, 2] - m.waypoints[0, 2] == pytest.approx(expect, abs=0.01)
    params = tmp_path / "copter.param"
    params.write_text("# Mission Planner parameter file\nRTL_ALT,5000\nWPNAV_SPEED 500\n")
    from uavsim.planning.autopilot import read_params

    assert read_params(params) == {"RTL_ALT": 5000.0, "WPNAV_SPEED": 500.0}
    qgc = tmp_path / "px4.params"  # QGroundControl's format: vehicle, component, name, value, type
    qgc.write_text("# Onboard parameters for Vehicle 1\n1\t1\tMPC_XY_CRUISE\t5.0\t9\n1\t1\tRTL_RETURN_ALT\t40\t9\n")
    from uavsim.planning.autopilot import autopilot_for

    px4 = autopilot_for(ac, read_params(qgc), "PX4")
    assert px4.wp_speed_mps == 5.0 and px4.rtl_altitude_rel(10.0, 500.0) == 40.0
    (tmp_path / "bad.param").write_text("RTL_ALT,abc\n")
    with pytest.raises(Exception, match=r"bad.param: line 1: RTL_ALT: value 'abc' is not a number"):
        read_params(tmp_path / "bad.param")


def test_stale_home_starts_the_flight_at_the_first_waypoint(sc):
    path = SHARED / "ardupilot" / "copter_terrain_mission.txt"
    if not path.exists():
        pytest.skip("../shared/data/missions is absent (a fresh clone)")
    m = read_mission(path, _dem_for(path), get_aircraft(sc, "delivery-2kg"))
    assert m.waypoints[0, :2].tolist() == pytest.approx([36.319240, 138.649993])
    assert any("saved home lies" in w for w in m.warnings)
    assert m.frames == {3, 10}


@pytest.mark.parametrize(("text", "match"), [
    ("QGC WPL 110\n0 1 0 16 0 0 0 0 21.5 103.2 600 1\n1 0 3 22 0 0 0 0 0 0 20 1\n2 0 3 25 0 0 0 0 21.51 103.2 20 1\n",
     r"line 4 \(seq 2\): unsupported navigation command 25 \(FOLLOW\)"),
    ("QGC WPL 110\n0 1 0 16 0 0 0 0 21.5 103.2 600 1\n1 0 3 22 0 0 0 0 0 0 20 1\n2 0 0 177 9 1 0 0 0 0 0 1\n",
     r"line 4 \(seq 2\): DO_JUMP to item 9, which the mission does not have"),
    ("QGC WPL 110\n0 1 0 16 0 0 0 0 21.5 103.2 600 1\n1 0 3 22 0 0 0 0 0 0 20 1\n2 0 7 16 0 0 0 0 21.51 103.2 20 1\n",
     r"line 4 \(seq 2\): unsupported altitude frame 7"),
    ("QGC WPL 110\n0 1 0 16 0 0 0 0 21.5 103.2 600 1\n1 0 3 22 0 0 0 0 0 0 x 1\n",
     r"line 3: not a number"),
])
def test_bad_input_is_one_line_naming_file_and_item(tmp_path, terrain, text, match):
    f = tmp_path / "bad.waypoints"
    f.write_text(text)
    with pytest.raises(MissionFileError, match=match) as err:
        read_mission(f, terrain)
    assert str(err.value).startswith(str(f)) and "\n" not in str(err.value)


def test_qgc_landing_pattern_is_generated_as_qgc_does(sc, tmp_path):
    """QGC saves a fixed-wing landing pattern as its settings only: DO_LAND_START, LOITER_TO_ALT at the approach
    point (radius, direction), then LAND."""
    doc = {"fileType": "Plan", "version": 1, "mission": {"firmwareType": 12, "plannedHomePosition": [47.39, 8.54, 490],
           "items": [{"type": "SimpleItem", "command": 84, "frame": 3, "doJumpId": 1,
                      "params": [0, 0, 0, None, 47.39, 8.54, 40]},
                     {"type": "SimpleItem", "command": 16, "frame": 3, "doJumpId": 2,
                      "params": [0, 0, 0, None, 47.40, 8.56, 80]},
                     {"type": "ComplexItem", "complexItemType": "vtolLandingPattern", "altitudesAreRelative": True,
                      "landCoordinate": [47.391, 8.541, 0], "landingApproachCoordinate": [47.395, 8.545, 40],
                      "loiterClockwise": False, "loiterRadius": 80, "useLoiterToAlt": True, "version": 2}]}}
    f = tmp_path / "land.plan"
    f.write_text(json.dumps(doc))
    terrain = flat_dem(47.395, 8.55, 490.0)
    m = read_mission(f, terrain, get_aircraft(sc, "medical-vtol"))
    assert m.land_start is not None and m.on_ground[-1]
    assert m.waypoints[-1, :2].tolist() == pytest.approx([47.391, 8.541])
    circling = [i for i, lab in enumerate(m.labels) if "landing pattern: approach" in lab and "circling" in lab]
    assert circling and m.waypoints[circling[-1], 2] == pytest.approx(490.0 + 40.0)
    bad = dict(doc)
    bad["mission"] = dict(doc["mission"], items=[{"type": "ComplexItem", "complexItemType": "fwLandingPattern"}])
    f.write_text(json.dumps(bad))
    with pytest.raises(MissionFileError, match=r"mission.items\[0\]: landing pattern without landCoordinate"):
        read_mission(f, terrain)


def test_forever_jump_checks_one_lap_and_never_reaches_what_follows(sc):
    path = SHARED / "ardupilot" / "CMAC-grid.txt"
    if not path.exists():
        pytest.skip("../shared/data/missions is absent (a fresh clone)")
    m = read_mission(path, _dem_for(path), get_aircraft(sc, "medical-vtol"))
    assert sum(lab.startswith("mission item 2 ") for lab in m.labels) == 1  # one lap
    assert not any(lab.startswith("mission item 17 ") for lab in m.labels)  # after the jump: never reached
    assert any("repeats forever; one lap checked" in w for w in m.warnings)
    assert m.labels[-1] == "RTL (assumed)" and m.on_ground[-1]
