"""Mission planning and pre-flight checks: delivery routes, field coverage, mission files.

Every plan, planned here or read from an operator's file, goes through the same assessment
(:func:`uavsim.planning.check.assess`): terrain clearance, zones against the permits, the 120 m rule,
energy reserve (at landing and a return home from every leg), and radio line of sight. Altitudes are metres
above mean sea level (``alt_msl_m``). This face only re-exports.
"""

from uavsim.planning.check import check_mission
from uavsim.planning.conditions import Limits, Wind
from uavsim.planning.fields import plan_field
from uavsim.planning.network import plan_network
from uavsim.planning.plan import Plan, rejected
from uavsim.planning.routes import plan_route

__all__ = ["Limits", "Plan", "Wind", "check_mission", "plan_field", "plan_network", "plan_route", "rejected"]
