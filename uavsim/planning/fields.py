"""Field missions: coverage cut into sorties by tank and battery, flown over the terrain, each assessed.

A sortie takes off at the field's launch point, transits at ``transit_agl_m`` to where the last one stopped,
works at the working height (2.5 m AGL spraying; from the ground resolution for survey), and flies back when
the tank is empty or the battery would fall below the reserve on the way home; then refill and battery swap.
Seeding rates are kg/ha and the tank's litres are taken as its kg capacity (a spreader's hopper).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from uavsim import geo
from uavsim.aircraft import LIQUID_KG_PER_L, AircraftClass, get_aircraft
from uavsim.errors import PlanningError
from uavsim.planning.assess import Conditions, Flight, assess, height_limits
from uavsim.planning.check import mass_schedule
from uavsim.planning.conditions import Limits, Wind
from uavsim.planning.coverage import M2_PER_HA, Coverage, plan_coverage
from uavsim.planning.mavcmd import FRAME_TERRAIN
from uavsim.planning.plan import Plan, rejected
from uavsim.planning.profile import densify_utm, lowest_profile, runs, simplify_profile
from uavsim.planning.routes import PREFERRED_GRADIENT_SHARE, profile_over, profile_points
from uavsim.planning.split import TURN_S, split_sorties, turns
from uavsim.records import MISSION_TYPES

if TYPE_CHECKING:
    from uavsim.scenario import Scenario
    from uavsim.terrain import Terrain

log = logging.getLogger(__name__)

SURVEY_TYPES = ("survey", "monitor")
APPLY_TYPES = ("spray", "seed", "fertilise")
DEFAULT_AIRCRAFT = {"survey": "survey-quad", "monitor": "survey-quad"}
DEFAULT_APPLY_AIRCRAFT = "sprayer-t40"
SPRAY_TOL_M = 1.0  # terrain following: waypoints' straight lines stay 0..SPRAY_TOL_M above the working height
SURVEY_TOL_M = 8.0
CEILING_MARGIN_M = 5.0  # survey height stays this far below the height limit
WORK_STEP_M = 10.0
HOLE_GRADIENT = 1.0  # climb and descent over a hole (m per m): a multirotor slows down to climb this steeply
HOLE_MARGIN_M = 5.0  # horizontal margin around a hole (house, pond) flown at the safe height


def _utm_polygon(vertices, holes):
    from shapely.geometry import Polygon

    x, y = geo.to_utm([v[0] for v in vertices], [v[1] for v in vertices])
    hs = []
    for h in holes:
        hx, hy = geo.to_utm([v[0] for v in h], [v[1] for v in h])
        hs.append(list(zip(hx, hy, strict=True)))
    return Polygon(list(zip(x, y, strict=True)), hs)


def _work_waypoints(lat: np.ndarray, lon: np.ndarray, ds: np.ndarray, vidx: np.ndarray, ground: np.ndarray,
                    agl_m: np.ndarray | float, tol_m: float):
    """Terrain-following waypoints over ground samples: (lat, lon, alt MSL, indices of the samples kept).
    ``agl_m`` may vary along the path (climbing over a hole); the climb and descent are kept flyable."""
    target = ground + agl_m
    ok = np.where(np.isfinite(target), target, agl_m)  # unknown: the assessment rejects it
    if np.ndim(agl_m) and np.ptp(agl_m) > 0:
        ok = lowest_profile(ds, ok, HOLE_GRADIENT, HOLE_GRADIENT)
    keep = np.union1d(simplify_profile(ds, ok, ok + tol_m), vidx)
    return lat[keep], lon[keep], ok[keep], keep


def plan_field(scenario: Scenario, field_id: str, aircraft_id: str | None = None, terrain: Terrain | None = None,
               mission_type: str | None = None, angle_deg: float | None = None, *, wind_mps: float = 0.0,
               wind_dir_deg: float = 0.0, reserve_frac: float | None = None, transit_agl_m: float = 20.0,
               turnaround_s: float = 180.0, gsd_m: float | None = None, max_shadowed_frac: float | None = None,
               wind: Wind | None = None, limits: Limits | None = None) -> Plan:
    """Plan the coverage of a field of the scenario in sorties; each sortie is assessed like any flight.

    Limits default to the rules table; ``wind`` (by height band) overrides the single speed and direction."""
    lim = limits or Limits.from_rules(reserve_frac=reserve_frac, max_shadowed_frac=max_shadowed_frac)
    wind = wind or Wind(wind_mps, wind_dir_deg)
    from uavsim.terrain import open_dem

    t = terrain if terrain is not None else open_dem()
    fa = scenario.field_area(field_id)
    mtype = mission_type or fa.mission_types[0]
    if mtype not in MISSION_TYPES or mtype not in SURVEY_TYPES + APPLY_TYPES:
        raise PlanningError(f"field {field_id}: mission type '{mtype}' is not a field mission "
                            f"({', '.join(SURVEY_TYPES + APPLY_TYPES)})")
    ac = get_aircraft(scenario, aircraft_id or DEFAULT_AIRCRAFT.get(mtype, DEFAULT_APPLY_AIRCRAFT))
    survey = mtype in SURVEY_TYPES
    poly = _utm_polygon(fa.polygon, fa.holes)
    lx, ly = geo.to_utm(fa.launch[0], fa.launch[1])
    launch = (float(lx), float(ly))
    ground0 = float(t.elevation(fa.launch[0], fa.launch[1])[0])
    field_alt = float(np.nanmean(t.elevation([v[0] for v in fa.polygon], [v[1] for v in fa.polygon])))
    notes: list[str] = []
    if mtype not in fa.mission_types:
        notes.append(f"mission type '{mtype}' is not among the field's listed types {list(fa.mission_types)}")
    # the lowest height limit over the field: ALT-120, or the ceiling of a permit that covers it
    a120, pcap = height_limits(scenario, np.array([v[0] for v in fa.polygon]), np.array([v[1] for v in fa.polygon]),
                               ac.id)
    ceiling = float(min(a120.min(), pcap.min()))
    if survey:
        if not (ac.gsd_per_m > 0 and ac.camera_width_px > 0):
            return rejected("field", mtype, fa.site, ac.id, f"field {field_id}: aircraft {ac.id} has no survey camera")
        want = (gsd_m or ac.survey_gsd_m) / ac.gsd_per_m
        work_agl = min(want, ceiling - CEILING_MARGIN_M - SURVEY_TOL_M)  # terrain following may add the tolerance
        swath = ac.camera_width_px * ac.gsd_per_m * work_agl * (1.0 - ac.side_overlap)
        speed, rate, tol = ac.cruise_mps, 0.0, SURVEY_TOL_M
    else:
        if not (ac.tank_l > 0 and ac.swath_m > 0 and ac.spray_speed_mps > 0):
            return rejected("field", mtype, fa.site, ac.id, f"field {field_id}: aircraft {ac.id} cannot {mtype}")
        work_agl, swath, speed, rate, tol = ac.spray_agl_m, ac.swath_m, ac.spray_speed_mps, fa.rate_l_per_ha, SPRAY_TOL_M
    cov = plan_coverage(poly, swath, angle_deg, start=launch)
    try:
        splits = split_sorties(cov, ac, launch, rate, speed, work_agl, transit_agl_m, field_alt, lim.reserve_frac,
                               wind)
    except PlanningError as exc:
        return rejected("field", mtype, fa.site, ac.id, f"field {field_id}: {exc}")
    smooth = (PREFERRED_GRADIENT_SHARE * ac.climb_mps / ac.cruise_mps,
              PREFERRED_GRADIENT_SHARE * ac.descent_mps / ac.cruise_mps)
    sorties = []
    for k, (i, j, amount) in enumerate(splits):
        sorties.append(_sortie(k, cov.pieces[i:j], amount, t, scenario, ac, mtype, fa.site, launch, ground0,
                               fa.launch, work_agl, tol, speed, transit_agl_m, smooth, ceiling, rate,
                               Conditions(lim, wind),
                               max(work_agl, lim.min_clearance_m + SPRAY_TOL_M), _holes(poly)))
    return _combine(fa, mtype, ac, sorties, cov, rate, work_agl, turnaround_s, notes)


def _holes(poly):
    """The field's holes (houses, ponds) with a margin, or None."""
    from shapely.geometry import Polygon
    from shapely.ops import unary_union

    holes = [Polygon(r) for r in poly.interiors]
    return unary_union(holes).buffer(HOLE_MARGIN_M) if holes else None


def _holes_and_spray(xs: np.ndarray, ys: np.ndarray, vidx: np.ndarray, seg_spray: list[bool], holes
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Per work-path sample: over a hole (flown at the safe height), and spraying on the step after it (never
    over a hole, never in a turn or transit: only along the lanes and headland rings)."""
    import shapely

    over = shapely.contains_xy(holes, xs, ys) if holes is not None else np.zeros(xs.size, bool)
    corner = np.clip(np.searchsorted(vidx, np.arange(xs.size), side="right") - 1, 0, len(seg_spray) - 1)
    spray = np.asarray(seg_spray, bool)[corner]
    spray[:-1] &= ~(over[:-1] | over[1:])
    spray[-1] = False
    return over, spray


def _sortie(k: int, pieces, amount: float, t: Terrain, scenario: Scenario, ac: AircraftClass, mtype: str,
            site: str, launch: tuple[float, float], ground0: float, launch_ll: tuple[float, float], work_agl: float,
            tol: float, speed: float, transit_agl: float, smooth, ceiling: float, rate: float, cond: Conditions,
            hole_agl: float, holes) -> Plan:
    # corners of the work path: where the direction (a stop and turn) or the spraying state changes
    corner = turns(pieces)
    xy = [(pieces[0].x0, pieces[0].y0)]
    is_turn = [False]
    seg_spray = [pieces[0].spraying]  # sprayer state from each corner to the next
    for q in range(1, len(pieces)):
        if corner[q] or pieces[q - 1].spraying != pieces[q].spraying:
            xy.append((pieces[q].x0, pieces[q].y0))
            is_turn.append(bool(corner[q]))
            seg_spray.append(pieces[q].spraying)
    xy.append((pieces[-1].x1, pieces[-1].y1))
    is_turn.append(False)
    xy_arr = np.array(xy)
    # the work path and both transits sampled first, so that the terrain is read in one kernel call
    xs, ys, ds, vidx = densify_utm(xy_arr[:, 0], xy_arr[:, 1], WORK_STEP_M)
    wll = geo.from_utm(xs, ys)
    work = (np.asarray(wll[0]), np.asarray(wll[1]), ds, vidx)
    out = profile_points(np.array([launch[0], xy_arr[0, 0]]), np.array([launch[1], xy_arr[0, 1]]))
    back = profile_points(np.array([xy_arr[-1, 0], launch[0]]), np.array([xy_arr[-1, 1], launch[1]]))
    sizes = np.cumsum([work[0].size, out[0].size])
    ground = np.split(t.elevation(np.concatenate([work[0], out[0], back[0]]),
                                  np.concatenate([work[1], out[1], back[1]])), sizes)
    over_hole, sample_spray = _holes_and_spray(xs, ys, vidx, seg_spray, holes)
    wlat, wlon, walt, wkeep = _work_waypoints(*work, ground[0], np.where(over_hole, hole_agl, work_agl), tol)
    turn_at = np.isin(wkeep, vidx[np.array(is_turn)])  # kept work waypoints where the aircraft turns
    out_lat, out_lon, out_alt = profile_over(*out, ground[1], transit_agl, smooth, ceiling)
    back_lat, back_lon, back_alt = profile_over(*back, ground[2], transit_agl, smooth, ceiling)
    lat0, lon0 = launch_ll
    parts = [np.array([[lat0, lon0, ground0]]), np.column_stack([out_lat, out_lon, out_alt]),
             np.column_stack([wlat, wlon, walt]), np.column_stack([back_lat, back_lon, back_alt]),
             np.array([[lat0, lon0, ground0]])]
    wp = np.vstack(parts)
    n_out = 1 + len(out_lat)
    n_work = len(wlat)
    legs = len(wp) - 1
    speeds = np.full(legs, ac.cruise_mps)
    speeds[n_out: n_out + n_work - 1] = speed
    # the tank empties evenly along the work path (the same model the check applies to an exported file)
    payload = amount * LIQUID_KG_PER_L if rate > 0 else 0.0
    pairs = [(n_out + a, n_out + b + 1) for a, b in runs(sample_spray[wkeep[:-1]])] if rate > 0 else []
    on, off = (pairs[0][0], pairs[-1][1]) if pairs else (None, None)
    mass = mass_schedule(ac, wp, payload, spray=pairs)
    hold = np.zeros(len(wp))
    hold[n_out: n_out + n_work][turn_at] = TURN_S
    extra = {"sortie": k + 1, "amount": amount, "litres": amount if mtype != "seed" else 0.0,
             "kg_seed": amount if mtype == "seed" else 0.0,
             "hectares": float(sum(p.new_m2 for p in pieces) / M2_PER_HA), "work_agl_m": work_agl,
             "payload_kg": payload, "spray_on_index": on, "spray_off_index": off, "spray_pairs": pairs,
             "turns": int(turn_at.sum()), "hole_crossings": len(runs(over_hole)), "hole_agl_m": hole_agl}
    if ac.terrain_following and rate > 0:
        extra["export_frame"] = FRAME_TERRAIN
    flight = Flight("sortie", wp, mtype, site, mass, speeds, hold, step_m=WORK_STEP_M, extra=extra)
    return assess(flight, scenario, t, ac, cond)


def _combine(fa, mtype: str, ac: AircraftClass, sorties: list[Plan], cov: Coverage, rate: float, work_agl: float,
             turnaround_s: float, notes: list[str]) -> Plan:
    reasons = [f"sortie {s.extra['sortie']}: {r}" for s in sorties for r in s.reasons]
    warnings = notes + [f"sortie {s.extra['sortie']}: {w}" for s in sorties for w in s.extra.get("warnings", [])]
    clear = [s.min_terrain_clearance_m for s in sorties if s.min_terrain_clearance_m is not None]
    agl = [s.max_agl_m for s in sorties if s.max_agl_m is not None]
    flight = float(sum(s.duration_s for s in sorties))
    amount = float(sum(s.extra["amount"] for s in sorties))
    extra: dict[str, Any] = {
        "field_id": fa.id, "crop": fa.crop, "hectares": float(cov.field.area / M2_PER_HA),
        "covered_fraction": cov.coverage_fraction, "rate_per_ha": rate,
        "litres": amount if mtype != "seed" else 0.0, "kg_seed": amount if mtype == "seed" else 0.0,
        "sortie_count": len(sorties), "refills": max(len(sorties) - 1, 0) if rate > 0 else 0,
        "battery_swaps": max(len(sorties) - 1, 0), "flight_time_s": flight,
        "total_time_s": flight + turnaround_s * max(len(sorties) - 1, 0), "swath_m": cov.swath_m,
        "angle_deg": cov.angle_deg, "lanes": len(cov.lanes), "work_agl_m": work_agl, "warnings": warnings,
        "shadowed_fraction": float(np.mean([s.extra.get("shadowed_fraction", 0.0) for s in sorties])) if sorties else 0.0,
    }
    wps = np.vstack([s.waypoints for s in sorties]) if sorties else np.zeros((0, 3))
    return Plan("field", mtype, fa.site, ac.id, not reasons and bool(sorties), reasons, wps,
                float(sum(s.distance_m for s in sorties)), flight, float(sum(s.energy_wh for s in sorties)),
                float(min(s.reserve_pct for s in sorties)) if sorties else float("nan"),
                float(min(clear)) if clear else None, float(max(agl)) if agl else None,
                sorted({z for s in sorties for z in s.zones}), sorties=sorties, extra=extra)
