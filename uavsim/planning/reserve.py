"""Battery reserve: at landing, and for a return home from the end of every leg against the wind.

"Home" for the return is the launch point or the planned landing point, whichever costs less (a one-way
delivery may divert forward to its destination). The return flies straight at the height it is at and descends
there, with what the aircraft arrived with (a release planned at that waypoint may fail): the energy a
return-to-launch needs at least.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from uavsim import geo
from uavsim.aircraft import JOULES_PER_WH, power_w
from uavsim.planning.profile import fly

if TYPE_CHECKING:
    from uavsim.aircraft import AircraftClass
    from uavsim.planning.assessed import Flight
    from uavsim.planning.conditions import Wind
    from uavsim.planning.profile import Flown

MAX_RETURN_CHECKS = 300  # waypoints examined along a long flight (evenly spread, the worst kept)


def reserve_reasons(ac: AircraftClass, flight: Flight, flown: Flown, mass, wind: Wind, reserve_frac: float,
                    labels: list[str], reserve_pct: float) -> list[str]:
    energy = flown.energy_wh
    if not np.isfinite(energy):
        return ["energy and time unknown: waypoint altitudes depend on unknown terrain"]
    if reserve_pct < 100.0 * reserve_frac:
        why = ""
        if ac.kind == "vtol" and flown.time_s > 0:  # say why: a VTOL that must follow steep terrain hovers
            slow = flown.leg_airspeed_mps < ac.transition_mps
            why = (f" (in hover mode for {np.sum(flown.leg_t_s[slow]) / flown.time_s:.0%} of the flight time, "
                   f"using {np.sum(flown.leg_wh[slow]):.0f} Wh: the terrain is steeper than it climbs on its wing)")
        return [f"energy {energy:.0f} Wh leaves {reserve_pct:.1f} % of the {ac.battery_wh:.0f} Wh battery at "
                f"landing, below the {100 * reserve_frac:.0f} % reserve{why}"]
    bad = first_unreturnable_leg(ac, flight, flown, mass, wind, reserve_frac)
    if bad is None:
        return []
    i, need, used = bad
    return [f"return home from the end of leg {labels[i - 1]} -> {labels[i]} needs {need:.0f} Wh against the wind "
            f"({wind.describe()}) after {used:.0f} Wh used: it would land below the {100 * reserve_frac:.0f} % "
            "reserve"]


def _return_wh(ac: AircraftClass, here: np.ndarray, home: np.ndarray, mass: float, wind: Wind, crs: str) -> float:
    if float(geo.geodesic_distance(here[0], here[1], home[0], home[1])) < 1.0:
        path = np.array([here, home])
    else:
        path = np.array([here, [home[0], home[1], here[2]], home])
    return fly(ac, path, mass, None, wind, None, None, crs).energy_wh


def first_unreturnable_leg(ac: AircraftClass, flight: Flight, flown: Flown, mass, wind: Wind, reserve_frac: float
                           ) -> tuple[int, float, float] | None:
    """(waypoint index, return Wh, Wh used) of the first waypoint from which no return home keeps the reserve."""
    wp = np.asarray(flight.waypoints, float)
    n = len(wp)
    budget = ac.battery_wh * (1.0 - reserve_frac)
    hold = np.zeros(n) if flight.hold_s is None else np.asarray(flight.hold_s, float)
    leg_mass = np.broadcast_to(np.asarray(mass, float), (n - 1,))
    hold_wh = np.array([power_w(ac, float(leg_mass[min(max(i - 1, 0), n - 2)]), 0.0, 0.0, wp[i, 2]) * hold[i]
                        / JOULES_PER_WH if hold[i] > 0 else 0.0 for i in range(n)])
    used = np.concatenate([[0.0], np.cumsum(flown.leg_wh)]) + np.cumsum(hold_wh)
    ends = [wp[0], wp[-1]]
    on_ground = flight.on_ground if flight.on_ground is not None else np.zeros(n, bool)
    idx = [i for i in range(1, n - 1) if not on_ground[i]]
    if len(idx) > MAX_RETURN_CHECKS:
        idx = [idx[k] for k in np.linspace(0, len(idx) - 1, MAX_RETURN_CHECKS).astype(int)]
    for i in idx:
        need = min(_return_wh(ac, wp[i], e, leg_mass[i - 1], wind, flight.crs) for e in ends)
        if used[i] + need > budget + 1e-6:
            return i, need, float(used[i])
    return None
