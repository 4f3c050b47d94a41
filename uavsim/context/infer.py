"""Inference of a flight's context from its track where the manifest is silent, each answer with its rule and
evidence, and ``unknown`` where the track does not decide (never a guess).

- Plan: the scenario route or field sortie whose start lies at the take-off and whose path the flight follows
  (p95 cross-track within conformance_match_max_m), once the flight leaves the launch area (terminal_radius_m); coinciding plans (a field sown and sprayed on the same
  lanes) are all kept, and the season decides between them.
- Mission type: the matched plan's (route: its type; field: the calendar's work of the season for the class);
  otherwise parallel lanes inside a field (applicator or camera work by the class, or by the work height when the
  class is unknown); otherwise point to point between a route's ends; otherwise unknown.
- Site: the matched plan's site; otherwise the scenario site or field launch point nearest the take-off (and
  landing) within context_site_radius_m.
- Aircraft: the log's identity mapped to the fleet (campaign.toml ``[[aircraft_identity]]``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon

from uavsim import geo
from uavsim.context.conformance import Measure, PlannedPath, flying_plan_mask, match_score, measure
from uavsim.context.geometry import parallel_lanes, straight_legs
from uavsim.context.model import APPLY_TYPES, CAMERA_TYPES, FAMILY, GENERIC, SERVED_SITE, ContextModel
from uavsim.records import Telemetry

TIE_M = 1.0  # plans whose p95 cross-track is within this of the best one are the same path


def entry(how: str, value: Any, rule: str, evidence: str, **more: Any) -> dict[str, Any]:
    return {"how": how, "value": value, "rule": rule, "evidence": evidence, **more}


@dataclass
class Inference:
    site: dict[str, Any]
    mission_type: dict[str, Any]
    aircraft_id: dict[str, Any]
    matched: list[PlannedPath] = field(default_factory=list)
    measure: Measure | None = None


def local_day(start_utc: str | None, model: ContextModel, manifest_date: str | None = None) -> date | None:
    if manifest_date:
        return date.fromisoformat(manifest_date)
    if not start_utc:
        return None
    t = datetime.fromisoformat(start_utc.replace("Z", "+00:00"))
    offset = model.campaign.utc_offset_s if model.campaign is not None else 7 * 3600.0
    return (t + timedelta(seconds=offset)).date()


def infer(tel: Telemetry, identity: str | None, start_utc: str | None, model: ContextModel,
          day: date | None = None, aircraft_id: str | None = None) -> Inference:
    """The inferred context of one flight (``aircraft_id`` from the manifest, when given, picks the class)."""
    rules = model.rules
    aircraft = infer_aircraft(identity, model)
    cls = model.aircraft_class(aircraft_id or aircraft["value"])
    day = day or local_day(start_utc, model)
    mask = flying_plan_mask(tel, rules)
    ends = _ends(tel)
    if ends is None:
        none = entry("unknown", None, "no position in the log", "no GPS fix")
        return Inference(none, dict(none), aircraft)
    matched, best = match_plans(tel, mask, ends[0], model, cls.id if cls else None)
    if matched:
        mt = _mission_of_plans(matched, best, model, day, cls.id if cls else None)
        site = _site_of_plan(matched[0], best)
    else:
        mt = _mission_of_lanes(tel, mask, model, day, cls) or _mission_of_route(tel, mask, ends, model)
        site = infer_site(ends, model)
        if mt is not None and mt.get("served_site"):
            site = entry("inferred", mt["served_site"], "the site a route serves (a medical route: its station)",
                         mt["evidence"])
    if mt is None:
        mt = entry("unknown", "unknown", "no plan, lane pattern or route end points match the track",
                   "the track matches no scenario route or field work")
    return Inference(site, mt, aircraft, matched, best)


def _ends(tel: Telemetry) -> tuple[tuple[float, float], tuple[float, float]] | None:
    ok = np.flatnonzero(np.isfinite(tel.lat) & np.isfinite(tel.lon))
    if ok.size == 0:
        return None
    return (float(tel.lat[ok[0]]), float(tel.lon[ok[0]])), (float(tel.lat[ok[-1]]), float(tel.lon[ok[-1]]))


def _dist(a: tuple[float, float], lat: float, lon: float) -> float:
    return float(geo.geodesic_distance(a[0], a[1], lat, lon))


def infer_aircraft(identity: str | None, model: ContextModel) -> dict[str, Any]:
    rule = "the log's identity mapped to the fleet (campaign.toml [[aircraft_identity]])"
    if identity and identity in model.identities:
        return entry("inferred", model.identities[identity], rule, f"log identity {identity!r}")
    return entry("unknown", identity, rule, f"log identity {identity!r} is not in the fleet mapping"
                 if identity else "the log names no aircraft")


def infer_site(ends: tuple[tuple[float, float], tuple[float, float]], model: ContextModel) -> dict[str, Any]:
    """The site, base or field launch point nearest the take-off (else the landing) within the radius."""
    radius = model.rules.threshold("context_site_radius_m")
    rule = f"nearest scenario site or field launch point to take-off (then landing) within {radius:.0f} m"
    places = model.places
    if not places:
        return entry("unknown", None, rule, "the scenario has no sites")
    for which, point in (("take-off", ends[0]), ("landing", ends[1])):
        d = [_dist(point, p.lat, p.lon) for p in places]
        i = int(np.argmin(d))
        if d[i] <= radius:
            p = places[i]
            other = _dist(ends[1] if which == "take-off" else ends[0], p.lat, p.lon)
            return entry("inferred", p.site, rule, f"{which} {d[i]:.0f} m from {p.kind} {p.id}; "
                         f"{'landing' if which == 'take-off' else 'take-off'} {other:.0f} m", distance_m=round(d[i], 1))
    d0 = min(_dist(ends[0], p.lat, p.lon) for p in places)
    return entry("unknown", None, rule, f"take-off {d0:.0f} m from the nearest site (limit {radius:.0f} m)")


def match_plans(tel: Telemetry, mask: np.ndarray, takeoff: tuple[float, float], model: ContextModel,
                cls: str | None) -> tuple[list[PlannedPath], Measure | None]:
    """Scenario plans starting at the take-off that the flight follows, best first (ties kept), and the best
    plan's measure."""
    radius = model.rules.threshold("context_site_radius_m")
    limit = model.rules.threshold("conformance_match_max_m")
    if not any(_dist(takeoff, p.lat, p.lon) <= radius for p in model.places):
        return [], None  # plans start at the scenario's places: far from all of them, none can match (nor be planned)
    idx = np.flatnonzero(mask)
    reach = geo.geodesic_distance(np.full(idx.size, takeoff[0]), np.full(idx.size, takeoff[1]), tel.lat[idx],
                                  tel.lon[idx]) if idx.size else np.zeros(1)
    if float(np.max(reach)) <= model.rules.threshold("terminal_radius_m"):
        return [], None  # a hop over the launch area follows every plan that starts there: it tells nothing
    cands = [p for p in model.plans if _dist(takeoff, float(p.lat[0]), float(p.lon[0])) <= radius]
    if cls is not None and any(p.aircraft == cls for p in cands):
        cands = [p for p in cands if p.aircraft == cls]
    align, share = model.rules.threshold("context_align_deg"), model.rules.threshold("context_aligned_frac")
    scored = []
    for i, p in enumerate(cands):
        p95, aligned = match_score(tel, p, mask, align)
        if aligned >= share:
            scored.append((p95, i, p))
    scored.sort(key=lambda s: s[:2])
    if not scored or not scored[0][0] <= limit:
        return [], None
    best = scored[0][0]
    tied = [p for s, _, p in scored if s <= best + TIE_M]
    return tied, measure(tel, tied[0], model.rules, mask)


def _decide(types: list[str], rule: str, evidence: str, how: str = "inferred") -> dict[str, Any]:
    """One mission type when the candidates agree; the family's generic type or unknown when they do not."""
    types = sorted(set(types))
    fams = {FAMILY.get(t) for t in types}
    family = fams.pop() if len(fams) == 1 else None
    if len(types) == 1:
        return entry(how, types[0], rule, evidence, family=family, decided=True)
    value = GENERIC.get(family or "", "unknown")
    return entry(how if value != "unknown" else "unknown", value, rule,
                 f"{evidence}; candidates {', '.join(types) or 'none'} not decided by the track, class or season",
                 family=family, decided=False, candidates=types)


def _season(types: list[str], where: str, ident: str, model: ContextModel, day: date | None, cls: str | None
            ) -> tuple[list[str], str]:
    sched = model.scheduled(where, ident, day, cls)
    if not sched:
        return types, "no calendar work scheduled there that day" if sched is not None else "no date or calendar"
    keep = [t for t in types if t in sched]
    return (keep, f"the calendar has {', '.join(sched)} there on {day}") if keep else \
        (types, f"the calendar's work on {day} ({', '.join(sched)}) is none of the plan's")


def _mission_of_plans(plans: list[PlannedPath], m: Measure | None, model: ContextModel, day: date | None,
                      cls: str | None) -> dict[str, Any]:
    p = plans[0]
    xt = f"p95 cross-track {m.cross_track_p95_m:.1f} m from {p.name}" if m and m.cross_track_p95_m is not None else p.name
    types = sorted({t for q in plans for t in q.mission_types})
    if p.kind == "route":
        return _decide(types, "point to point along a scenario route: the route's mission type", xt)
    where_id = p.ref.get("field", "")
    keep, why = _season(types, "field", where_id, model, day, cls or p.aircraft)
    return _decide(keep, "coverage lanes of a scenario field sortie; the season's work for the class", f"{xt}; {why}")


def _site_of_plan(p: PlannedPath, m: Measure | None) -> dict[str, Any]:
    route = p.ref.get("route")
    site = p.site
    if route is not None:
        served = SERVED_SITE.get(p.mission_types[0], "origin")
        site = p.ref.get("destination") if served == "destination" else p.site
    return entry("inferred", site, "the site of the matched plan (a medical route: the station it serves)",
                 f"flight follows {p.name}" + (f" (p95 {m.cross_track_p95_m:.1f} m)" if m and m.cross_track_p95_m
                                               is not None else ""))


def _mission_of_lanes(tel: Telemetry, mask: np.ndarray, model: ContextModel, day: date | None, cls: Any
                      ) -> dict[str, Any] | None:
    """Parallel lanes inside a scenario field: applicator or camera work, the season deciding which."""
    r = model.rules
    idx = np.flatnonzero(mask)
    if idx.size < 3 or not model.scenario.file("fields.toml").is_file():
        return None
    x, y = (np.asarray(v) for v in geo.to_utm(tel.lat[idx], tel.lon[idx]))
    legs = straight_legs(x, y, r.threshold("context_lane_min_m"))
    for f in model.scenario.fields.values():
        fx, fy = geo.to_utm([v[0] for v in f.polygon], [v[1] for v in f.polygon])
        poly = Polygon(zip(np.asarray(fx), np.asarray(fy), strict=True)).buffer(r.threshold("context_field_buffer_m"))
        inside = [(i, j) for i, j in legs if shapely.contains_xy(poly, x[[i, j]], y[[i, j]]).all()]
        lanes, axis = parallel_lanes(x, y, inside, r.threshold("context_lane_parallel_deg"))
        if len(lanes) < r.threshold("context_lanes_min"):
            continue
        work = np.concatenate([np.arange(i, j + 1) for i, j in lanes])
        height = float(np.nanmedian(tel.rel_alt_m[idx[work]]))
        kind, how = _work_kind(cls, height, r.threshold("context_applicator_max_agl_m"))
        family = APPLY_TYPES if kind == "applicator" else CAMERA_TYPES
        types = [t for t in f.mission_types if t in family] or (["survey"] if kind == "camera" else [])
        keep, why = _season(types, "field", f.id, model, day, cls.id if cls else None)
        ev = f"{len(lanes)} parallel lanes (axis {axis:.0f} deg) inside field {f.id}; {how}; {why}"
        return _decide(keep, "parallel lanes inside a field: the class's work and the season's", ev)
    return None


def _work_kind(cls: Any, height_m: float, max_apply_m: float) -> tuple[str, str]:
    if cls is not None and cls.tank_l > 0:
        return "applicator", f"class {cls.id} has a {cls.tank_l:.0f} L tank"
    if cls is not None and cls.camera_width_px > 0:
        return "camera", f"class {cls.id} carries a survey camera"
    kind = "applicator" if math.isfinite(height_m) and height_m <= max_apply_m else "camera"
    return kind, f"class unknown; lanes flown at a median {height_m:.1f} m above launch " \
                 f"({'at most' if kind == 'applicator' else 'above'} {max_apply_m:.0f} m: {kind} work)"


def _mission_of_route(tel: Telemetry, mask: np.ndarray, ends: tuple, model: ContextModel) -> dict[str, Any] | None:
    """Point to point: take-off at one end of a scenario route and the farthest point at the other."""
    idx = np.flatnonzero(mask)
    if idx.size == 0 or not model.scenario.file("routes.toml").is_file():
        return None
    radius = model.rules.threshold("context_site_radius_m")
    far_d = geo.geodesic_distance(np.full(idx.size, ends[0][0]), np.full(idx.size, ends[0][1]), tel.lat[idx], tel.lon[idx])
    k = idx[int(np.argmax(far_d))]
    far = (float(tel.lat[k]), float(tel.lon[k]))
    for rt in model.scenario.routes.values():
        a, b = model.scenario.site(rt.origin), model.scenario.site(rt.destination)
        for s, e in ((a, b), (b, a)):
            d0, d1 = _dist(ends[0], s.lat, s.lon), _dist(far, e.lat, e.lon)
            if d0 <= radius and d1 <= radius:
                out = _decide([rt.mission_type], "point to point between a scenario route's ends: the route's type",
                              f"take-off {d0:.0f} m from {s.id}, farthest point {d1:.0f} m from {e.id} (route {rt.id})")
                served = SERVED_SITE.get(rt.mission_type, "origin")
                out["served_site"] = rt.destination if served == "destination" else rt.origin
                return out
    return None
