"""The campaign simulator: a SimPy discrete-event engine that replays the sandbox year.

``plan_campaign(scenario, terrain)`` plans the flight templates once (a :class:`CampaignPlan`);
``run_campaign(plan, seed)`` runs one replication of it; ``uavsim.sim.replicate.replicate`` runs many in
worker processes; ``uavsim.sim.simulation.simulate`` is the whole workflow behind ``uavsim simulate`` and the
demo. Importing this package does nothing observable; the heavy modules load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uavsim.sim.campaign import CampaignPlan, CampaignResult, plan_campaign, run_campaign
    from uavsim.sim.simulation import simulate

__all__ = ["CampaignPlan", "CampaignResult", "plan_campaign", "run_campaign", "simulate"]


def __getattr__(name: str) -> Any:
    if name == "simulate":
        from uavsim.sim import simulation as module

        return module.simulate
    if name in __all__:
        from uavsim.sim import campaign

        return getattr(campaign, name)
    raise AttributeError(name)
