"""Simulated flights written as .tlog files and imported back without a manifest get the simulator's context
back, and fly their plans; a bent track is a ROUTE_DEVIATION; a manifest imports, corrects and round-trips
(issue 14)."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from uavsim import geo
from uavsim.cli.main import cli
from uavsim.context.model import FAMILY
from uavsim.logs.ingest import ingest
from uavsim.records import Telemetry
from uavsim.safety.rules import default_rules
from uavsim.scenario import DEFAULT_SCENARIO
from uavsim.sim.campaign import plan_campaign, run_campaign
from uavsim.sim.tlog_writer import write_tlog
from uavsim.store import Store

PER_TEMPLATE = 6
BEND_M = 80.0
PILOT = "Nguyễn Văn Đức"


def _bent(track: Telemetry, offset_m: float) -> Telemetry:
    """The track pushed sideways (perpendicular to its own heading) by ``offset_m`` over its middle fifth."""
    x, y = (np.asarray(v, float) for v in geo.to_utm(track.lat, track.lon))
    n = len(track)
    sel = slice(int(0.4 * n), int(0.6 * n))
    hx, hy = np.gradient(x), np.gradient(y)
    norm = np.hypot(hx, hy)
    norm[norm == 0] = 1.0
    x[sel] += offset_m * hy[sel] / norm[sel]
    y[sel] -= offset_m * hx[sel] / norm[sel]
    lat, lon = geo.from_utm(x, y)
    return Telemetry(track.t_s, lat, lon, track.alt_msl_m, track.rel_alt_m, track.ground_speed_mps,
                     track.battery_pct, track.mode, list(track.mode_names))


@pytest.fixture(scope="module")
def trip(tmp_path_factory):
    """(simulated flights by file name, imported log flights by file name, the files, the store path)."""
    plan = plan_campaign()
    run = run_campaign(plan, seed=11, days=3)
    by_key: dict[str, list] = defaultdict(list)
    for f in run.flights:
        by_key[f.extra["template"].split("#")[0]].append(f)
    chosen = [f for fs in by_key.values() for f in fs[:PER_TEMPLATE]]
    chosen += [f for f in run.flights if "failure" in f.extra and f not in chosen]
    out = tmp_path_factory.mktemp("tlogs")
    sims, files = {}, []
    for f in chosen:
        files.append(write_tlog(f, out / f"{f.id}.tlog", run.track_of(f)))
        sims[files[-1].name] = f
    # the same sowing sortie flown in the spraying season: the calendar decides the mission type
    seed = next(f for f in run.flights if f.mission_type == "seed" and "failure" not in f.extra)
    shifted = replace(seed, id=seed.id + "-aug", start_utc="2026-08-10T01:00:00Z")
    files.append(write_tlog(shifted, out / "august.tlog", run.track_of(seed)))
    sims["august.tlog"] = replace(shifted, mission_type="spray")
    cargo = next(f for f in run.flights if f.mission_type == "cargo" and "failure" not in f.extra)
    files.append(write_tlog(cargo, out / "bent.tlog", _bent(run.track_of(cargo), BEND_M)))
    db = out / "trip.db"
    with Store(db) as store:
        results = ingest(files, store, scenario=str(DEFAULT_SCENARIO), use_terrain=True)
    logs = {Path(r.path).name: r.flights for r in results}
    assert all(r.status == "imported" for r in results), [r.error for r in results if r.error]
    return sims, logs, files, db


def _pairs(trip):
    sims, logs, _, _ = trip
    return [(sims[n], f) for n, fs in logs.items() if n != "bent.tlog" for f in fs]


def test_round_trip_gets_the_simulators_site_and_mission_family(trip):
    pairs = _pairs(trip)
    assert len(pairs) >= 35
    kinds = {s.mission_type for s, _ in pairs}
    assert {"seed", "spray", "fertilise", "cargo", "medical", "survey"} <= kinds
    site_ok = np.mean([s.site == f.site for s, f in pairs])
    fam_ok = np.mean([FAMILY.get(s.mission_type) == (f.context["mission_type"].get("family")
                                                      or FAMILY.get(f.mission_type)) for s, f in pairs])
    assert site_ok >= 0.95, [(s.site, f.site, f.context["site"]["evidence"]) for s, f in pairs if s.site != f.site]
    assert fam_ok >= 0.95
    assert all(f.context["site"]["how"] == "inferred" for _, f in pairs if f.site is not None)
    assert all(s.aircraft_id == f.aircraft_id for s, f in pairs)  # the fleet's log identities in campaign.toml


def test_exact_mission_type_where_decided_and_unknown_or_generic_otherwise(trip):
    decided = undecided = 0
    for s, f in _pairs(trip):
        mt = f.context["mission_type"]
        if mt.get("decided"):
            decided += 1
            assert f.mission_type == s.mission_type, (s.id, mt)
        else:
            undecided += 1
            assert f.mission_type in ("unknown", "survey")
            assert s.mission_type in mt["candidates"], mt
    assert decided > 3 * undecided
    august = trip[1]["august.tlog"][0]
    assert august.mission_type == "spray"
    assert "the calendar has spray there on 2026-08-10" in august.context["mission_type"]["evidence"]


def test_safe_flights_fly_their_plan_within_the_autopilots_tolerance(trip):
    tol = default_rules().threshold("autopilot_track_tolerance_m")
    pairs = [(s, f) for s, f in _pairs(trip) if s.outcome == "safe"]
    assert pairs
    for s, f in pairs:
        c = f.conformance
        assert c is not None, s.id
        assert c["cross_track_p95_m"] <= tol
        assert c["alt_dev_max_m"] <= tol
        if "failure" in s.extra:  # a contingency changed the flight: its time and lanes are not the plan's
            assert c["time_ratio"] is not None and c["time_ratio"] != pytest.approx(1.0, abs=0.01)
            continue
        assert c["time_ratio"] == pytest.approx(1.0, abs=0.05)
        if s.mission_type in ("seed", "spray", "fertilise", "survey", "monitor"):
            assert c["coverage_frac"] >= 0.95
        else:
            assert c["coverage_frac"] is None
        assert not any(e.kind in ("ROUTE_DEVIATION", "ALTITUDE_DEVIATION") for e in f.events)


def test_a_track_bent_off_its_route_is_a_route_deviation_of_that_distance(trip):
    (f,) = trip[1]["bent.tlog"]
    ev = [e for e in f.events if e.kind == "ROUTE_DEVIATION"]
    assert len(ev) == 1
    assert ev[0].value == pytest.approx(BEND_M, abs=2.0)
    assert ev[0].threshold == default_rules().threshold("route_deviation_fail_m")
    assert ev[0].severity == default_rules().severity_of("ROUTE_DEVIATION")
    assert f.conformance["plan"] == "route:tea-ta-la-cao"
    assert f.conformance["cross_track_max_m"] == pytest.approx(BEND_M, abs=2.0)
    assert f.severity == "incident"
    # the corridor is the permit's whose area holds the take-off, for the class
    assert f.context["permit"] == {**f.context["permit"], "how": "inferred", "value": "QD1291-agriculture-east"}


def test_design_keys_for_every_flight_of_ingest_and_flights_json(trip, tmp_path):
    files = trip[2][:3]
    runner = CliRunner()
    db = tmp_path / "k.db"
    r = runner.invoke(cli, ["ingest", *map(str, files), "--db", str(db), "--json"])
    assert r.exit_code == 0, r.output
    flights = [g for f in json.loads(r.output)["files"] for g in f["flights"]]
    r = runner.invoke(cli, ["flights", "--db", str(db), "--json"])
    flights += json.loads(r.output)["flights"]
    assert flights
    for g in flights:
        for key in ("pilot", "context", "conformance", "mission_type", "site", "aircraft_id"):
            assert key in g
        assert {"site", "mission_type", "aircraft_id", "pilot"} <= set(g["context"])
        assert g["context"]["site"]["how"] in ("inferred", "unknown", "manifest")


def test_a_vietnamese_manifest_imports_corrects_and_round_trips(trip, tmp_path):
    sims, files = trip[0], trip[2]
    # two flights of different work (two airframes flying one route side by side would be "the same flight")
    src = [files[0], next(p for p in files if sims[p.name].mission_type != sims[files[0].name].mission_type)]
    logs = tmp_path / "logs"
    logs.mkdir()
    for p in src:
        shutil.copy(p, logs / p.name)
    a, b = sorted(p.name for p in src)
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(f"log,pilot,mission_type,notes\n{a},{PILOT},test,bản Tà La Cao\n", encoding="utf-8")
    db, runner = tmp_path / "m.db", CliRunner()
    r = runner.invoke(cli, ["ingest", str(logs), "--db", str(db), "--manifest", str(sheet), "--who", "Lò Văn Sơn"])
    assert r.exit_code == 0, r.output
    doc = json.loads(runner.invoke(cli, ["flights", "--db", str(db), "--json"]).output)
    by_file = {g["extra"]["file"]: g for g in doc["flights"]}
    assert by_file[a]["pilot"] == PILOT
    assert by_file[a]["mission_type"] == "test"
    assert by_file[a]["context"]["mission_type"]["how"] == "manifest"
    assert by_file[a]["context"]["mission_type"]["inferred"]["value"] not in (None, "test")
    assert by_file[a]["context"]["manifest"]["notes"] == "bản Tà La Cao"
    assert by_file[b]["pilot"] is None and by_file[b]["context"]["pilot"]["how"] == "unknown"
    stats = runner.invoke(cli, ["stats", "--db", str(db), "--by", "pilot", "--json"])
    groups = {g["group"]: g["flights"] for g in json.loads(stats.output)["by"]}
    assert groups == {PILOT: 1, "unknown": 1}
    # the same sheet again: nothing changes
    r = runner.invoke(cli, ["ingest", str(logs), "--db", str(db), "--manifest", str(sheet)])
    assert r.exit_code == 0
    with Store(db) as store:
        assert store.context_changes() == []
    # a later sheet corrects the other flight without reading its log again
    (logs / b).unlink()
    fix = tmp_path / "fix.csv"
    fix.write_text(f"log,pilot,site\n{b},Quàng Thị Hoa,ttyt-muong-ang\n", encoding="utf-8")
    r = runner.invoke(cli, ["annotate", "--manifest", str(fix), "--db", str(db), "--who", "Lò Văn Sơn"])
    assert r.exit_code == 0, r.output
    with Store(db) as store:
        changes = store.context_changes()
        fl = {f.extra["file"]: f for f in store.flights()}
    assert {c["field"] for c in changes} >= {"pilot", "site"}
    assert all(c["who"] == "Lò Văn Sơn" and c["at_utc"].endswith("Z") for c in changes)
    assert fl[b].pilot == "Quàng Thị Hoa" and fl[b].site == "ttyt-muong-ang"
    assert fl[b].context["site"]["how"] == "manifest"
    r = runner.invoke(cli, ["annotate", "--manifest", str(fix), "--db", str(db)])
    assert "already applied" in r.output
    with Store(db) as store:
        assert len(store.context_changes()) == len(changes)


def test_a_bad_manifest_row_imports_nothing(trip, tmp_path):
    sheet = tmp_path / "bad.csv"
    sheet.write_text(f"log,site\n{trip[2][0].name},atlantis\n", encoding="utf-8")
    db = tmp_path / "bad.db"
    r = CliRunner().invoke(cli, ["ingest", str(trip[2][0]), "--db", str(db), "--manifest", str(sheet)])
    assert r.exit_code == 1
    assert "line 2, column site: unknown site 'atlantis'" in r.output
    assert not db.exists() or Store(db).count() == 0


def test_a_later_sheet_with_a_plan_file_measures_the_flight_against_that_file(trip, tmp_path):
    from uavsim.planning import plan_route
    from uavsim.planning.missionfile import FRAME_REL, write_wpl
    from uavsim.scenario import Scenario

    bent = next(p for p in trip[2] if p.name == "bent.tlog")
    db, runner = tmp_path / "p.db", CliRunner()
    assert runner.invoke(cli, ["ingest", str(bent), "--db", str(db)]).exit_code == 0
    sc = Scenario.load()
    route = sc.routes["tea-ta-la-cao"]
    plan = plan_route(sc, route.origin, route.destination, route.aircraft, mission_type="cargo")
    write_wpl(plan, tmp_path / "tea.waypoints", frame=FRAME_REL)
    sheet = tmp_path / "plan.csv"
    sheet.write_text("log,plan,permit\nbent.tlog,tea.waypoints,QD1291-agriculture-east\n", encoding="utf-8")
    r = runner.invoke(cli, ["annotate", "--manifest", str(sheet), "--db", str(db), "--who", "analyst", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["changed"]
    with Store(db) as store:
        (f,) = store.flights()
        fields = {c["field"] for c in store.context_changes(f.id)}
    assert "conformance" in fields
    assert f.conformance["plan"] == "file:tea.waypoints" and f.conformance["frame"] == "rel"
    assert f.conformance["cross_track_max_m"] == pytest.approx(BEND_M, abs=3.0)
    (ev,) = [e for e in f.events if e.kind == "ROUTE_DEVIATION"]
    assert ev.value == pytest.approx(BEND_M, abs=3.0)
    assert f.context["manifest"]["plan"] == "tea.waypoints" and f.context["manifest"]["permit"] == "QD1291-agriculture-east"


def test_the_breakdowns_of_log_flights_show_real_mission_types_sites_and_aircraft(trip):
    db = trip[3]
    runner = CliRunner()
    groups = {}
    for by in ("mission_type", "site", "aircraft"):
        r = runner.invoke(cli, ["stats", "--db", str(db), "--by", by, "--source", "log", "--json"])
        assert r.exit_code == 0, r.output
        groups[by] = {g["group"] for g in json.loads(r.output)["by"]}
    assert {"seed", "spray", "fertilise", "cargo", "medical"} <= groups["mission_type"]
    assert {"muong-thanh", "hua-nam", "ta-la-cao"} <= groups["site"]
    assert {"sprayer-t40#1", "cargo-flycart#1"} <= groups["aircraft"]
