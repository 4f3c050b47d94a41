"""The campaign simulator: a SimPy discrete-event engine that replays the sandbox year (issue 4).

``run_campaign(scenario, seed=..., terrain=None, store=None) -> CampaignResult`` runs one replication;
``uavsim.sim.replicate.replicate`` runs many in worker processes. Importing this package does nothing
observable; the heavy modules load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uavsim.sim.campaign import CampaignResult, run_campaign

__all__ = ["CampaignResult", "run_campaign"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from uavsim.sim import campaign

        return getattr(campaign, name)
    raise AttributeError(name)
