"""The one classification of a flight, used alike for simulated and flown flights.

``classify`` is a pure function of (telemetry, detected events, terrain, zones, rules): it adds the
terrain, height and zone checks that need the world, then takes the worst severity. It never mutates
its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from uavsim.records import SEVERITY_RANK, Event, Telemetry, worse
from uavsim.safety.rules import Rules, default_rules


class TerrainLike(Protocol):
    synthetic: bool

    def elevation(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray: ...

    def covers(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray: ...


class ZonesLike(Protocol):
    def track_events(self, t_s: np.ndarray, lat: np.ndarray, lon: np.ndarray, agl_m: np.ndarray,
                     rules: Rules) -> list[Event]: ...


@dataclass(frozen=True)
class Verdict:
    severity: str
    outcome: str
    events: list[Event]
    min_terrain_clearance_m: float | None = None
    max_agl_m: float | None = None
    checks: dict[str, str] = field(default_factory=dict)


def worst_severity(events: list[Event]) -> str:
    sev = "none"
    for e in events:
        sev = worse(sev, e.severity)
    return sev


def classify(
    events: list[Event],
    telemetry: Telemetry | None = None,
    terrain: TerrainLike | None = None,
    zones: ZonesLike | None = None,
    rules: Rules | None = None,
    in_air: np.ndarray | None = None,
) -> Verdict:
    """Severity and outcome of one flight, with every event that supports it.

    ``in_air`` (bool per telemetry sample) limits terrain and height checks to the airborne part;
    by default every sample with a position counts. Terrain checks apply where the track lies inside
    the DEM's extent; a sample inside the extent over missing data is an unknown, never a pass.

    The clearance floor (``min_terrain_clearance_m``) applies en route. Derived from the track alone, so that
    simulated and flown flights are judged alike: it does not apply within ``terminal_radius_m`` of the first
    and last positions (take-off and landing), and inside the scenario's work areas (fields, from
    ``zones.work_area_mask``) the floor is ``work_min_clearance_m`` (spraying at 2.5 m is the job).
    """
    rules = rules or default_rules()
    out = list(events)
    checks: dict[str, str] = {}
    min_clear: float | None = None
    max_agl: float | None = None
    if telemetry is not None and len(telemetry) > 0:
        ok = np.isfinite(telemetry.lat) & np.isfinite(telemetry.lon) & np.isfinite(telemetry.alt_msl_m)
        if in_air is not None:
            ok &= np.asarray(in_air, dtype=bool)
        idx = np.flatnonzero(ok)
        if terrain is not None and idx.size:
            ex = terminal_mask(telemetry, idx, rules)
            work = getattr(zones, "work_area_mask", None)
            wk = work(telemetry.lat[idx], telemetry.lon[idx]) if work is not None else np.zeros(idx.size, bool)
            tev, min_clear, max_agl, checks["terrain"] = _terrain_events(telemetry, idx, terrain, rules, ex, wk)
            out.extend(tev)
            if zones is not None and checks["terrain"] != "outside_dem":
                # Zones are data of the terrain's area: check the samples inside the DEM's extent.
                zi = idx[terrain.covers(telemetry.lat[idx], telemetry.lon[idx])]
                agl = telemetry.alt_msl_m[zi] - terrain.elevation(telemetry.lat[zi], telemetry.lon[zi])
                zev = zones.track_events(telemetry.t_s[zi], telemetry.lat[zi], telemetry.lon[zi], agl, rules)
                out.extend(zev)
                checks["zones"] = "fail" if zev else "pass"
                lev = _landing_events(telemetry, idx, zones, rules)
                out.extend(lev)
                checks["landing"] = "fail" if lev else "pass"
        elif idx.size == 0:
            checks["terrain"] = "no_position"
        else:
            checks["terrain"] = "not_checked"
    sev = worst_severity(out)
    outcome = "unsafe" if rules.is_unsafe(sev) else "safe"
    out.sort(key=lambda e: (e.t_s, -SEVERITY_RANK[e.severity], e.kind))
    return Verdict(sev, outcome, out, min_clear, max_agl, checks)


def _landing_events(tel: Telemetry, idx: np.ndarray, zones: ZonesLike, rules: Rules) -> list[Event]:
    """EMERGENCY_LANDING when the flight ends away from its launch point, every known site and every work area."""
    planned = getattr(zones, "planned_landing_mask", None)
    if planned is None or idx.size == 0:
        return []
    j0, j1 = int(idx[0]), int(idx[-1])
    lat, lon = float(tel.lat[j1]), float(tel.lon[j1])
    r = rules.threshold("landing_site_radius_m")
    dy = (lat - tel.lat[j0]) * 111_320.0
    dx = (lon - tel.lon[j0]) * 111_320.0 * np.cos(np.radians(lat))
    if dx * dx + dy * dy <= r * r or bool(planned(np.array([lat]), np.array([lon]), r)[0]):
        return []
    return [rules.make_event(
        "EMERGENCY_LANDING", float(tel.t_s[j1]), lat=lat, lon=lon, alt=float(tel.alt_msl_m[j1]), threshold=r,
        detail=f"the flight ended more than {r:.0f} m from its launch point, every known site and every work area",
        evidence=f"last airborne position lat={lat:.6f} lon={lon:.6f} at t={tel.t_s[j1]:.1f}s",
    )]


def terminal_mask(tel: Telemetry, idx: np.ndarray, rules: Rules) -> np.ndarray:
    """True for the samples ``idx`` within ``terminal_radius_m`` of the track's first or last position."""
    ok = np.flatnonzero(np.isfinite(tel.lat) & np.isfinite(tel.lon))
    if ok.size == 0:
        return np.zeros(idx.size, bool)
    r = rules.threshold("terminal_radius_m")
    lat, lon = tel.lat[idx], tel.lon[idx]
    near = np.zeros(idx.size, bool)
    for j in (ok[0], ok[-1]):
        # Equirectangular distance: exact enough within a few hundred metres.
        dy = (lat - tel.lat[j]) * 111_320.0
        dx = (lon - tel.lon[j]) * 111_320.0 * np.cos(np.radians(tel.lat[j]))
        near |= dx * dx + dy * dy <= r * r
    return near


def _terrain_events(
    tel: Telemetry, idx: np.ndarray, terrain: TerrainLike, rules: Rules, exempt: np.ndarray | None = None,
    work: np.ndarray | None = None,
) -> tuple[list[Event], float | None, float | None, str]:
    lat, lon, alt, t = tel.lat[idx], tel.lon[idx], tel.alt_msl_m[idx], tel.t_s[idx]
    inside = terrain.covers(lat, lon)
    if not inside.any():
        return [], None, None, "outside_dem"
    lat, lon, alt, t = lat[inside], lon[inside], alt[inside], t[inside]
    exempt = np.zeros(lat.shape, bool) if exempt is None else exempt[inside]
    work = np.zeros(lat.shape, bool) if work is None else np.asarray(work, bool)[inside]
    elev = terrain.elevation(lat, lon)
    events: list[Event] = []
    unknown = ~np.isfinite(elev)
    tag = " (synthetic terrain)" if getattr(terrain, "synthetic", False) else ""
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        events.append(rules.make_event(
            "TERRAIN_UNKNOWN", t[i], lat=float(lat[i]), lon=float(lon[i]), alt=float(alt[i]),
            value=float(unknown.mean()),
            detail=f"terrain unknown under {unknown.sum()} of {unknown.size} airborne samples{tag}",
            evidence=f"DEM nodata at t={t[i]:.1f}s lat={lat[i]:.6f} lon={lon[i]:.6f}",
        ))
    known = ~unknown
    if not known.any():
        return events, None, None, "unknown"
    clear = alt - elev
    kc = np.where(known, clear, np.inf)
    i_min = int(np.argmin(kc))
    min_clear = float(kc[i_min])
    max_agl = float(np.max(np.where(known, clear, -np.inf)))
    floor = rules.threshold("min_terrain_clearance_m")
    floors = np.where(work, rules.threshold("work_min_clearance_m"), floor)
    below = np.flatnonzero(known & (clear < floors) & ~exempt)
    if below.size:
        i = int(below[0])
        j = int(below[np.argmin(clear[below])])  # the worst non-exempt sample
        events.append(rules.make_event(
            "TERRAIN_CLEARANCE", t[j], lat=float(lat[j]), lon=float(lon[j]), alt=float(alt[j]),
            value=float(clear[j]), threshold=float(floors[j]),
            detail=f"terrain clearance {clear[j]:.1f} m below the {floors[j]:.1f} m minimum"
                   f"{' of the work area' if work[j] else ''} for "
                   f"{below.size} samples, first at t={t[i]:.1f}s{tag}",
            evidence=f"alt_msl={alt[j]:.1f} m, terrain={elev[j]:.1f} m at t={t[j]:.1f}s",
        ))
    limit = rules.threshold("max_agl_m")
    above = np.flatnonzero(known & (clear > limit))
    if above.size:
        i = int(np.argmax(np.where(known, clear, -np.inf)))
        events.append(rules.make_event(
            "ALTITUDE_LIMIT", t[i], lat=float(lat[i]), lon=float(lon[i]), alt=float(alt[i]),
            value=max_agl, threshold=limit,
            detail=f"{max_agl:.0f} m above ground exceeds the {limit:.0f} m limit for {above.size} samples{tag}",
            evidence=f"alt_msl={alt[i]:.1f} m, terrain={elev[i]:.1f} m at t={t[i]:.1f}s",
        ))
    status = "unknown" if unknown.any() else ("fail" if below.size else "pass")
    return events, min_clear, max_agl, status
