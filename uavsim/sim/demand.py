"""Demand: medical requests (Poisson per station per day, any time of the operating window) and the farm and
survey sorties of the crop calendars (Poisson per day inside each calendar window).

Arrivals are drawn up front from one explicit Generator, in a fixed order (day, then demand entry), so that a
seed fixes them whatever the engine does later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from uavsim.sim.config import DAY_S, CalendarDemand, Campaign

PRIORITY_MEDICAL, PRIORITY_FARM = 0, 1


@dataclass(frozen=True)
class Request:
    t_s: float  # seconds after local midnight of the campaign's first day
    demand: str  # medical route id or calendar id
    key: str  # template key
    medical: bool


def in_window(d: date, cd: CalendarDemand) -> bool:
    md = f"{d.month:02d}-{d.day:02d}"  # "MM-DD" compares in calendar order (strftime is slow here)
    for a, b in cd.windows:
        if len(a) == 10:  # absolute dates
            if date.fromisoformat(a) <= d <= date.fromisoformat(b):
                return True
        elif (a <= md <= b) if a <= b else (md >= a or md <= b):  # a window may wrap over the new year
            return True
    return False


def template_key(scenario, c: CalendarDemand) -> str:
    if c.route is not None:
        return f"route:{c.route}:{c.aircraft}"
    return f"field:{c.field}:{c.mission_type}:{c.aircraft}"


def draw_requests(campaign: Campaign, scenario, rng: np.random.Generator, days: int | None = None,
                  farm_start_s: dict[str, float] | None = None) -> list[Request]:
    """All requests of the period, sorted by time (ties keep the draw order).

    ``farm_start_s`` gives, per calendar id, the local second of the day at which that day's sorties are
    released (the start of the serving base's shift); default the daylight start.
    """
    n_days = campaign.days if days is None else min(days, campaign.days)
    d0, d1 = campaign.daylight_s
    out: list[Request] = []
    med_keys = [(m, f"route:{m.route}:{scenario.routes[m.route].aircraft}") for m in campaign.medical]
    cal_keys = [(c, template_key(scenario, c)) for c in campaign.calendar]
    for i in range(n_days):
        day = campaign.start + timedelta(days=i)
        for m, key in med_keys:
            k = int(rng.poisson(m.per_day))
            for t in np.sort(rng.uniform(d0, d1, k)):
                out.append(Request(i * DAY_S + float(t), m.route, key, True))
        for c, key in cal_keys:
            k = int(rng.poisson(c.per_day)) if in_window(day, c) else 0
            t0 = (farm_start_s or {}).get(c.id, d0)
            out.extend(Request(i * DAY_S + t0, c.id, key, False) for _ in range(k))
    out.sort(key=lambda r: r.t_s)  # stable: same-time requests keep the draw order
    return out
