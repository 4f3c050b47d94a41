"""What the scenario says about where and what a flight could be: places, plans, fleet identities, the season.

A :class:`ContextModel` is built once per process (an import opens one per worker) and plans its routes and
field sorties lazily, on the first flight that needs them. Plans come through the one planner adapter
(:func:`uavsim.context.conformance.planned`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from uavsim._io import read_toml
from uavsim.aircraft import AircraftClass, load_catalogue
from uavsim.context.conformance import PlannedPath, planned
from uavsim.errors import ScenarioError, UavSimError
from uavsim.safety.rules import Rules, default_rules
from uavsim.scenario import Scenario

log = logging.getLogger(__name__)

# mission families (issue 14): what the track and the class can tell apart before the season says which
FAMILY = {"spray": "coverage", "seed": "coverage", "fertilise": "coverage", "survey": "survey", "monitor": "survey",
          "cargo": "transport", "medical": "transport"}
APPLY_TYPES = ("spray", "seed", "fertilise")
CAMERA_TYPES = ("survey", "monitor")
GENERIC = {"survey": "survey"}  # a family whose name is itself a mission type: camera work of undecided purpose
SERVED_SITE = {"medical": "destination"}  # a medical flight is counted at the station it serves (as simulated)


@dataclass(frozen=True)
class Place:
    """A point a flight may start or end at, and the site it stands for."""

    kind: str  # site | field
    id: str
    site: str
    lat: float
    lon: float


@dataclass
class ContextModel:
    scenario: Scenario
    rules: Rules = field(default_factory=default_rules)
    terrain: Any = None

    @classmethod
    def load(cls, scenario: str | Path | Scenario | None, terrain: Any = None, rules: Rules | None = None
             ) -> ContextModel:
        sc = scenario if isinstance(scenario, Scenario) else Scenario.load(scenario)
        return cls(sc, rules or default_rules(), terrain)

    # -- scenario data ---------------------------------------------------------------------------------------
    @cached_property
    def campaign(self) -> Any:
        """The campaign (calendar, fleet), or None for a scenario without campaign.toml."""
        from uavsim.sim.config import load_campaign

        return load_campaign(self.scenario) if self.scenario.file("campaign.toml").is_file() else None

    @cached_property
    def catalogue(self) -> dict[str, AircraftClass]:
        return load_catalogue(self.scenario) if self.scenario.file("aircraft.toml").is_file() else {}

    @cached_property
    def identities(self) -> dict[str, str]:
        """Log identity (e.g. "mavlink-23/1", a serial number) -> fleet airframe id, from campaign.toml
        ``[[aircraft_identity]]`` entries; empty when the scenario gives none."""
        path = self.scenario.file("campaign.toml")
        if not path.is_file():
            return {}
        out: dict[str, str] = {}
        for i, e in enumerate(read_toml(path).get("aircraft_identity", [])):
            log_id, unit = e.get("log"), e.get("aircraft_id")
            if not isinstance(log_id, str) or not isinstance(unit, str):
                raise ScenarioError(path, f"aircraft_identity[{i}]: needs text fields 'log' and 'aircraft_id'")
            out[log_id] = unit
        return out

    @cached_property
    def permits(self) -> dict[str, dict[str, Any]]:
        path = self.scenario.file("permits.toml")
        return {str(e.get("id")): dict(e) for e in read_toml(path).get("permit", [])} if path.is_file() else {}

    def permit_at(self, lat: float, lon: float, cls: str | None) -> dict[str, Any] | None:
        """The first permit whose area holds the point and which names the class (or any class when unknown)."""
        from shapely.geometry import Point, Polygon

        for p in self.permits.values():
            if cls is not None and p.get("aircraft") and cls not in p["aircraft"]:
                continue
            if any(Polygon([(v[1], v[0]) for v in a]).covers(Point(lon, lat)) for a in p.get("areas", [])):
                return p
        return None

    @cached_property
    def places(self) -> list[Place]:
        out = [Place("site", s.id, s.id, s.lat, s.lon) for s in self.scenario.sites.values()]
        if self.scenario.file("fields.toml").is_file():
            out += [Place("field", f.id, f.site, f.launch[0], f.launch[1]) for f in self.scenario.fields.values()]
        return out

    def aircraft_class(self, aircraft_id: str | None) -> AircraftClass | None:
        """The class of a fleet airframe ("sprayer-t40#2" -> sprayer-t40) or of a class id itself."""
        if not aircraft_id:
            return None
        for key in (aircraft_id, aircraft_id.split("#", 1)[0]):
            if key in self.catalogue:
                return self.catalogue[key]
        return None

    def scheduled(self, where: str, ident: str, day: date | None, cls: str | None) -> list[str] | None:
        """Mission types the campaign calendar has at a field or route on ``day`` (for class ``cls`` if known);
        None without a campaign or a date."""
        if self.campaign is None or day is None:
            return None
        from uavsim.sim.demand import in_window

        out = [c.mission_type for c in self.campaign.calendar
               if getattr(c, where) == ident and (cls is None or c.aircraft == cls) and in_window(day, c)]
        return sorted(set(out))

    # -- plans -----------------------------------------------------------------------------------------------
    @cached_property
    def plans(self) -> list[PlannedPath]:
        """Every scenario route (with its return leg) and every field sortie the campaign flies, planned once
        per process for a (scenario folder, DEM file) with the packaged rules."""
        from uavsim.terrain import open_dem

        if self.terrain is None:
            self.terrain = open_dem()
        dem = getattr(self.terrain, "path", None)
        if self.rules is default_rules() and dem is not None and Path(dem).is_file():
            return list(_cached_plans(str(self.scenario.root.resolve()), str(Path(dem).resolve())))
        return self._plan_all()

    def _plan_all(self) -> list[PlannedPath]:
        out: list[PlannedPath] = []
        lane_min, par = self.rules.threshold("context_lane_min_m"), self.rules.threshold("context_lane_parallel_deg")
        for kind, kw in self._wanted():
            try:
                out += planned(kind, self.scenario, self.terrain, lane_min_m=lane_min, parallel_deg=par, **kw)
            except UavSimError as exc:  # a mission the planner rejects is never flown: nothing to match
                log.info("context: %s %s not planned: %s", kind, kw, exc)
        return out

    def _wanted(self) -> list[tuple[str, dict[str, Any]]]:
        routes = self.scenario.routes if self.scenario.file("routes.toml").is_file() else {}
        wanted: dict[tuple, tuple[str, dict[str, Any]]] = {}
        for r in routes.values():
            wanted[("route", r.id, r.aircraft)] = ("route", {"route": r, "aircraft_id": r.aircraft})
        for c in (self.campaign.calendar if self.campaign is not None else ()):
            if c.route is not None:
                wanted[("route", c.route, c.aircraft)] = ("route", {"route": routes[c.route], "aircraft_id": c.aircraft})
            else:
                wanted[("field", c.field, c.mission_type, c.aircraft)] = (
                    "field", {"field_id": c.field, "mission_type": c.mission_type, "aircraft_id": c.aircraft})
        if self.campaign is None and self.scenario.file("fields.toml").is_file():
            for f in self.scenario.fields.values():
                for mt in f.mission_types:
                    wanted[("field", f.id, mt)] = ("field", {"field_id": f.id, "mission_type": mt})
        return list(wanted.values())


@lru_cache(maxsize=4)
def _cached_plans(root: str, dem: str) -> tuple[PlannedPath, ...]:
    """Plans are the slow part (seconds): an import of many files, or many imports, plan once."""
    from uavsim.terrain import open_dem

    return tuple(ContextModel(Scenario.load(root), default_rules(), open_dem(dem))._plan_all())
