"""`uavsim plan route|field` and `uavsim check` through click's CliRunner."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from uavsim.cli.main import cli


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def test_plan_route_json_is_one_document(runner):
    r = runner.invoke(cli, ["plan", "route", "--from", "ttyt-muong-ang", "--to", "tyt-ang-to", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    for key in ("feasible", "reasons", "distance_m", "duration_s", "energy_wh", "reserve_pct",
                "min_terrain_clearance_m", "max_agl_m", "zones", "waypoints"):
        assert key in doc
    assert doc["feasible"] is True and doc["zones"] == []
    assert set(doc["waypoints"][0]) == {"lat", "lon", "alt_msl_m"}


def test_plan_route_infeasible_exits_1_with_reasons(runner):
    r = runner.invoke(cli, ["plan", "route", "--from", "ttyt-muong-ang", "--to", "tyt-ang-to", "--wind", "15",
                            "--json"])
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert doc["feasible"] is False and any("wind" in x for x in doc["reasons"])


def test_plan_route_export_plot_then_check(runner, tmp_path):
    plan, png, wpl = tmp_path / "r.plan", tmp_path / "r.png", tmp_path / "r.waypoints"
    r = runner.invoke(cli, ["plan", "route", "--from", "ttyt-muong-ang", "--to", "tyt-muong-dang", "--export",
                            str(plan), "--plot", str(png)])
    assert r.exit_code == 0, r.output
    assert "FEASIBLE" in r.output and png.stat().st_size > 10_000
    r = runner.invoke(cli, ["plan", "route", "--from", "ttyt-muong-ang", "--to", "tyt-muong-dang", "--export", str(wpl)])
    assert wpl.read_text().startswith("QGC WPL 110")
    for f in (plan, wpl):
        r = runner.invoke(cli, ["check", str(f), "--json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["feasible"] is True


def test_plan_field_exports_one_file_per_sortie(runner, tmp_path):
    r = runner.invoke(cli, ["plan", "field", "--field", "hn-coffee-1", "--json", "--export", str(tmp_path / "c.plan")])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["sortie_count"] == len(doc["sorties"]) == len(doc["exported"]) >= 2
    assert doc["litres"] == pytest.approx(12.0 * doc["hectares"] * doc["covered_fraction"], rel=1e-6)


def test_check_truncated_file_is_a_clear_error(runner, tmp_path):
    f = tmp_path / "cut.plan"
    f.write_text('{"fileType": "Plan", "mission": {"plannedHomePosition": [21.5, 103.2, 600], "items": [{"type"')
    r = runner.invoke(cli, ["check", str(f)])
    assert r.exit_code == 1
    assert f"Error: {f}: not valid JSON" in r.stderr and "Traceback" not in r.output + r.stderr


def test_check_waypoint_below_terrain_names_it(runner, tmp_path):
    f = tmp_path / "low.waypoints"
    f.write_text("QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t21.5197\t103.2174\t600\t1\n"
                 "1\t0\t3\t22\t0\t0\t0\t0\t0\t0\t40\t1\n"
                 "2\t0\t0\t16\t0\t0\t0\t0\t21.5230\t103.2200\t300\t1\n"
                 "3\t0\t3\t21\t0\t0\t0\t0\t0\t0\t0\t1\n")
    r = runner.invoke(cli, ["check", str(f)])
    assert r.exit_code == 1
    assert "NOT FEASIBLE" in r.output and "mission item 2 (WAYPOINT, line 4 (seq 2))" in r.output
    assert "below the terrain" in r.output


def test_unknown_site_and_field_exit_1(runner):
    r = runner.invoke(cli, ["plan", "route", "--from", "nowhere", "--to", "na-tau"])
    assert r.exit_code == 1 and "unknown site 'nowhere'" in r.stderr
    r = runner.invoke(cli, ["plan", "field", "--field", "nofield"])
    assert r.exit_code == 1 and "unknown field 'nofield'" in r.stderr


def test_check_outside_the_dem_is_unknown_not_clear(runner, tmp_path):
    f = tmp_path / "out.waypoints"
    f.write_text("QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t21.1\t103.0\t500\t1\n1\t0\t3\t22\t0\t0\t0\t0\t0\t0\t40\t1\n"
                 "2\t0\t10\t16\t0\t0\t0\t0\t21.11\t103.01\t50\t1\n3\t0\t3\t20\t0\t0\t0\t0\t0\t0\t0\t1\n")
    r = runner.invoke(cli, ["check", str(f), "--json"])
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert doc["feasible"] is False and doc["min_terrain_clearance_m"] is None and doc["energy_wh"] is None
    assert any(x.startswith("terrain unknown") for x in doc["reasons"])


def test_radio_shadow_can_be_made_a_failure(runner):
    args = ["plan", "route", "--from", "ttyt-muong-ang", "--to", "tyt-ang-to", "--json"]
    ok = json.loads(runner.invoke(cli, args).stdout)
    assert 0.2 < ok["shadowed_fraction"] < 0.9 and ok["shadow_segments"]
    r = runner.invoke(cli, [*args, "--max-radio-shadow", "10"])
    doc = json.loads(r.stdout)  # delivery-2kg declares a lost-link return: the check flies it instead of failing
    assert doc["lost_link"] == "return"
    assert r.exit_code == (0 if doc["feasible"] else 1)
    assert all(x.startswith("lost-link return from") for x in doc["reasons"])


def test_plan_route_detours_the_airport_from_coordinates(runner, tmp_path):
    import shutil

    from uavsim.scenario import DEFAULT_SCENARIO

    sc = tmp_path / "sc"
    shutil.copytree(DEFAULT_SCENARIO, sc)
    with open(sc / "permits.toml", "a", encoding="utf-8") as f:
        f.write('\n[[permit]]\nid = "test"\naircraft = ["delivery-2kg"]\nwaives = ["BORDER-LA", "AIRPORT-BUFFER"]\n'
                'source = "test"\nareas = [[[21.34, 102.95], [21.34, 103.06], [21.47, 103.06], [21.47, 102.95]]]\n')
    r = runner.invoke(cli, ["plan", "route", "--scenario", str(sc), "--from", "21.40222,102.97", "--to",
                            "21.40222,103.031", "--one-way", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["detoured"] is True and doc["path_m"] > 1.05 * doc["straight_m"] and doc["zones"] == []


def _na_tau_terrain_mission(tmp_path, rtl: bool = False):
    """ttyt-muong-ang to Nà Tấu at 50 m above the terrain (frame 10), and back the same way (or by RTL)."""
    f = tmp_path / "natau.waypoints"
    back = ("4 0 3 20 0 0 0 0 0 0 0 1\n" if rtl else
            "4 0 10 16 0 0 0 0 21.5460 103.1860 50 1\n5 0 10 16 0 0 0 0 21.5197 103.2174 50 1\n"
            "6 0 3 21 0 0 0 0 0 0 0 1\n")
    f.write_text("QGC WPL 110\n# 50 m above the terrain all the way\n"
                 "0 1 0 16 0 0 0 0 21.5197 103.2174 0 1\n1 0 3 22 0 0 0 0 0 0 50 1\n"
                 "2 0 10 16 0 0 0 0 21.5460 103.1860 50 1\n3 0 10 16 0 0 0 0 21.5720 103.1540 50 1\n" + back)
    return f


def test_check_terrain_frame_follows_the_terrain_and_reads_params(runner, tmp_path):
    f = _na_tau_terrain_mission(tmp_path)
    r = runner.invoke(cli, ["check", str(f), "--aircraft", "cargo-flycart", "--json"])
    doc = json.loads(r.stdout)
    assert 10 in doc["frames"] and doc["mission_waypoints"] < len(doc["waypoints"])
    assert any("terrain-frame leg(s) flown along the terrain as ArduCopter does" in w for w in doc["warnings"])
    # never into the ridge: 50 m less at most half of WPNAV_TER_MARGIN, less what a 20 m step cuts off a crest
    assert doc["min_terrain_clearance_m"] > 30.0
    assert not any("clearance" in x for x in doc["reasons"])
    # ArduCopter's RTL flies straight home at RTL_ALT: from Nà Tấu that is into the ridge, and the check says so
    rtl = json.loads(runner.invoke(cli, ["check", str(_na_tau_terrain_mission(tmp_path, rtl=True)), "--aircraft",
                                         "cargo-flycart", "--json"]).stdout)
    assert any("RETURN_TO_LAUNCH" in x and "below the terrain" not in x and "clearance -" in x for x in rtl["reasons"])
    params = tmp_path / "fc30.param"
    params.write_text("WPNAV_SPEED,800\nWPNAV_SPEED_UP,150\nRTL_ALT,6000\n")
    slow = json.loads(runner.invoke(cli, ["check", str(f), "--aircraft", "cargo-flycart", "--params", str(params),
                                          "--json"]).stdout)
    assert slow["duration_s"] > doc["duration_s"] and "WPNAV_SPEED" in slow["autopilot"]
    windy = json.loads(runner.invoke(cli, ["check", str(f), "--aircraft", "cargo-flycart", "--wind-bands",
                                           "30:2@90,500:8@90", "--json"]).stdout)
    assert windy["energy_wh"] > doc["energy_wh"] and "up to 500 m" in windy["wind"]


def test_check_bad_params_and_wind_bands_are_one_line(runner, tmp_path):
    f = _na_tau_terrain_mission(tmp_path)
    bad = tmp_path / "bad.param"
    bad.write_text("WPNAV_SPEED\n")
    r = runner.invoke(cli, ["check", str(f), "--params", str(bad)])
    assert r.exit_code == 1 and f"Error: {bad}: line 1: expected NAME,VALUE" in r.stderr
    r = runner.invoke(cli, ["check", str(f), "--wind-bands", "50:fast"])
    assert r.exit_code == 2 and "TOP_M:SPEED_MPS@FROM_DEG" in r.output + r.stderr


def test_plan_route_wind_bands(runner):
    args = ["plan", "route", "--from", "ttyt-muong-ang", "--to", "tyt-ang-to", "--json"]
    calm = json.loads(runner.invoke(cli, args).stdout)
    banded = json.loads(runner.invoke(cli, [*args, "--wind-bands", "20:1@0,400:7@90"]).stdout)
    assert banded["energy_wh"] > calm["energy_wh"] and banded["wind_mps"] == 0.0
    r = runner.invoke(cli, [*args, "--wind-bands", "400:7@90,20:1@0"])
    assert r.exit_code == 2 and "band tops increasing" in r.output + r.stderr
