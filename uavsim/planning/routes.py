"""Delivery routes: the shortest horizontal path around the no-go areas, then a terrain-following profile.

Horizontal: a visibility graph over the vertices of the no-go polygons buffered by ``zone_margin_m`` (UTM
metres), searched with Dijkstra. The no-go area is what :meth:`Airspace.no_go` gives for the aircraft plus,
when permits name the aircraft, everything outside their areas (a flight outside its permit is a violation).
Vertical: the lowest profile at least ``cruise_agl_m`` above the terrain that respects the climb and descent
gradients; sections above 120 m AGL are then reported by the assessment as ALT-120 exceptions.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString, Point, Polygon, box
from shapely.ops import unary_union

from uavsim import geo
from uavsim.aircraft import get_aircraft
from uavsim.errors import PlanningError
from uavsim.planning.assess import Conditions, Flight, assess
from uavsim.planning.check import mass_schedule
from uavsim.planning.conditions import Limits, Wind
from uavsim.planning.plan import Plan
from uavsim.planning.profile import densify_utm, lowest_profile, simplify_profile

if TYPE_CHECKING:
    from uavsim.scenario import Scenario
    from uavsim.terrain import Terrain

log = logging.getLogger(__name__)

DEFAULT_ROUTE_AIRCRAFT = "delivery-2kg"
PROFILE_STEP_M = 25.0  # about the embedded DEM's resolution
PROFILE_TOLERANCE_M = 10.0  # simplified profile may sit this much above the lowest profile
# Steepest planned climb or descent (m per m). Both multirotors and VTOLs (in hover mode) may climb or descend
# steeply by slowing down; the climb and descent RATES are enforced when the legs are timed (profile.fly).
MAX_GRADIENT = 1.0
PREFERRED_GRADIENT_SHARE = 0.8  # where the height rule allows, climb and descend at 80 % of rate / cruise speed
CEILING_MARGIN_M = 10.0  # the profile is capped this far below the height limit (DEM sampling, control)
SEARCH_MARGIN_M = 8000.0  # no-go geometry considered around the origin-destination box


def resolve_point(scenario: Scenario, p: Any) -> tuple[str | None, float, float]:
    """A site id, or (lat, lon) -> (site id or None, lat, lon)."""
    if isinstance(p, str):
        s = scenario.site(p)
        return s.id, s.lat, s.lon
    try:
        lat, lon = float(p[0]), float(p[1])
    except (TypeError, ValueError, IndexError):
        raise PlanningError(f"route end {p!r}: expected a site id or (lat, lon)") from None
    return None, lat, lon


def obstacles_for(scenario: Scenario, aircraft: str, area: Polygon) -> Any:
    """No-go geometry (UTM) inside ``area``: zones, and outside the permits that name the aircraft."""
    asp = scenario.airspace
    parts = [asp.no_go(aircraft).intersection(area)]
    mine = [p.geom for p in asp.permits if not p.aircraft or aircraft in p.aircraft]
    if mine:
        parts.append(area.difference(unary_union(mine)))
    return unary_union(parts)


def shortest_path(obstacles: Any, a: tuple[float, float], b: tuple[float, float], margin_m: float = 150.0
                  ) -> list[tuple[float, float]] | None:
    """Shortest polyline a -> b (UTM) that keeps ``margin_m / 2`` or more from ``obstacles``; None if none.

    Nodes are the vertices of the obstacles buffered by ``margin_m`` (simplified by a quarter of it, so they stay
    outside the half-margin test zone). Near a and b the test zone shrinks back to the obstacles themselves,
    so that an end close to a zone can still leave it.
    """
    if obstacles.is_empty:
        return [a, b]
    ends = unary_union([Point(a).buffer(margin_m * 0.6), Point(b).buffer(margin_m * 0.6)])
    test = unary_union([obstacles.buffer(margin_m * 0.5).difference(ends), obstacles])
    shapely.prepare(test)
    if not test.intersects(LineString([a, b])):
        return [a, b]
    hull = obstacles.buffer(margin_m, quad_segs=4).simplify(margin_m * 0.25)
    polys = list(getattr(hull, "geoms", [hull]))
    pts = [a, b]
    for poly in polys:
        for r in [poly.exterior, *poly.interiors]:
            pts.extend(list(r.coords)[:-1])
    xy = np.array(pts, float)
    keep = np.ones(len(xy), bool)
    keep[2:] = ~shapely.intersects_xy(test, xy[2:, 0], xy[2:, 1])
    xy = xy[keep]
    n = len(xy)
    ii, jj = np.triu_indices(n, 1)
    lines = shapely.linestrings(np.stack([xy[ii], xy[jj]], axis=1))
    ok = ~shapely.intersects(lines, test)
    ii, jj = ii[ok], jj[ok]
    w = np.hypot(*(xy[ii] - xy[jj]).T)
    g = coo_matrix((np.concatenate([w, w]), (np.concatenate([ii, jj]), np.concatenate([jj, ii]))), shape=(n, n))
    dist, pred = dijkstra(g.tocsr(), indices=0, return_predecessors=True)
    if not np.isfinite(dist[1]):
        return None
    path, k = [1], 1
    while k != 0:
        k = int(pred[k])
        path.append(k)
    return [tuple(xy[k]) for k in reversed(path)]


TAUT_ITERATIONS = 400


def taut(alt: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Pull a profile taut inside the band [lo, hi] (repeated smoothing and clipping; ends fixed): fewer and
    gentler climbs than hugging the floor, the way a pilot would fly a corridor."""
    a = alt.copy()
    lo_in, hi_in = lo[1:-1], hi[1:-1]
    mid = np.empty(a.size - 2)
    for _ in range(TAUT_ITERATIONS):
        np.add(a[:-2], a[2:], out=mid)
        mid *= 0.25
        mid += 0.5 * a[1:-1]
        np.maximum(mid, lo_in, out=mid)
        np.minimum(mid, hi_in, out=a[1:-1])
    return a


def profile_points(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Samples along a UTM polyline for a profile: (lat, lon, distance, indices of the vertices)."""
    xs, ys, ds, vidx = densify_utm(x, y, PROFILE_STEP_M)
    lat, lon = geo.from_utm(xs, ys)
    return np.asarray(lat), np.asarray(lon), ds, vidx


def terrain_profile(terrain: Terrain, x: np.ndarray, y: np.ndarray, agl_m: float, smooth: tuple[float, float],
                    ceiling_agl_m: float):
    """Terrain-following profile along a UTM polyline, simplified. Returns (lat, lon, alt) waypoints."""
    pts = profile_points(x, y)
    return profile_over(*pts, terrain.elevation(pts[0], pts[1]), agl_m, smooth, ceiling_agl_m)


def profile_over(lat: np.ndarray, lon: np.ndarray, ds: np.ndarray, vidx: np.ndarray, ground: np.ndarray,
                 agl_m: float, smooth: tuple[float, float], ceiling_agl_m: float):
    """The profile over known ground samples (see :func:`profile_points`).

    First the lowest profile at the cruise-friendly gradients ``smooth`` (climb, descent), capped below the
    height limit, pulled taut inside the band between the floor and that limit, and made flyable again at the
    steep gradient (sections it lifts above the limit are the assessment's ALT-120 exceptions).
    """
    floor = ground + agl_m
    alt = lowest_profile(ds, floor, smooth[0], smooth[1])
    top = ground + ceiling_agl_m - CEILING_MARGIN_M
    capped = np.fmax(np.fmin(alt, top), floor)
    if TAUT_ITERATIONS and np.isfinite(capped).all() and capped.size > 4:
        capped = taut(capped, floor, np.fmax(top, floor))
    alt = lowest_profile(ds, capped, MAX_GRADIENT, MAX_GRADIENT)
    if not np.isfinite(alt).all():  # no terrain at all: the assessment rejects the route as unknown
        alt = np.where(np.isfinite(alt), alt, agl_m)
    # the simplified line may stray from the profile by the tolerance, but not below the floor nor into the
    # height limit (where the profile itself is not already there)
    lo = np.fmin(alt, np.fmax(alt - PROFILE_TOLERANCE_M, floor))
    hi = np.fmax(alt, np.fmin(alt + PROFILE_TOLERANCE_M, top))
    keep = np.union1d(simplify_profile(ds, np.where(np.isfinite(lo), lo, alt), np.where(np.isfinite(hi), hi, alt),
                                       alt), vidx)
    return lat[keep], lon[keep], alt[keep]


def plan_route(scenario: Scenario, origin: Any, destination: Any, aircraft_id: str | None = None,
               terrain: Terrain | None = None, wind_mps: float = 0.0, wind_dir_deg: float = 0.0,
               reserve_frac: float | None = None, return_leg: bool = True, *, mission_type: str | None = None,
               cruise_agl_m: float = 50.0, min_clearance_m: float | None = None, zone_margin_m: float = 150.0,
               payload_kg: float | None = None, delivery_hover_s: float = 60.0,
               max_shadowed_frac: float | None = None, wind: Wind | None = None, limits: Limits | None = None) -> Plan:
    """Plan a delivery from ``origin`` to ``destination`` (site ids or (lat, lon)), by default out and back.

    The payload is lowered by winch while hovering ``delivery_hover_s`` over the destination, so that the
    aircraft touches the ground only at the launch site; the way back is flown empty. Limits default to the
    rules table (the check requires ``route_design_clearance_m``); ``wind`` (by height band) overrides the
    single wind speed and direction.
    """
    lim = limits or Limits.from_rules(reserve_frac=reserve_frac, max_shadowed_frac=max_shadowed_frac)
    wind = wind or Wind(wind_mps, wind_dir_deg)
    clearance = lim.route_design_clearance_m if min_clearance_m is None else min_clearance_m
    from uavsim.terrain import open_dem

    t = terrain if terrain is not None else open_dem()
    o_id, olat, olon = resolve_point(scenario, origin)
    d_id, dlat, dlon = resolve_point(scenario, destination)
    route = next((r for r in scenario.routes.values() if r.origin == o_id and r.destination == d_id), None)
    ac = get_aircraft(scenario, aircraft_id or (route.aircraft if route else DEFAULT_ROUTE_AIRCRAFT))
    mtype = mission_type or (route.mission_type if route else "cargo")
    reasons: list[str] = []

    (ax, bx), (ay, by) = geo.to_utm([olat, dlat], [olon, dlon])
    a, b = (float(ax), float(ay)), (float(bx), float(by))
    area = box(min(a[0], b[0]) - SEARCH_MARGIN_M, min(a[1], b[1]) - SEARCH_MARGIN_M,
               max(a[0], b[0]) + SEARCH_MARGIN_M, max(a[1], b[1]) + SEARCH_MARGIN_M)
    obst = obstacles_for(scenario, ac.id, area)
    for name, sid, p, (lat, lon) in (("origin", o_id, a, (olat, olon)), ("destination", d_id, b, (dlat, dlon))):
        if obst.contains(Point(p)):
            reasons.append(f"{name} {sid + ' ' if sid else ''}at ({lat:.5f}, {lon:.5f}) lies inside a no-go area for {ac.id} "
                           "(a prohibited zone, a restricted zone no permit waives, or outside the permits that "
                           "name this aircraft)")
    path = None if reasons else shortest_path(obst, a, b, zone_margin_m)
    if path is None:
        if not reasons:
            reasons.append(f"no path around the no-go areas between {o_id or (olat, olon)} and "
                           f"{d_id or (dlat, dlon)} within {SEARCH_MARGIN_M / 1000:.0f} km of them (zones, or "
                           f"permit areas for {ac.id} that do not connect them)")
        path = [a, b]  # shown for reference, assessed and rejected
    px, py = np.array([p[0] for p in path]), np.array([p[1] for p in path])
    straight = math.hypot(b[0] - a[0], b[1] - a[1])
    smooth = (PREFERRED_GRADIENT_SHARE * ac.climb_mps / ac.cruise_mps,
              PREFERRED_GRADIENT_SHARE * ac.descent_mps / ac.cruise_mps)
    ceiling = scenario.airspace.max_agl_m
    lat1, lon1, alt1 = terrain_profile(t, px, py, cruise_agl_m, smooth, ceiling)
    g0, g1 = t.elevation([olat, dlat], [olon, dlon])
    out = [(olat, olon, g0), *zip(lat1, lon1, alt1, strict=True)]
    if return_leg:
        lat2, lon2, alt2 = terrain_profile(t, px[::-1], py[::-1], cruise_agl_m, smooth, ceiling)
        rest = [*zip(lat2[1:], lon2[1:], alt2[1:], strict=True), (olat, olon, g0)]
        hold = np.zeros(len(out) + len(rest))
        hold[len(out) - 1] = delivery_hover_s
        release = len(out) - 1  # the leg after the hover flies empty
    else:
        rest = [(dlat, dlon, g1)]
        hold = np.zeros(len(out) + len(rest))
        release = len(out) + len(rest)
    wp = np.array(out + rest, float)
    payload = ac.payload_kg if payload_kg is None else payload_kg
    mass = mass_schedule(ac, wp, payload, release if return_leg else None)
    extra = {"origin": o_id, "destination": d_id, "straight_m": straight,
             "path_m": float(np.sum(np.hypot(np.diff(px), np.diff(py)))), "detoured": len(path) > 2,
             "release_index": release if return_leg else None, "return_leg": return_leg, "payload_kg": payload,
             "cruise_agl_m": cruise_agl_m, "wind_mps": wind.speed_mps, "wind_dir_deg": wind.from_deg}
    flight = Flight("route", wp, mtype, o_id, mass, None, hold, reasons=reasons, extra=extra)
    plan = assess(flight, scenario, t, ac, Conditions(lim, wind, clearance))
    log.info("route %s -> %s (%s): %.1f km, feasible=%s", o_id, d_id, ac.id, plan.distance_m / 1000, plan.feasible)
    return plan
