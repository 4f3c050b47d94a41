"""The SimPy campaign engine: aircraft, crews, launch pads, battery packs and chargers, spray-tank refills,
weather and demand as processes and resources.

- Crews are a ``PreemptiveResource`` per base: a medical request (priority 0, preempt) takes a crew from a
  farm sortie (priority 1). A farm sortie pre-empted before launch waits and tries again; one pre-empted in
  the air is recalled (MISSION_ABORTED, return to launch) and flown again later.
- Each aircraft is a process that takes requests from its (base, class) queue, waits for its operating
  window and flyable weather, then takes a crew, a charged pack, a refill, a pad, and flies.
- Ties are broken by SimPy's own (time, priority, sequence) order, never by ids or hashes.
- Issue 15 dynamics (``uavsim.sim.dynamics``): each replication draws its hazard rates from their uncertainty
  and a frailty per airframe; rain days multiply the weather hazard; a sortie launches only if its energy at
  the launch hour's wind fits the battery, and is recalled when the wind passes the aircraft's limit (or
  would eat into the reserve) during the flight; a crashed or off-site-landed airframe is out of service for
  its repair time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from uavsim.sim.config import DAY_S, HOUR_S, Campaign
from uavsim.sim.demand import PRIORITY_FARM, PRIORITY_MEDICAL, Request, draw_requests
from uavsim.sim.dynamics import Dynamics, draw_world, load_dynamics, unit_rates, wind_energy_factor
from uavsim.sim.hazards import Failure, Replay, draw_failure, nominal, replay
from uavsim.sim.missions import Template
from uavsim.sim.weather import WeatherSeries, draw_weather, next_flyable_s

PAD_S = 60.0  # a launch pad is held for take-off clearing (assumption)
MIN_CHARGE_FRAC = 0.2  # a pack returns to the charger for at least this share of a full charge (assumption)


@dataclass
class Unit:
    id: str  # e.g. "sprayer-t40#2"
    cls: str
    base: str
    packs: simpy.Container
    charge_s: float
    turnaround_s: float
    refill_s: float
    down_until_s: float = 0.0  # out of service (repair or replacement) until this time


@dataclass
class Job:
    request: Request
    template: Template
    seq: int


@dataclass
class FlightLog:
    """What the engine records of one flight; the Flight record is built from it after the run."""

    launch_s: float
    unit: str
    demand: str
    template: Template
    replay: Replay
    failure: Failure | None
    wait_s: float
    rain_day: bool = False  # a common-cause day for the in-flight weather hazard


@dataclass
class Tallies:
    groundings: dict[str, int] = field(default_factory=lambda: {"wind": 0, "heavy_rain": 0, "fog": 0})
    grounded_hours: dict[str, dict[str, int]] = field(default_factory=dict)
    preempted_before_launch: int = 0
    recalled_in_flight: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    unflown: int = 0
    medical_wait_s: list[float] = field(default_factory=list)
    wind_recalls: int = 0
    wind_energy_holds: int = 0  # launches put off because the sortie's energy at that hour's wind did not fit
    out_of_service_days: float = 0.0


class CampaignModel:
    def __init__(self, campaign: Campaign, scenario: Any, templates: dict[str, list[Template]],
                 seed: np.random.SeedSequence, rules: Any, terrain: Any, days: int | None = None,
                 dynamics: Dynamics | None = None) -> None:
        self.c, self.sc, self.templates, self.rules, self.terrain = campaign, scenario, templates, rules, terrain
        self.days = campaign.days if days is None else min(days, campaign.days)
        self.dyn = dynamics if dynamics is not None else load_dynamics(campaign.path)
        self.reserve_frac = float(rules.threshold("battery_reserve_frac"))
        ss_weather, ss_demand, ss_hazard, ss_world = seed.spawn(4)
        self.weather: WeatherSeries = draw_weather(campaign.weather, campaign.start, self.days,
                                                   np.random.default_rng(ss_weather))
        self.rng_hazard = np.random.default_rng(ss_hazard)
        self.env = simpy.Environment()
        env = self.env
        self.crews = {b.id: simpy.PreemptiveResource(env, b.crews) for b in campaign.bases.values()}
        self.pads = {b.id: simpy.Resource(env, b.pads) for b in campaign.bases.values()}
        # Chargers serve packs first come, first served: each base keeps when each charger is next free, so a
        # pack's return is one timeout (the same schedule a FIFO simpy.Resource would give, fewer events).
        self.charger_free = {b.id: [0.0] * b.chargers for b in campaign.bases.values()}
        self.refills = {b.id: simpy.Resource(env, max(b.refill_stations, 1)) for b in campaign.bases.values()}
        self.window = {b.id: (max(campaign.daylight_s[0], b.shift_s[0]), min(campaign.daylight_s[1], b.shift_s[1]))
                       for b in campaign.bases.values()}
        self.units: list[Unit] = []
        self.queues: dict[tuple[str, str], simpy.PriorityStore] = {}
        for f, uid in zip(_fleet_entries(campaign), unit_ids(campaign), strict=True):
            self.queues.setdefault((f.base, f.aircraft), simpy.PriorityStore(env))
            self.units.append(Unit(uid, f.aircraft, f.base, simpy.Container(env, f.batteries, init=f.batteries),
                                   f.charge_s, f.turnaround_s, f.refill_s))
        # A pad or refill station that can never be short (at least one per aircraft) cannot delay anyone:
        # its hold is folded into the preparation timeout.
        n_at = {b: sum(u.base == b for u in self.units) for b in campaign.bases}
        n_fill = {b: sum(u.base == b and u.refill_s > 0 for u in self.units) for b in campaign.bases}
        self.pads_bind = {b.id: b.pads < n_at[b.id] for b in campaign.bases.values()}
        self.refills_bind = {b.id: b.refill_stations < n_fill[b.id] for b in campaign.bases.values()}
        self.world = draw_world(campaign.hazards, [u.id for u in self.units], self.dyn,
                                np.random.default_rng(ss_world))
        self.wind_limit = {u.cls: self._wind_limit(u.cls) for u in self.units}
        self.flyable = {cls: self.weather.flyable(lim) for cls, lim in self.wind_limit.items()}
        self.route_base = {}
        for key, tpls in templates.items():
            self.route_base[key] = self._nearest_base(tpls[0].launch, tpls[0].aircraft)
        farm_start = {cd.id: self.window[self.route_base[_key(cd)]][0] for cd in campaign.calendar}
        self.requests = draw_requests(campaign, scenario, np.random.default_rng(ss_demand), self.days, farm_start)
        self.t = Tallies()
        self.logs: list[FlightLog] = []
        self._cycle: dict[str, int] = {}
        self._seq = 0

    # -- set-up helpers ------------------------------------------------------------------------------------
    def _wind_limit(self, cls: str) -> float:
        for tpls in self.templates.values():
            if tpls[0].aircraft == cls:
                return tpls[0].wind_limit_mps
        return 0.0  # a class with no planned mission has nothing to fly

    def _nearest_base(self, launch: tuple[float, float], cls: str) -> str:
        best, best_d = None, math.inf
        for b in self.c.bases.values():
            if not any(f.base == b.id and f.aircraft == cls for f in self.c.fleet):
                continue
            s = self.sc.site(b.site)
            d = math.hypot(s.lat - launch[0], (s.lon - launch[1]) * math.cos(math.radians(s.lat)))
            if d < best_d:
                best, best_d = b.id, d
        if best is None:
            from uavsim.errors import ScenarioError

            raise ScenarioError(self.c.path, f"no [[fleet]] entry of aircraft class '{cls}' at any base")
        return best

    # -- processes -----------------------------------------------------------------------------------------
    def run(self) -> None:
        self.env.process(self._demand())
        self.env.process(self._weather())
        for u in self.units:
            self.env.process(self._aircraft(u))
        self.env.run(until=self.days * DAY_S)
        self.t.unflown += sum(len(q.items) for q in self.queues.values())

    def _weather(self):
        """Daily weather tick: tallies the hours each class is grounded inside the daylight window, by cause."""
        d0, d1 = self.c.daylight_s
        hours = np.arange(24) * HOUR_S
        day_hours = np.flatnonzero((hours >= d0) & (hours < d1))
        w = self.weather
        for day in range(self.days):
            h = day * 24 + day_hours
            for cls, ok in self.flyable.items():
                per = self.t.grounded_hours.setdefault(cls, {"wind": 0, "heavy_rain": 0, "fog": 0})
                down = h[~ok[h]]
                rain = w.heavy_rain[down]
                fog = w.fog[down] & ~rain
                per["heavy_rain"] += int(rain.sum())
                per["fog"] += int(fog.sum())
                per["wind"] += int((~rain & ~fog).sum())
            yield self.env.timeout(DAY_S)

    def _demand(self):
        for r in self.requests:
            if r.t_s > self.env.now:
                yield self.env.timeout(r.t_s - self.env.now)
            tpls = self.templates[r.key]
            i = self._cycle.get(r.key, 0)
            self._cycle[r.key] = i + 1
            tpl = tpls[i % len(tpls)]
            if not tpl.feasible:
                self.t.rejected[r.demand] = self.t.rejected.get(r.demand, 0) + 1
                continue
            self._seq += 1
            prio = PRIORITY_MEDICAL if r.medical else PRIORITY_FARM
            q = self.queues[(self.route_base[r.key], tpl.aircraft)]
            yield q.put(simpy.PriorityItem((prio, self._seq), Job(r, tpl, self._seq)))

    def _aircraft(self, u: Unit):
        q = self.queues[(u.base, u.cls)]
        while True:
            if u.down_until_s > self.env.now:
                yield self.env.timeout(u.down_until_s - self.env.now)
            item = yield q.get()
            yield from self._serve(u, item.item)

    def _next_launch(self, u: Unit, duration_s: float, t: float) -> tuple[float | None, str | None]:
        """Earliest launch time >= t inside the base's window and in flyable weather, and the first weather
        reason that delayed it."""
        w0, w1 = self.window[u.base]
        ok = self.flyable[u.cls]
        reason = None
        end = self.days * DAY_S
        if w1 - duration_s < w0:
            return None, None
        while t < end:
            day = math.floor(t / DAY_S)
            tod = t - day * DAY_S
            if tod < w0:
                t = day * DAY_S + w0
                continue
            if tod > w1 - duration_s:
                t = (day + 1) * DAY_S + w0
                continue
            h = self.weather.hour(t)
            if ok[h]:
                return t, reason
            reason = reason or self.weather.grounded_by(h, self.wind_limit[u.cls])
            nxt = next_flyable_s(self.weather, ok, t)
            if nxt is None:
                return None, reason
            t = nxt
        return None, reason

    def _serve(self, u: Unit, job: Job):
        env, tpl, medical = self.env, job.template, job.request.medical
        crews = self.crews[u.base]
        while True:
            t, reason = self._next_launch(u, tpl.duration_s, env.now)
            if reason is not None:
                self.t.groundings[reason] += 1
            if t is None:
                self.t.unflown += 1
                return
            if t > env.now:
                yield env.timeout(t - env.now)
            hold = self._wind_hold(tpl, env.now)
            if hold is not None:  # planned for the hour's wind, the sortie does not fit the battery: wait
                self.t.wind_energy_holds += 1
                yield env.timeout(hold - env.now)
                continue
            req = crews.request(priority=PRIORITY_MEDICAL if medical else PRIORITY_FARM, preempt=medical)
            phase, launch, pack_get, rp, failure = "crew", 0.0, None, None, None
            try:
                yield req
                if self._next_launch(u, tpl.duration_s, env.now)[0] != env.now:
                    crews.release(req)  # the wait for a crew ran past the window or into bad weather
                    continue
                phase = "prep"
                pack_get = u.packs.get(1)
                yield pack_get
                prep_s = u.turnaround_s
                if u.refill_s > 0 and self.refills_bind[u.base]:
                    with self.refills[u.base].request() as r:
                        yield r
                        yield env.timeout(u.refill_s)
                else:
                    prep_s += u.refill_s
                if self.pads_bind[u.base]:
                    yield env.timeout(prep_s)
                    with self.pads[u.base].request() as p:
                        yield p
                        yield env.timeout(PAD_S)
                else:
                    yield env.timeout(prep_s + PAD_S)
                phase, launch = "air", env.now
                failure, factor = self._fly(u, tpl)
                rp = self._replay(tpl, failure, factor)
                yield env.timeout(rp.duration_s)
            except simpy.Interrupt:
                crews.release(req)
                if phase != "air":
                    if pack_get is not None:
                        if pack_get.triggered:
                            u.packs.put(1)
                        else:
                            pack_get.cancel()
                    self.t.preempted_before_launch += 1
                    continue
                elapsed = env.now - launch
                if failure is not None and failure.t_s <= elapsed:  # already in its contingency: let it end
                    yield env.timeout(launch + rp.duration_s - env.now)  # type: ignore[union-attr]
                    self._record(u, job, launch, rp, failure)  # type: ignore[arg-type]
                    return
                failure = Failure("recall", elapsed, "abort")
                rp = replay(tpl, failure, self.rules)
                yield env.timeout(max(launch + rp.duration_s - env.now, 0.0))
                self._record(u, job, launch, rp, failure)
                self.t.recalled_in_flight += 1
                continue  # the sortie is flown again
            crews.release(req)
            self._record(u, job, launch, rp, failure)
            if failure is not None and failure.action == "abort":  # recalled for the wind: fly it again
                self.t.wind_recalls += 1
                continue
            return

    # -- dynamics of one flight (issue 15) -----------------------------------------------------------------
    def _usable_wh(self, tpl: Template, reserve_frac: float) -> float:
        """Energy a sortie may use: down to the reserve, or its own plan if the planner accepted more."""
        return max(tpl.battery_wh * (1.0 - reserve_frac), tpl.energy_wh)

    def _wind_hold(self, tpl: Template, t_s: float) -> float | None:
        """The next hour start if the sortie's energy at this hour's wind does not fit, else None."""
        k = self.dyn.wind_energy_k
        if k <= 0.0 or not tpl.battery_wh > 0:
            return None
        w = float(self.weather.wind_mps[self.weather.hour(t_s)])
        if tpl.energy_wh * float(wind_energy_factor(w, tpl.cruise_mps, k)) <= self._usable_wh(tpl, self.reserve_frac):
            return None
        nxt = (self.weather.hour(t_s) + 1) * HOUR_S
        return nxt if nxt < self.days * DAY_S else None

    def _fly(self, u: Unit, tpl: Template) -> tuple[Failure | None, float]:
        """The first hazard failure or wind recall of this flight, and its energy factor in the wind met."""
        now = self.env.now
        base, shadow = unit_rates(self.c.hazards, self.world, u.id, self.weather.is_rain_day(now), self.dyn)
        failure = draw_failure(tpl, self.c.hazards, self.rng_hazard, base, shadow, self.dyn.link_continue)
        starts, winds = self.weather.winds_over(now, tpl.duration_s)
        f = wind_energy_factor(winds, tpl.cruise_mps, self.dyn.wind_energy_k)
        spans = np.maximum(np.append(starts[1:], tpl.duration_s) - starts, 0.0)
        factor = float(np.sum(spans * f) / tpl.duration_s) if tpl.duration_s > 0 else 1.0
        power = tpl.energy_wh / tpl.duration_s if tpl.duration_s > 0 else 0.0
        used_before = np.concatenate([[0.0], np.cumsum(spans * f * power)[:-1]])
        predicted = used_before + (tpl.duration_s - starts) * f * power
        limit_wh = tpl.battery_wh * (1.0 - self.reserve_frac / 2.0)  # would land with under half its reserve
        recall = None
        for j in range(1, starts.size):  # the wind changes at each hour start inside the flight
            cause = "wind" if winds[j] > self.wind_limit[u.cls] else (
                "wind_energy" if predicted[j] > max(limit_wh, tpl.energy_wh) else "")
            if cause:
                recall = Failure("recall", float(starts[j]), "abort", cause)
                break
        if recall is not None and (failure is None or recall.t_s < failure.t_s):
            failure = recall
        return failure, factor

    def _replay(self, tpl: Template, failure: Failure | None, factor: float) -> Replay:
        if failure is None:
            rp = nominal(tpl)
        else:
            rp = replay(tpl, failure, self.rules, failure.cause or "")
        if factor != 1.0:
            rp.energy_wh *= factor
            if tpl.battery_wh > 0 and not (failure is not None and failure.mode == "battery" and failure.action == "crash"):
                rp.battery_end_pct = 100.0 * (1.0 - rp.energy_wh / tpl.battery_wh)
        return rp

    def _record(self, u: Unit, job: Job, launch: float, rp: Replay, failure: Failure | None) -> None:
        repair = self.dyn.repair_s(failure.action) if failure is not None else 0.0
        if repair > 0.0:  # crashed or landed off site: out of service (repair or replacement)
            u.down_until_s = max(u.down_until_s, self.env.now + repair)
            self.t.out_of_service_days += repair / DAY_S
        self._charge(u, rp.energy_wh / job.template.battery_wh if job.template.battery_wh else 1.0)
        wait = launch - job.request.t_s
        if job.request.medical and (failure is None or failure.action != "abort"):
            self.t.medical_wait_s.append(wait)
        self.logs.append(FlightLog(launch, u.id, job.request.demand, job.template, rp, failure, wait,
                                   self.weather.is_rain_day(launch)))

    def _charge(self, u: Unit, used_frac: float) -> None:
        free = self.charger_free[u.base]
        k = int(np.argmin(free))  # the first charger free (lowest index on ties, as a FIFO resource)
        start = max(self.env.now, free[k])
        free[k] = start + u.charge_s * min(1.0, max(MIN_CHARGE_FRAC, used_frac))
        done = self.env.timeout(free[k] - self.env.now)
        done.callbacks.append(lambda _ev: u.packs.put(1))


def _fleet_entries(campaign: Campaign) -> list[Any]:
    """The fleet entry of each airframe, in fleet order."""
    return [f for f in campaign.fleet for _ in range(f.count)]


def unit_ids(campaign: Campaign) -> list[str]:
    """Airframe ids in fleet order: "<class>#<k>", k counting within the class across bases."""
    seen: dict[str, int] = {}
    out = []
    for f in _fleet_entries(campaign):
        seen[f.aircraft] = seen.get(f.aircraft, 0) + 1
        out.append(f"{f.aircraft}#{seen[f.aircraft]}")
    return out


def _key(cd: Any) -> str:
    return f"route:{cd.route}:{cd.aircraft}" if cd.route is not None else f"field:{cd.field}:{cd.mission_type}:{cd.aircraft}"
