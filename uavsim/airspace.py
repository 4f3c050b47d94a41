"""Airspace zones and permits as data (shapely, in UTM 48N metres), and the checks that use them.

A point is in violation when it lies in a prohibited zone, in a restricted zone that no permit area covering
the point waives, or outside every permit area (PERMIT: a flight outside its permit is a violation).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import unary_union

from uavsim import geo
from uavsim._io import latlon, need, read_toml, ring
from uavsim.errors import ScenarioError
from uavsim.records import Event

if TYPE_CHECKING:
    from uavsim.safety.rules import Rules


class ScenarioLike(Protocol):
    """What the airspace reads of a scenario (``uavsim.scenario.Scenario``), so that neither module imports
    the other at load time."""

    sites: Mapping[str, Any]
    fields: Mapping[str, Any]

    def file(self, name: str) -> Path: ...


@dataclass(frozen=True)
class Zone:
    id: str
    rule: str
    kind: str  # "prohibited" | "restricted"
    geom: Polygon  # UTM 48N metres
    max_agl_m: float | None  # the zone applies below this height; None: at all heights
    source: str
    confidence: str = ""


@dataclass(frozen=True)
class Permit:
    id: str
    geom: Polygon
    waives: frozenset[str]
    aircraft: tuple[str, ...]
    start: date | None
    end: date | None
    max_agl_m: float | None
    source: str


@dataclass
class Airspace:
    zones: list[Zone]
    permits: list[Permit]
    max_agl_m: float = 120.0
    sources: dict[str, str] = field(default_factory=dict)
    work_areas: Polygon | None = None  # fields (UTM) plus a margin for turns: low flight there is the job
    landing_sites: np.ndarray | None = None  # (n, 2) UTM x, y of every scenario site

    # -- loading --------------------------------------------------------------------------------------------
    @classmethod
    def from_scenario(cls, sc: ScenarioLike) -> Airspace:
        zones_path, permits_path = sc.file("zones.toml"), sc.file("permits.toml")
        z = read_toml(zones_path)
        rules = z.get("rules", {})

        def rule(name: str, key: str) -> float:
            entry = rules.get(name)
            if not isinstance(entry, dict):
                raise ScenarioError(zones_path, f"missing [rules.{name}]")
            return float(need(entry, key, zones_path, f"rules.{name}", float))

        sources = {name: str(v.get("source", "")) for name, v in rules.items()}
        zones: list[Zone] = []
        border = z.get("border", {})
        line = [latlon(v, zones_path, f"border.line[{i}]") for i, v in enumerate(need(border, "line", zones_path, "border", list))]
        bx, by = geo.to_utm([p[0] for p in line], [p[1] for p in line])
        band = LineString(list(zip(bx, by, strict=True))).buffer(rule("BORDER-LA", "distance_m") + rule("BORDER-LA", "margin_m"))
        zones.append(Zone("border-la", "BORDER-LA", "restricted", band, None, sources["BORDER-LA"], border.get("source", "")))

        ap = need(z, "airport", zones_path, "zones", dict)
        alat, alon = latlon([need(ap, "lat", zones_path, "airport", float), need(ap, "lon", zones_path, "airport", float)],
                            zones_path, "airport")
        half_len = need(ap, "runway_length_m", zones_path, "airport", float) / 2
        half_wid = need(ap, "runway_width_m", zones_path, "airport", float) / 2
        bearing = need(ap, "runway_true_bearing_deg", zones_path, "airport", float)
        nfz = _rectangle(alat, alon, bearing, half_len + rule("AIRPORT-NFZ", "half_length_m"),
                         half_wid + rule("AIRPORT-NFZ", "half_width_m"))
        outer = _rectangle(alat, alon, bearing, half_len + rule("AIRPORT-NFZ", "half_length_m") + rule("AIRPORT-BUFFER", "lengthwise_m"),
                           half_wid + rule("AIRPORT-NFZ", "half_width_m") + rule("AIRPORT-BUFFER", "lateral_m"))
        zones.append(Zone("airport-nfz", "AIRPORT-NFZ", "prohibited", nfz, None, sources["AIRPORT-NFZ"], str(ap.get("confidence", ""))))
        zones.append(Zone("airport-buffer", "AIRPORT-BUFFER", "restricted", outer.difference(nfz),
                          rule("AIRPORT-BUFFER", "max_agl_m"), sources["AIRPORT-BUFFER"], str(ap.get("confidence", ""))))
        for i, e in enumerate(z.get("point_site", [])):
            where = f"point_site[{i}]"
            r = need(e, "rule", zones_path, where, str)
            if r not in ("SITE-MIL", "SITE-GOV"):
                raise ScenarioError(zones_path, f"{where}: rule must be SITE-MIL or SITE-GOV, got '{r}'")
            x, y = geo.to_utm(need(e, "lat", zones_path, where, float), need(e, "lon", zones_path, where, float))
            zones.append(Zone(need(e, "id", zones_path, where, str), r, "prohibited",
                              Point(float(x), float(y)).buffer(rule(r, "radius_m"), quad_segs=32), None, sources[r],
                              str(e.get("confidence", ""))))
        permits = []
        for i, e in enumerate(read_toml(permits_path).get("permit", [])):
            where = f"permit[{i}]"
            polys = [_utm_polygon(ring(a, permits_path, f"{where}.areas[{j}]"))
                     for j, a in enumerate(need(e, "areas", permits_path, where, list))]
            unknown = set(e.get("waives", [])) - {"BORDER-LA", "AIRPORT-BUFFER", "ALT-120"}
            if unknown:
                raise ScenarioError(permits_path, f"{where}: cannot waive {sorted(unknown)} (only restricted zones)")
            permits.append(Permit(
                need(e, "id", permits_path, where, str), unary_union(polys), frozenset(e.get("waives", [])),
                tuple(e.get("aircraft", [])), _date(e.get("start"), permits_path, where), _date(e.get("end"), permits_path, where),
                float(e["max_agl_m"]) if "max_agl_m" in e else None, str(e.get("source", ""))))
        margin = float(z.get("work_area", {}).get("margin_m", 30.0))
        fields = [_utm_polygon(f.polygon).buffer(margin) for f in sc.fields.values()] if sc.file("fields.toml").exists() else []
        work = unary_union(fields) if fields else None
        sx, sy = geo.to_utm([p.lat for p in sc.sites.values()], [p.lon for p in sc.sites.values()])
        return cls(zones, permits, rule("ALT-120", "max_agl_m"), sources, work, np.column_stack([sx, sy]))

    def planned_landing_mask(self, lat: np.ndarray, lon: np.ndarray, radius_m: float) -> np.ndarray:
        """True where a point is within ``radius_m`` of a scenario site, or inside a work area."""
        x, y = geo.to_utm(np.atleast_1d(np.asarray(lat, float)), np.atleast_1d(np.asarray(lon, float)))
        near = np.zeros(x.shape, bool)
        if self.landing_sites is not None and len(self.landing_sites):
            d2 = (x[:, None] - self.landing_sites[:, 0]) ** 2 + (y[:, None] - self.landing_sites[:, 1]) ** 2
            near = (d2 <= radius_m**2).any(axis=1)
        if self.work_areas is not None:
            near |= shapely.contains_xy(self.work_areas, x, y)
        return near

    def work_area_mask(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """True where a point lies in a work area (a scenario field with its turn margin)."""
        lat = np.atleast_1d(np.asarray(lat, float))
        if self.work_areas is None:
            return np.zeros(lat.shape, bool)
        x, y = geo.to_utm(lat, np.atleast_1d(np.asarray(lon, float)))
        return shapely.contains_xy(self.work_areas, x, y)

    # -- checks ---------------------------------------------------------------------------------------------
    def violations(self, lat: np.ndarray, lon: np.ndarray, agl_m: np.ndarray | None = None,
                   aircraft: str | None = None, when: date | None = None) -> dict[str, np.ndarray]:
        """Rule id -> boolean mask of the points that break it (only rules broken somewhere)."""
        x, y = geo.to_utm(np.atleast_1d(lat), np.atleast_1d(lon))
        agl = np.zeros(x.shape) if agl_m is None else np.broadcast_to(np.asarray(agl_m, float), x.shape)
        permits = [p for p in self.permits if (aircraft is None or not p.aircraft or aircraft in p.aircraft)
                   and (when is None or ((p.start is None or p.start <= when) and (p.end is None or when <= p.end)))]
        in_permit = [shapely.contains_xy(p.geom, x, y) for p in permits]
        out: dict[str, np.ndarray] = {}
        for z in self.zones:
            inside = shapely.contains_xy(z.geom, x, y)
            if z.max_agl_m is not None:
                inside &= ~(agl >= z.max_agl_m)  # NaN height counts as inside: unknown is not clear
            if z.kind == "restricted":
                for p, m in zip(permits, in_permit, strict=True):
                    if z.rule in p.waives:
                        inside &= ~m
            if inside.any():
                out[z.rule] = out.get(z.rule, np.zeros(x.shape, bool)) | inside
        covered = np.zeros(x.shape, bool)
        for m in in_permit:
            covered |= m
        if (~covered).any():
            out["PERMIT"] = ~covered
        return out

    def track_events(self, t_s: np.ndarray, lat: np.ndarray, lon: np.ndarray, agl_m: np.ndarray,
                     rules: Rules, aircraft: str | None = None) -> list[Event]:
        """One ZONE_VIOLATION event per broken rule, at its first sample, with the evidence."""
        events = []
        for rule_id, mask in sorted(self.violations(lat, lon, agl_m, aircraft).items()):
            i = int(np.flatnonzero(mask)[0])
            what = "outside every permit area" if rule_id == "PERMIT" else f"inside {rule_id}"
            events.append(rules.make_event(
                "ZONE_VIOLATION", float(t_s[i]), lat=float(lat[i]), lon=float(lon[i]), value=float(mask.mean()),
                detail=f"{what} for {int(mask.sum())} of {mask.size} airborne samples; {self.sources.get(rule_id, 'PERMIT rule: Law on People’s Air Defence 2024 art. 30')}",
                evidence=f"rule {rule_id}: first at t={t_s[i]:.1f}s lat={lat[i]:.6f} lon={lon[i]:.6f} agl={agl_m[i]:.1f} m",
            ))
        return events

    def no_go(self, aircraft: str | None = None) -> Polygon:
        """Union (UTM) of the areas a route must go around at low height: prohibited zones, and restricted zones
        outside the permits that waive them."""
        parts = []
        for z in self.zones:
            g = z.geom
            if z.kind == "restricted":
                for p in self.permits:
                    if z.rule in p.waives and (aircraft is None or not p.aircraft or aircraft in p.aircraft):
                        g = g.difference(p.geom)
            parts.append(g)
        return unary_union(parts)

    def zones_hit(self, lat: np.ndarray, lon: np.ndarray, agl_m: np.ndarray | None = None,
                  aircraft: str | None = None) -> list[str]:
        return sorted(self.violations(lat, lon, agl_m, aircraft))


def _rectangle(lat: float, lon: float, bearing_deg: float, half_length: float, half_width: float) -> Polygon:
    cx, cy = geo.to_utm(lat, lon)
    b = math.radians(bearing_deg)
    ux, uy = math.sin(b), math.cos(b)  # along the runway (bearing from north, clockwise)
    vx, vy = uy, -ux
    corners = [(float(cx) + sl * half_length * ux + sw * half_width * vx, float(cy) + sl * half_length * uy + sw * half_width * vy)
               for sl, sw in ((1, 1), (1, -1), (-1, -1), (-1, 1))]
    return Polygon(corners)


def _utm_polygon(vertices: list[tuple[float, float]], holes: list[list[tuple[float, float]]] | None = None) -> Polygon:
    x, y = geo.to_utm([v[0] for v in vertices], [v[1] for v in vertices])
    hs = []
    for h in holes or []:
        hx, hy = geo.to_utm([v[0] for v in h], [v[1] for v in h])
        hs.append(list(zip(hx, hy, strict=True)))
    return Polygon(list(zip(x, y, strict=True)), hs)


def _date(value: object, path, where: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ScenarioError(path, f"{where}: invalid date {value!r}") from exc
