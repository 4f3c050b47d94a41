"""Flight templates: one per route and one per field sortie, planned ONCE per scenario before a run.

A template is the planned flight the engine replays: a sampled track (a few dozen points), its duration,
distance, energy and the share of the path in radio shadow. The planner (``uavsim.planning``) makes them when
it is installed; otherwise a clearly marked FALLBACK builder makes straight-line, terrain-following
templates. A mission the planner rejects is never flown: its template is infeasible and its demand is
counted as rejected.

The nominal verdict (no failure) of each template is classified here once with the shared classification;
a flight that replays a template unchanged has exactly those inputs, so the verdict is reused.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from shapely.geometry import LineString, Polygon

from uavsim import geo
from uavsim.errors import ScenarioError, UavSimError
from uavsim.safety.classify import Verdict, classify
from uavsim.safety.rules import Rules
from uavsim.scenario import Scenario
from uavsim.sim.config import Campaign

log = logging.getLogger(__name__)

TRACK_POINTS = 40  # stored telemetry samples per flight: enough to draw the track, small in the store
DENSE_DT_S = 1.0  # templates, classification and .tlog files use the track at 1 Hz, as a ground station logs
CLIMB_MPS = 3.0  # vertical speed at take-off and landing (assumption, typical multirotor)
ANTENNA_M = 3.0  # ground-station antenna above the launch point (assumption)
MODES = ["AUTO", "RTL", "LAND", "CRASH"]


@dataclass
class Template:
    key: str
    mission_type: str
    site: str
    aircraft: str
    feasible: bool
    reasons: tuple[str, ...]
    source: str  # "planner" | "fallback"
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
    polygon: Polygon | None = None  # the worked field (UTM)
    nominal: Verdict | None = None
    ground_m: np.ndarray | None = None  # terrain under each sample (m MSL): the engine needs no DEM calls
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rel_alt_m(self) -> np.ndarray:
        return self.alt_msl_m - self.alt_msl_m[0]


def aircraft_params(scenario: Scenario, campaign: Campaign) -> dict[str, dict[str, float]]:
    """cruise_mps, wind_limit_mps, battery_wh per class: the aircraft catalogue if present, else the fallback."""
    out = {k: dict(v) for k, v in campaign.aircraft_fallback.items()}
    try:
        from uavsim.aircraft import load_catalogue
    except ImportError:
        return out
    try:
        cat = load_catalogue(scenario)
    except ScenarioError as exc:
        log.warning("aircraft catalogue unusable (%s); using the campaign fallback figures", exc)
        return out
    for cid, ac in cat.items():
        d = out.setdefault(cid, {})
        for k in ("cruise_mps", "wind_limit_mps", "battery_wh", "tank_l"):
            v = getattr(ac, k, None)
            if isinstance(v, int | float):
                d[k] = float(v)
    return out


def _planner() -> Any:
    try:
        from uavsim import planning
    except ImportError:
        return None
    return planning if hasattr(planning, "plan_route") and hasattr(planning, "plan_field") else None


def build_templates(scenario: Scenario, campaign: Campaign, terrain: Any, rules: Rules,
                    use_planner: bool | None = None) -> dict[str, list[Template]]:
    """Templates per demand key ("route:<id>:<aircraft>" or "field:<id>:<mission>:<aircraft>")."""
    params = aircraft_params(scenario, campaign)
    planning = _planner() if use_planner in (None, True) else None
    if planning is None:
        log.warning("uavsim.planning not available: FALLBACK straight-line templates")
    wanted: dict[str, tuple[str, str, str, str]] = {}
    for m in campaign.medical:
        r = scenario.routes[m.route]
        wanted[f"route:{r.id}:{r.aircraft}"] = ("route", r.id, r.mission_type, r.aircraft)
    for c in campaign.calendar:
        if c.route is not None:
            wanted[f"route:{c.route}:{c.aircraft}"] = ("route", c.route, c.mission_type, c.aircraft)
        else:
            wanted[f"field:{c.field}:{c.mission_type}:{c.aircraft}"] = ("field", str(c.field), c.mission_type, c.aircraft)
    out: dict[str, list[Template]] = {}
    for key, (kind, ident, mt, ac) in wanted.items():
        if ac not in params or "cruise_mps" not in params[ac]:
            raise ScenarioError(campaign.path, f"aircraft class '{ac}' has no figures (catalogue or [aircraft_fallback])")
        p = params[ac]
        tpls = None
        if planning is not None:
            try:
                tpls = _from_planner(planning, scenario, terrain, key, kind, ident, mt, ac, p)
            except ImportError as exc:  # a planner still being built: this mission falls back
                log.warning("planner cannot plan %s (%s): FALLBACK template", key, exc)
            except UavSimError as exc:  # the planner rejects the mission: never flown, counted as rejected
                tpls = [_rejected(key, kind, ident, mt, ac, p, scenario, str(exc))]
        if tpls is not None:
            pass
        elif kind == "route":
            tpls = [_fallback_route(scenario, terrain, key, ident, mt, ac, p)]
        else:
            tpls = _fallback_field(scenario, terrain, key, ident, mt, ac, p)
        for t in tpls:
            t.ground_m = terrain.elevation(t.lat, t.lon) if terrain is not None else t.alt_msl_m.copy()
            if t.feasible:
                t.nominal = classify_track(t, [], terrain, scenario.airspace, rules, t.t_s, t.lat, t.lon, t.alt_msl_m)
        out[key] = tpls
    return out


def _rejected(key: str, kind: str, ident: str, mt: str, ac: str, p: dict, sc: Scenario, reason: str) -> Template:
    if kind == "route":
        r = sc.routes[ident]
        o = sc.site(r.origin)
        launch, site = (o.lat, o.lon), (r.destination if mt == "medical" else r.origin)
    else:
        f = sc.field_area(ident)
        launch, site = f.launch, f.site
    z = np.zeros(1)
    return Template(key, mt, site, ac, False, (reason,), "planner", z, z + launch[0], z + launch[1], z, z,
                    0.0, 0.0, 0.0, p.get("battery_wh", math.nan), p.get("wind_limit_mps", 0.0),
                    p["cruise_mps"], 0.0, launch)


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
                      lat: np.ndarray, lon: np.ndarray, alt: np.ndarray) -> float:
    """Share of the airborne samples without terrain line of sight to the base antenna (unknown counts)."""
    if terrain is None:
        return 0.0
    los = terrain.line_of_sight(launch[0], launch[1], launch_alt + ANTENNA_M, lat, lon, alt)
    return float(np.mean(los != 1))


def _finish(key, mt, site, ac, p, source, terrain, launch, t, x, y, alt, gs, polygon, reasons=()) -> Template:
    lat, lon = geo.from_utm(x, y)
    ts, la, lo, al, g = _sample(t, lat, lon, alt, gs)
    dist = float(np.sum(np.hypot(np.diff(x), np.diff(y))))
    energy = p.get("power_w", 0.0) * float(t[-1]) / 3600.0
    batt = p.get("battery_wh", float("nan"))
    feasible = bool(np.isfinite(al).all()) and energy <= 0.9 * batt
    why = tuple(reasons) + (() if feasible else ("fallback: energy above 90 % of the battery or terrain unknown",))
    return Template(key, mt, site, ac, feasible, why, source, ts, la, lo, al, g,
                    float(t[-1]), dist, energy, batt,
                    p.get("wind_limit_mps", 0.0), p["cruise_mps"],
                    shadowed_fraction(terrain, launch, float(al[0]), la, lo, al), launch, polygon)


def _fly(x: np.ndarray, y: np.ndarray, agl: np.ndarray, terrain: Any, cruise: float, ground: float):
    """Time, altitude MSL and ground speed along a horizontal path with a vertical take-off and landing."""
    lat, lon = geo.from_utm(x, y)
    elev = terrain.elevation(lat, lon) if terrain is not None else np.full(x.shape, ground)
    alt = elev + agl
    # terrain following with look-ahead: never lower than the next point's target (no dive into a ridge)
    alt = np.maximum(alt, np.concatenate([alt[1:], alt[-1:]]))
    seg = np.hypot(np.diff(x), np.diff(y))
    tt = np.concatenate([[0.0], np.cumsum(np.maximum(seg / cruise, np.abs(np.diff(alt)) / CLIMB_MPS))])
    up, down = (alt[0] - ground) / CLIMB_MPS, (alt[-1] - ground) / CLIMB_MPS
    t = np.concatenate([[0.0], up + tt, [up + tt[-1] + down]])
    xs, ys = np.concatenate([x[:1], x, x[-1:]]), np.concatenate([y[:1], y, y[-1:]])
    a = np.concatenate([[ground], alt, [ground]])
    gs = np.concatenate([[0.0], np.full(x.size, cruise), [0.0]])
    return t, xs, ys, a, gs


def _ground(terrain: Any, lat: float, lon: float, default: float) -> float:
    if terrain is None:
        return default
    e = float(terrain.elevation(lat, lon)[0])
    return e if math.isfinite(e) else default


def _fallback_route(sc: Scenario, terrain: Any, key: str, route_id: str, mt: str, ac: str, p: dict) -> Template:
    """FALLBACK: straight out and back at transit height above the terrain, 60 s over the destination."""
    r = sc.routes[route_id]
    a, b = sc.site(r.origin), sc.site(r.destination)
    lat, lon, _ = geo.geodesic_points(a.lat, a.lon, b.lat, b.lon, 50.0)
    x, y = geo.to_utm(lat, lon)
    x, y = np.concatenate([x, x[-1:], x[::-1]]), np.concatenate([y, y[-1:], y[::-1]])
    agl = np.full(x.shape, p.get("transit_agl_m", 60.0))
    ground = _ground(terrain, a.lat, a.lon, a.elev_m)
    t, xs, ys, alt, gs = _fly(x, y, agl, terrain, p["cruise_mps"], ground)
    k = lat.size + 1  # the hover point over the destination: 60 s, no ground speed
    t[k + 1:] += 60.0
    gs[k] = 0.0
    site = r.destination if mt == "medical" else r.origin
    return _finish(key, mt, site, ac, p, "fallback", terrain, (a.lat, a.lon), t, xs, ys, alt, gs, None)


def _fallback_field(sc: Scenario, terrain: Any, key: str, field_id: str, mt: str, ac: str, p: dict) -> list[Template]:
    """FALLBACK: boustrophedon lanes at swath spacing, split into sorties by tank and battery."""
    f = sc.field_area(field_id)
    ring = [geo.to_utm(la, lo) for la, lo in f.polygon]
    holes = [[geo.to_utm(la, lo) for la, lo in h] for h in f.holes]
    poly = Polygon([(float(x), float(y)) for x, y in ring], [[(float(x), float(y)) for x, y in h] for h in holes])
    swath = p.get("swath_m", 20.0)
    minx, miny, maxx, maxy = poly.bounds
    segs: list[tuple[float, float, float, float]] = []
    for i, yy in enumerate(np.arange(miny + swath / 2, maxy, swath)):
        parts = poly.intersection(LineString([(minx - 1, yy), (maxx + 1, yy)]))
        for g in getattr(parts, "geoms", [parts]):
            if g.is_empty or g.length < 1.0:
                continue
            (x0, y0), (x1, y1) = g.coords[0], g.coords[-1]
            segs.append((x0, y0, x1, y1) if i % 2 == 0 else (x1, y1, x0, y0))
    cruise, work = p["cruise_mps"], p.get("work_agl_m", 3.0)
    area_per_sortie = (p.get("tank_l", 0.0) / f.rate_l_per_ha * 1e4) if f.rate_l_per_ha > 0 and mt != "survey" \
        and mt != "monitor" else float("inf")
    # battery limit: 70 % of the pack for the work, the rest for transit and reserve (assumption)
    work_len = min(area_per_sortie / swath, 0.7 * p["battery_wh"] / p["power_w"] * 3600.0 * cruise)
    lx, ly = geo.to_utm(*f.launch)
    ground = _ground(terrain, f.launch[0], f.launch[1], sc.site(f.site).elev_m)
    sorties: list[list[tuple[float, float, float, float]]] = [[]]
    used = 0.0
    for s in segs:
        ln = math.hypot(s[2] - s[0], s[3] - s[1])
        if sorties[-1] and used + ln > work_len:
            sorties.append([])
            used = 0.0
        sorties[-1].append(s)
        used += ln
    out = []
    transit = p.get("transit_agl_m", 30.0)
    for j, lanes in enumerate(sorties):
        pts = [(float(lx), float(ly), transit)]
        for x0, y0, x1, y1 in lanes:
            pts += [(x0, y0, work), (x1, y1, work)]
        pts += [(float(lx), float(ly), transit)]
        arr = np.array(pts)
        # densify so that the terrain is followed between lane ends
        xs, ys, ag = [arr[0, 0]], [arr[0, 1]], [arr[0, 2]]
        for (x0, y0, a0), (x1, y1, a1) in zip(arr[:-1], arr[1:], strict=True):
            n = max(1, int(math.hypot(x1 - x0, y1 - y0) // 50.0))
            fr = np.arange(1, n + 1) / n
            xs += list(x0 + fr * (x1 - x0))
            ys += list(y0 + fr * (y1 - y0))
            ag += list(np.where(fr < 1, max(a0, a1) if a0 != a1 else a0, a1))
        t, x, y, alt, gs = _fly(np.array(xs), np.array(ys), np.array(ag), terrain, cruise, ground)
        out.append(_finish(f"{key}#{j}", mt, f.site, ac, p, "fallback", terrain, f.launch, t, x, y, alt, gs, poly))
    return out


def _from_planner(planning: Any, sc: Scenario, terrain: Any, key: str, kind: str, ident: str, mt: str, ac: str,
                  p: dict) -> list[Template]:
    """Templates from uavsim.planning Plans; a rejected plan gives an infeasible template (never flown)."""
    if kind == "route":
        r = sc.routes[ident]
        plan = planning.plan_route(sc, r.origin, r.destination, aircraft_id=ac, terrain=terrain, return_leg=True,
                                   mission_type=mt)
        a = sc.site(r.origin)
        plans, launch, poly = [plan], (a.lat, a.lon), None
        site = r.destination if mt == "medical" else r.origin
    else:
        f = sc.field_area(ident)
        plan = planning.plan_field(sc, ident, aircraft_id=ac, terrain=terrain, mission_type=mt)
        plans = list(getattr(plan, "sorties", None) or [plan])
        launch, site = f.launch, f.site
        poly = Polygon([tuple(float(v) for v in geo.to_utm(la, lo)) for la, lo in f.polygon])
    out = []
    for j, pl in enumerate(plans):
        k = f"{key}#{j}" if kind == "field" else key
        reasons = tuple(plan.reasons) + tuple(r for r in (getattr(pl, "reasons", ()) or ()) if r not in plan.reasons)
        if not (plan.feasible and pl.feasible) or len(pl.waypoints) < 2 or not pl.duration_s > 0:
            out.append(_rejected(k, kind, ident, mt, ac, p, sc, "; ".join(reasons) or "planner: infeasible"))
            continue
        t, lat, lon, alt, gs = (np.asarray(v, float) for v in pl.track(DENSE_DT_S))
        ts, la, lo, al, g = _sample(t, lat, lon, alt, gs) if t.size >= 2 else (t, lat, lon, alt, gs)
        shadow = (getattr(pl, "extra", None) or {}).get("shadowed_fraction")
        if shadow is None:
            shadow = shadowed_fraction(terrain, launch, float(al[0]), la, lo, al)
        out.append(Template(
            k, mt, site, ac, True, reasons, "planner", ts, la, lo, al, g,
            float(pl.duration_s), float(pl.distance_m), float(pl.energy_wh), p.get("battery_wh", float("nan")),
            p.get("wind_limit_mps", 0.0), p["cruise_mps"], float(shadow), launch, poly))
    return out
