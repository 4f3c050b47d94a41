"""Every route and field of a scenario, planned or rejected with its reasons."""

from __future__ import annotations

from typing import TYPE_CHECKING

from uavsim.errors import UavSimError
from uavsim.planning.fields import plan_field
from uavsim.planning.plan import Plan, rejected
from uavsim.planning.routes import plan_route

if TYPE_CHECKING:
    from uavsim.scenario import Scenario
    from uavsim.terrain import Terrain


def plan_network(scenario: Scenario, terrain: Terrain | None = None) -> list[Plan]:
    """Every route and every field of a scenario, each planned or rejected with reasons."""
    plans: list[Plan] = []
    for r in scenario.routes.values():
        try:
            p = plan_route(scenario, r.origin, r.destination, r.aircraft, terrain, mission_type=r.mission_type)
        except UavSimError as exc:
            p = rejected("route", r.mission_type, r.origin, r.aircraft, str(exc))
        p.extra.setdefault("route_id", r.id)
        plans.append(p)
    for f in scenario.fields.values():
        try:
            p = plan_field(scenario, f.id, terrain=terrain)
        except UavSimError as exc:
            p = rejected("field", f.mission_types[0], f.site, "", str(exc))
        p.extra.setdefault("field_id", f.id)
        plans.append(p)
    return plans
