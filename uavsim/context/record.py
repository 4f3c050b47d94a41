"""The context entries of a simulated flight: every field is what the simulator planned (no inference)."""

from __future__ import annotations

from typing import Any


def simulated_context(template: str, site: str | None, mission_type: str, aircraft_id: str | None) -> dict[str, Any]:
    """``context`` of a simulated flight: site, mission type and aircraft are the simulator's own."""
    ev = f"simulator template {template}"
    out: dict[str, Any] = {
        name: {"how": "simulated", "value": value, "rule": "the simulator flew this plan", "evidence": ev}
        for name, value in (("site", site), ("mission_type", mission_type), ("aircraft_id", aircraft_id))
    }
    out["pilot"] = {"how": "unknown", "value": None, "rule": "the simulator has no pilots", "evidence": ev}
    return out
