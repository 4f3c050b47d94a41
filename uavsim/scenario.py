"""Scenario data (missions/<name>/*.toml): sites, fields, routes, zones and permits.

Every loader checks its fields and raises :class:`ScenarioError` naming the file and the field.
The aircraft catalogue and the campaign load through their own modules (``uavsim.aircraft``, ``uavsim.sim``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from uavsim._io import latlon, need, read_toml, ring
from uavsim.errors import ScenarioError
from uavsim.records import MISSION_TYPES

DEFAULT_SCENARIO = Path(__file__).resolve().parents[1] / "missions" / "dienbien"


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    kind: str
    lat: float
    lon: float
    elev_m: float
    confidence: str
    source: str
    name_en: str = ""


@dataclass(frozen=True)
class FieldArea:
    id: str
    name: str
    crop: str
    site: str
    launch: tuple[float, float]
    mission_types: tuple[str, ...]
    rate_l_per_ha: float
    polygon: list[tuple[float, float]]
    holes: list[list[tuple[float, float]]]
    confidence: str
    source: str


@dataclass(frozen=True)
class Route:
    id: str
    origin: str
    destination: str
    mission_type: str
    aircraft: str
    source: str


@dataclass
class Scenario:
    """A scenario folder. Files load on first use so that a command reads only what it needs."""

    root: Path
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, root: str | Path | None = None) -> Scenario:
        p = Path(root) if root is not None else DEFAULT_SCENARIO
        if not p.is_dir():
            raise ScenarioError(p, "scenario folder not found")
        return cls(p)

    def file(self, name: str) -> Path:
        return self.root / name

    @cached_property
    def sites(self) -> dict[str, Site]:
        path = self.file("sites.toml")
        out: dict[str, Site] = {}
        for i, e in enumerate(read_toml(path).get("site", [])):
            where = f"site[{i}]"
            sid = need(e, "id", path, where, str)
            if sid in out:
                raise ScenarioError(path, f"{where}: duplicate site id '{sid}'")
            lat, lon = latlon([need(e, "lat", path, where, float), need(e, "lon", path, where, float)], path, where)
            out[sid] = Site(sid, need(e, "name", path, where, str), need(e, "kind", path, where, str), lat, lon,
                            float(need(e, "elev_m", path, where, float)), str(e.get("confidence", "unknown")),
                            need(e, "source", path, where, str), str(e.get("name_en", "")))
        if not out:
            raise ScenarioError(path, "no [[site]] entries")
        return out

    def site(self, site_id: str) -> Site:
        try:
            return self.sites[site_id]
        except KeyError:
            raise ScenarioError(self.file("sites.toml"),
                                f"unknown site '{site_id}' (known: {', '.join(sorted(self.sites))})") from None

    @cached_property
    def fields(self) -> dict[str, FieldArea]:
        path = self.file("fields.toml")
        out: dict[str, FieldArea] = {}
        for i, e in enumerate(read_toml(path).get("field", [])):
            where = f"field[{i}]"
            fid = need(e, "id", path, where, str)
            site = need(e, "site", path, where, str)
            self.site(site)
            mts = tuple(need(e, "mission_types", path, where, list))
            bad = [m for m in mts if m not in MISSION_TYPES]
            if bad or not mts:
                raise ScenarioError(path, f"{where}: unknown mission type(s) {bad or mts!r}")
            holes = [ring(h, path, f"{where}.holes[{j}]") for j, h in enumerate(e.get("holes", []))]
            out[fid] = FieldArea(fid, str(e.get("name", fid)), need(e, "crop", path, where, str), site,
                                 latlon(need(e, "launch", path, where, list), path, f"{where}.launch"), mts,
                                 float(need(e, "rate_l_per_ha", path, where, float)),
                                 ring(need(e, "polygon", path, where, list), path, f"{where}.polygon"), holes,
                                 str(e.get("confidence", "approximate")), need(e, "source", path, where, str))
        return out

    def field_area(self, field_id: str) -> FieldArea:
        try:
            return self.fields[field_id]
        except KeyError:
            raise ScenarioError(self.file("fields.toml"),
                                f"unknown field '{field_id}' (known: {', '.join(sorted(self.fields))})") from None

    @cached_property
    def routes(self) -> dict[str, Route]:
        path = self.file("routes.toml")
        out: dict[str, Route] = {}
        for i, e in enumerate(read_toml(path).get("route", [])):
            where = f"route[{i}]"
            mt = need(e, "mission_type", path, where, str)
            if mt not in MISSION_TYPES:
                raise ScenarioError(path, f"{where}: unknown mission type '{mt}'")
            r = Route(need(e, "id", path, where, str), need(e, "from", path, where, str),
                      need(e, "to", path, where, str), mt, need(e, "aircraft", path, where, str),
                      str(e.get("source", "")))
            self.site(r.origin)
            self.site(r.destination)
            out[r.id] = r
        return out

    @cached_property
    def airspace(self):  # -> uavsim.airspace.Airspace (imported lazily: shapely is heavy)
        from uavsim.airspace import Airspace

        return Airspace.from_scenario(self)
