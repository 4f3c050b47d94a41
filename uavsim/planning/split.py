"""The sortie split of a field: where each sortie ends, by tank and battery, from a quick energy estimate.

The estimate flies each piece and the transits as :func:`uavsim.planning.profile.fly` does: the wind in its
real direction (head, tail and cross components), no credit below still-air power, a stop and turn at each
lane end. The crew loads what the sortie will spray: the largest load the battery can carry out and spray
(a heavier load costs more to carry, so it is searched).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from uavsim.aircraft import JOULES_PER_WH, LIQUID_KG_PER_L, AircraftClass, power_w
from uavsim.errors import PlanningError
from uavsim.planning.conditions import Wind
from uavsim.planning.coverage import M2_PER_HA, Coverage, Piece
from uavsim.planning.profile import ground_speed

ESTIMATE_MARGIN = 1.08  # the sortie split allows this much more energy than its quick estimate (profile, wind)
TURN_S = 4.0  # a working multirotor stops and turns at each lane end (assumption; waypoints without splines)
LOAD_SEARCH_STEPS = 20


def turns(pieces: list[Piece]) -> np.ndarray:
    """True for each piece that starts in a new direction (the aircraft stops and turns before it)."""
    out = np.zeros(len(pieces), bool)
    for k in range(1, len(pieces)):
        a, b = pieces[k - 1], pieces[k]
        out[k] = abs((b.x1 - b.x0) * (a.y1 - a.y0) - (b.y1 - b.y0) * (a.x1 - a.x0)) > 1e-6 * a.length * b.length
    return out


@dataclass
class _Estimate:
    ac: AircraftClass
    pieces: list[Piece]
    amount: np.ndarray  # what each piece applies
    turn: np.ndarray
    launch: tuple[float, float]
    work_speed: float
    alt_msl: float
    vert_s: float  # take-off and landing, into and out of the work height
    budget_wh: float
    wind_en: tuple[float, float]

    def wh_per_m(self, mass: float, v: float, dx: float, dy: float) -> float:
        """Energy per metre flown along (dx, dy) in the wind."""
        d = math.hypot(dx, dy)
        ue, un = (dx / d, dy / d) if d > 0 else (1.0, 0.0)
        we, wn = self.wind_en
        g = ground_speed(self.ac, v, we, wn, ue, un)
        if not g > 0.1:
            return math.inf
        air = math.hypot(g * ue - we, g * un - wn)
        p = max(power_w(self.ac, mass, air, 0.0, self.alt_msl), power_w(self.ac, mass, g, 0.0, self.alt_msl))
        return p / g / JOULES_PER_WH

    def hover_wh(self, mass: float, seconds: float) -> float:
        return power_w(self.ac, mass, 0.0, 0.0, self.alt_msl) * seconds / JOULES_PER_WH

    def transit_wh(self, a: tuple[float, float], b: tuple[float, float], mass: float) -> float:
        return (self.wh_per_m(mass, self.ac.cruise_mps, b[0] - a[0], b[1] - a[1]) * math.dist(a, b)
                + self.hover_wh(mass, self.vert_s))

    def reach(self, i: int, load: float) -> tuple[int, bool]:
        """End piece of a sortie that starts at piece i with ``load`` in the tank, and whether the battery
        (not the tank or the field's end) ended it."""
        ac, pieces = self.ac, self.pieces
        left = load
        e = self.transit_wh(self.launch, (pieces[i].x0, pieces[i].y0), ac.operating_kg + load * LIQUID_KG_PER_L)
        for j in range(i, len(pieces)):
            p = pieces[j]
            if self.amount[j] > left + 1e-9:
                return j, False
            mass = ac.operating_kg + left * LIQUID_KG_PER_L
            e_p = self.wh_per_m(mass, self.work_speed, p.x1 - p.x0, p.y1 - p.y0) * p.length
            if self.turn[j] and j > i:
                e_p += self.hover_wh(mass, TURN_S)
            e_back = self.transit_wh((p.x1, p.y1), self.launch, mass - self.amount[j] * LIQUID_KG_PER_L)
            if e + e_p + e_back > self.budget_wh:
                return j, True
            e += e_p
            left -= self.amount[j]
        return len(pieces), False

    def best_load(self, i: int, hi_load: float) -> int:
        """End piece with the largest load the battery can carry out and spray (bisection on the load)."""
        j, battery = self.reach(i, hi_load)
        if not battery:
            return j
        lo_load, j_lo = 0.0, i
        for _ in range(LOAD_SEARCH_STEPS):
            mid = 0.5 * (lo_load + hi_load)
            jm, battery = self.reach(i, mid)
            if battery:
                hi_load = mid
            else:
                lo_load, j_lo = mid, jm
        return max(j, j_lo)


def split_sorties(cov: Coverage, ac: AircraftClass, launch: tuple[float, float], rate: float, work_speed: float,
                  work_agl: float, transit_agl: float, alt_msl: float, reserve_frac: float, wind: Wind | None = None
                  ) -> list[tuple[int, int, float]]:
    """Sorties as (first piece, end piece, amount) by tank and battery."""
    pieces = cov.pieces
    amount = np.array([p.new_m2 / M2_PER_HA * rate for p in pieces])
    est = _Estimate(ac, pieces, amount, turns(pieces), launch, work_speed, alt_msl,
                    2 * (transit_agl / ac.climb_mps + transit_agl / ac.descent_mps),
                    ac.battery_wh * (1.0 - reserve_frac) / ESTIMATE_MARGIN, (wind or Wind()).vector(work_agl))
    cap = ac.tank_l if rate > 0 else math.inf
    max_load = min(cap, (ac.max_takeoff_kg - ac.operating_kg) / LIQUID_KG_PER_L)
    out: list[tuple[int, int, float]] = []
    i = 0
    while i < len(pieces):
        if rate > 0:
            j = est.best_load(i, min(max_load, float(amount[i:].sum())))
        else:
            j = est.reach(i, 0.0)[0]
        if j == i:
            raise PlanningError(f"the {ac.id} cannot reach and work the field from its launch point on one "
                                f"battery with a {100 * reserve_frac:.0f} % reserve")
        out.append((i, j, float(amount[i:j].sum())))
        i = j
    return out
