"""Flight templates: one per route and one per field sortie, planned ONCE per scenario before a run.

A template is the planned flight the engine replays: a sampled track (a few dozen points), its duration,
distance, energy and the share of the path in radio shadow. The planner (``uavsim.planning``) makes them, so
that planned and simulated flights are the same flights. A mission the planner rejects is never flown: its
template is infeasible and its demand is counted as rejected.

The nominal verdict (no failure) of each template is classified here once with the shared classification;
a flight that replays a template unchanged has exactly those inputs, so the verdict is reused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from shapely.geometry import Polygon

from uavsim import geo, planning
from uavsim.aircraft import AircraftClass, load_catalogue
from uavsim.errors import ScenarioError, UavSimError
from uavsim.safety.classify import Verdict, classify
from uavsim.safety.rules import Rules
from uavsim.scenario import Scenario
from uavsim.sim.config import Campaign

TRACK_POINTS = 40  # stored telemetry samples per flight: enough to draw the track, small in the store
DENSE_DT_S = 1.0  # templates, classification and .tlog files use the track at 1 Hz, as a ground station logs
MODES = ["AUTO", "RTL", "LAND", "CRASH"]


@dataclass
class Template:
    key: str
    mission_type: str
    site: str
    aircraft: str
    feasible: bool
    reasons: tuple[str, ...]
    t_s: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    alt_msl_m: np.ndarray
    gs_mps: np.ndarray
    duration_s: float
    distance_m: float
    energy_wh: float
    battery_wh: float
    wind_limit_mps: float
    cruise_mps: float
    shadowed_fraction: float
    launch: tuple[float, float] = (math.nan, math.nan)
    climb_mps: float = math.nan  # the aircraft class's vertical speeds, for contingency climbs and descents
    descent_mps: float = math.nan
    polygon: Polygon | None = None  # the worked field (UTM)
    nominal: Verdict | None = None
    ground_m: np.ndarray | None = None  # terrain under each sample (m MSL): the engine needs no DEM calls
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rel_alt_m(self) -> np.ndarray:
        return self.alt_msl_m - self.alt_msl_m[0]


def build_templates(scenario: Scenario, campaign: Campaign, terrain: Any, rules: Rules) -> dict[str, list[Template]]:
    """Templates per demand key ("route:<id>:<aircraft>" or "field:<id>:<mission>:<aircraft>")."""
    catalogue = load_catalogue(scenario)
    out: dict[str, list[Template]] = {}
    for key, (kind, ident, mt, ac_id) in _wanted(campaign, scenario).items():
        if ac_id not in catalogue:
            raise ScenarioError(campaign.path, f"aircraft class '{ac_id}' is not in {scenario.file('aircraft.toml')}")
        ac = catalogue[ac_id]
        try:
            tpls = _from_planner(scenario, terrain, rules, key, kind, ident, mt, ac)
        except UavSimError as exc:  # the planner rejects the mission: never flown, counted as rejected
            tpls = [_rejected(key, kind, ident, mt, ac, scenario, str(exc))]
        for t in tpls:
            t.ground_m = terrain.elevation(t.lat, t.lon) if terrain is not None else t.alt_msl_m.copy()
            if t.feasible:
                t.nominal = classify_track(t, [], terrain, scenario.airspace, rules, t.t_s, t.lat, t.lon, t.alt_msl_m)
        out[key] = tpls
    return out


def _wanted(campaign: Campaign, scenario: Scenario) -> dict[str, tuple[str, str, str, str]]:
    """(kind, route or field id, mission type, aircraft class) per demand key, in campaign order."""
    wanted: dict[str, tuple[str, str, str, str]] = {}
    for m in campaign.medical:
        r = scenario.routes[m.route]
        wanted[f"route:{r.id}:{r.aircraft}"] = ("route", r.id, r.mission_type, r.aircraft)
    for c in campaign.calendar:
        if c.route is not None:
            wanted[f"route:{c.route}:{c.aircraft}"] = ("route", c.route, c.mission_type, c.aircraft)
        else:
            wanted[f"field:{c.field}:{c.mission_type}:{c.aircraft}"] = ("field", str(c.field), c.mission_type, c.aircraft)
    return wanted


def _rejected(key: str, kind: str, ident: str, mt: str, ac: AircraftClass, sc: Scenario, reason: str) -> Template:
    if kind == "route":
        r = sc.routes[ident]
        o = sc.site(r.origin)
        launch, site = (o.lat, o.lon), (r.destination if mt == "medical" else r.origin)
    else:
        f = sc.field_area(ident)
        launch, site = f.launch, f.site
    z = np.zeros(1)
    return Template(key, mt, site, ac.id, False, (reason,), z, z + launch[0], z + launch[1], z, z,
                    0.0, 0.0, 0.0, ac.battery_wh, ac.wind_limit_mps, ac.cruise_mps, 0.0, launch,
                    ac.climb_mps, ac.descent_mps)


# -- track helpers -------------------------------------------------------------------------------------------
def _sample(t: np.ndarray, *cols: np.ndarray) -> list[np.ndarray]:
    """The track every DENSE_DT_S seconds, both ends included."""
    ts = np.arange(t[0], t[-1], DENSE_DT_S)
    ts = np.append(ts, t[-1]) if ts.size == 0 or ts[-1] < t[-1] else ts
    return [ts] + [np.interp(ts, t, c) for c in cols]


def thin(n: int, keep: int = TRACK_POINTS, must: tuple[int, ...] = ()) -> np.ndarray:
    """Indices of about ``keep`` samples out of ``n`` for storage: evenly spread, ends and ``must`` included."""
    idx = np.unique(np.round(np.linspace(0, n - 1, min(keep, n))).astype(np.int64))
    extra = [i for i in must if 0 <= i < n]
    return np.unique(np.concatenate([idx, np.asarray(extra, np.int64)])) if extra else idx


def classify_track(t: Template, events: list, terrain: Any, zones: Any, rules: Rules, ts: np.ndarray,
                   lat: np.ndarray, lon: np.ndarray, alt: np.ndarray) -> Verdict:
    """The shared classification of a (possibly cut-short) replay of ``t``: the same rules as a flown log
    (take-off, landing and field work at low height are judged by the classification itself)."""
    from uavsim.records import Telemetry

    rel = alt - t.alt_msl_m[0]
    gs = np.interp(ts, t.t_s, t.gs_mps)
    tel = Telemetry(ts, lat, lon, alt, rel, gs, np.zeros(len(ts)), np.zeros(len(ts), np.int16), MODES)
    in_air = (rel > rules.threshold("in_air_rel_alt_m")) | (gs > rules.threshold("in_air_ground_speed_mps"))
    return classify(events, tel, terrain, zones, rules, in_air=in_air)


def shadowed_fraction(terrain: Any, launch: tuple[float, float], launch_alt: float,
                      lat: np.ndarray, lon: np.ndarray, alt: np.ndarray, rules: Rules) -> float:
    """Share of the airborne samples without terrain line of sight to the base antenna (unknown counts)."""
    if terrain is None:
        return 0.0
    antenna_m = rules.threshold("gcs_antenna_height_m")
    los = terrain.line_of_sight(launch[0], launch[1], launch_alt + antenna_m, lat, lon, alt)
    return float(np.mean(los != 1))


def _from_planner(sc: Scenario, terrain: Any, rules: Rules, key: str, kind: str, ident: str, mt: str,
                  ac: AircraftClass) -> list[Template]:
    """Templates from uavsim.planning Plans; a rejected plan gives an infeasible template (never flown)."""
    if kind == "route":
        r = sc.routes[ident]
        plan = planning.plan_route(sc, r.origin, r.destination, aircraft_id=ac.id, terrain=terrain, return_leg=True,
                                   mission_type=mt)
        a = sc.site(r.origin)
        plans, launch, poly = [plan], (a.lat, a.lon), None
        site = r.destination if mt == "medical" else r.origin
    else:
        f = sc.field_area(ident)
        plan = planning.plan_field(sc, ident, aircraft_id=ac.id, terrain=terrain, mission_type=mt)
        plans = list(getattr(plan, "sorties", None) or [plan])
        launch, site = f.launch, f.site
        poly = Polygon([tuple(float(v) for v in geo.to_utm(la, lo)) for la, lo in f.polygon])
    out = []
    for j, pl in enumerate(plans):
        k = f"{key}#{j}" if kind == "field" else key
        reasons = tuple(plan.reasons) + tuple(r for r in (getattr(pl, "reasons", ()) or ()) if r not in plan.reasons)
        if not (plan.feasible and pl.feasible) or len(pl.waypoints) < 2 or not pl.duration_s > 0:
            out.append(_rejected(k, kind, ident, mt, ac, sc, "; ".join(reasons) or "planner: infeasible"))
            continue
        t, lat, lon, alt, gs = (np.asarray(v, float) for v in pl.track(DENSE_DT_S))
        ts, la, lo, al, g = _sample(t, lat, lon, alt, gs) if t.size >= 2 else (t, lat, lon, alt, gs)
        shadow = (getattr(pl, "extra", None) or {}).get("shadowed_fraction")
        if shadow is None:
            shadow = shadowed_fraction(terrain, launch, float(al[0]), la, lo, al, rules)
        out.append(Template(
            k, mt, site, ac.id, True, reasons, ts, la, lo, al, g,
            float(pl.duration_s), float(pl.distance_m), float(pl.energy_wh), ac.battery_wh,
            ac.wind_limit_mps, ac.cruise_mps, float(shadow), launch, ac.climb_mps, ac.descent_mps, poly))
    return out
