"""Calibrate the campaign's hazard rates from recorded flights (issue 15): a Gamma–Poisson update per hazard.

Each hazard h has a rate multiplier theta_h on the scenario's rates (base ``per_fh`` and, for the radio link,
``shadow_per_fh``). Its prior is Gamma(a0, a0) (mean 1) with ``a0 = per_fh * H``: the scenario's rate is
worth ``H`` flight hours of evidence (the radio link's shadow rate over ``[dynamics] rate_prior_shadow_frac`` of them) (``[dynamics] rate_prior_fh``, 1,000 h by default; see campaign.toml for
why). A record with ``k`` flights that show hazard h and ``E`` events expected at the scenario's rates over
its flight hours (shadowed hours weighted by the shadow rate) gives the posterior Gamma(a0 + k, a0 + E).
Posterior mean rate = per_fh * (a0 + k) / (a0 + E); the shape a0 + k is what the engine draws from.

Events count once per flight and hazard, and only at failure level (an observation is not a failure). The
exposure is each flight's time at risk: up to its first failure (then it is in its contingency), else all of it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from scipy.stats import gamma

from uavsim.errors import DataFileError, InputError
from uavsim.records import Flight
from uavsim.safety.stats import SECONDS_PER_HOUR, local_date
from uavsim.scenario import read_toml
from uavsim.sim.dynamics import Dynamics, with_rate_shapes

INTERVAL = 0.90  # equal-tailed credible interval of each posterior rate (lo, hi)

# Event kind -> campaign hazard. One table for sim and logs alike. Sources: the simulator raises these
# kinds for its hazards (uavsim.sim.hazards.MODE_EVENTS); the log detectors raise them from ArduPilot ERR
# subsystems (FAILSAFE_RADIO = ERR 5, FAILSAFE_BATT = 6, FAILSAFE_GPS = 7, FAILSAFE_GCS = 8, FAILSAFE_EKFINAV = 17,
# GPS glitch = 11, crash check = 12, EKF check = 16), PX4 failsafe flags and MAVLink STATUSTEXT
# (uavsim.logs.codes). Kinds without a hazard (zone, terrain, truncated log, CRASH itself) are not failure
# modes: they are outcomes or rule breaches, counted in ``unmapped``.
EVENT_HAZARD: dict[str, str] = {
    "MOTOR_FAILURE": "motor_esc",
    "FAILSAFE_BATTERY": "battery",
    "BATTERY_LOW": "battery",
    "GPS_DEGRADED": "gps",
    "FAILSAFE_GPS": "gps",
    "FAILSAFE_EKF": "gps",
    "EKF_VARIANCE": "gps",
    "LINK_LOSS": "radio_link",
    "FAILSAFE_RADIO": "radio_link",
    "FAILSAFE_GCS": "radio_link",
    "BIRD_STRIKE": "bird",
    "WEATHER": "weather",
}
FAILURE_LEVELS = ("fail", "crash")


@dataclass(frozen=True)
class RateFit:
    kind: str
    prior_per_fh: float
    prior_shadow_per_fh: float
    prior_shape: float
    events: int
    hours: float
    expected_events: float  # at the prior rates, over the record's (shadow-weighted) hours
    shape: float
    posterior_mean_per_fh: float
    posterior_shadow_per_fh: float
    lo: float
    hi: float

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "prior_per_fh": self.prior_per_fh, "posterior_mean_per_fh": self.posterior_mean_per_fh,
                "lo": self.lo, "hi": self.hi, "events": self.events, "hours": self.hours,
                "expected_events_at_prior": self.expected_events, "prior_shape": self.prior_shape,
                "posterior_shape": self.shape,
                "prior_shadow_per_fh": self.prior_shadow_per_fh, "posterior_shadow_per_fh": self.posterior_shadow_per_fh}


@dataclass(frozen=True)
class Calibration:
    flights: int
    flight_hours: float
    rates: tuple[RateFit, ...]
    prior_weight_fh: float
    source: str | None
    since: str | None
    store: str
    store_sha256: str
    unmapped: dict[str, int]
    by_class: dict[str, tuple[int, float, tuple[RateFit, ...]]] = field(default_factory=dict)  # class -> (n, h, fits)

    def to_dict(self) -> dict[str, Any]:
        by_class = [{"aircraft_class": c, "flights": n, "flight_hours": h, "rates": [r.to_dict() for r in fits]}
                    for c, (n, h, fits) in sorted(self.by_class.items())]
        return {"flights": self.flights, "flight_hours": self.flight_hours, "rates": [r.to_dict() for r in self.rates],
                "by_class": by_class,
                "prior_weight_fh": self.prior_weight_fh, "source": self.source, "since": self.since,
                "store": self.store, "store_sha256": self.store_sha256, "interval": INTERVAL,
                "unmapped_events": dict(sorted(self.unmapped.items()))}


def aircraft_class(f: Flight) -> str:
    """A flight's aircraft class: ``extra["aircraft_class"]`` (set by the importer from the flight's context),
    else the simulator's "<class>#<k>" airframe id, else "unknown"."""
    c = f.extra.get("aircraft_class")
    if c:
        return str(c)
    a = f.aircraft_id or ""
    return a.split("#", 1)[0] if "#" in a else "unknown"


def flight_hazards(f: Flight) -> set[str]:
    """The hazards a flight's failure-level events show (each at most once)."""
    return {EVENT_HAZARD[e.kind] for e in f.events if e.kind in EVENT_HAZARD and (e.level or "fail") in FAILURE_LEVELS}


def at_risk_s(f: Flight) -> float:
    """Seconds a flight was at risk of a first failure: until its first failure-level hazard event (then the
    flight is in its contingency: time to first failure, as in survival analysis), else its whole duration."""
    dur = max(f.duration_s or 0.0, 0.0)
    first = [e.t_s for e in f.events if e.kind in EVENT_HAZARD and (e.level or "fail") in FAILURE_LEVELS
             and e.t_s is not None and e.t_s >= 0]
    return min([dur, *first])


def select_since(flights: list[Flight], since: date | None, until: date | None = None,
                 utc_offset_h: float = 7.0) -> list[Flight]:
    """Flights whose local date lies in [since, until] (either end open when None); undated flights are kept
    only without bounds (a flight of unknown date cannot be placed before or after a date)."""
    if since is None and until is None:
        return list(flights)
    out = []
    for f in flights:
        d = local_date(f.start_utc, utc_offset_h)
        if d is None:
            continue
        day = date.fromisoformat(d)
        if (since is None or day >= since) and (until is None or day <= until):
            out.append(f)
    return out


def fit_rates(flights: list[Flight], hazards: tuple[Any, ...], prior_weight_fh: float,
              dynamics: Dynamics | None = None) -> tuple[tuple[RateFit, ...], dict[str, int]]:
    """The Gamma–Poisson update of every hazard from ``flights`` (see the module docstring)."""
    if not prior_weight_fh > 0:
        raise InputError(f"the prior weight must be positive flight hours, got {prior_weight_fh}")
    at_risk = [at_risk_s(f) for f in flights]
    hours = sum(at_risk) / SECONDS_PER_HOUR
    shadow_hours = sum(t * float(f.extra.get("shadowed_fraction", 0.0) or 0.0)
                       for t, f in zip(at_risk, flights, strict=True)) / SECONDS_PER_HOUR
    counts = {h.mode: 0 for h in hazards}
    unmapped: dict[str, int] = {}
    for f in flights:
        for mode in flight_hazards(f):
            counts[mode] = counts.get(mode, 0) + 1
        for e in f.events:
            if e.kind not in EVENT_HAZARD and (e.level or "fail") in FAILURE_LEVELS:
                unmapped[e.kind] = unmapped.get(e.kind, 0) + 1
    fits = []
    a_lo, a_hi = (1.0 - INTERVAL) / 2.0, (1.0 + INTERVAL) / 2.0
    for h in hazards:
        a0 = (dynamics or Dynamics()).prior_shape(h.per_fh, h.shadow_per_fh, prior_weight_fh)
        expected = h.per_fh * hours + h.shadow_per_fh * shadow_hours
        k = counts.get(h.mode, 0)
        shape, rate = a0 + k, a0 + expected  # of the multiplier theta
        mean = shape / rate if rate > 0 else 1.0
        lo, hi = (float(gamma.ppf(q, shape, scale=1.0 / rate)) for q in (a_lo, a_hi)) if shape > 0 else (0.0, 0.0)
        fits.append(RateFit(h.mode, h.per_fh, h.shadow_per_fh, a0, k, hours, expected, shape, h.per_fh * mean,
                            h.shadow_per_fh * mean, h.per_fh * lo, h.per_fh * hi))
    return tuple(fits), unmapped


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def calibrate(flights: list[Flight], hazards: tuple[Any, ...], prior_weight_fh: float, store: str = "",
              store_sha256: str = "", source: str | None = None, since: date | None = None,
              dynamics: Dynamics | None = None) -> Calibration:
    fl = select_since(flights, since)
    fits, unmapped = fit_rates(fl, hazards, prior_weight_fh, dynamics)
    hours = sum(max(f.duration_s or 0.0, 0.0) for f in fl) / SECONDS_PER_HOUR
    groups: dict[str, list[Flight]] = {}
    for f in fl:
        groups.setdefault(aircraft_class(f), []).append(f)
    by_class = {c: (len(g), sum(max(f.duration_s or 0.0, 0.0) for f in g) / SECONDS_PER_HOUR,
                    fit_rates(g, hazards, prior_weight_fh, dynamics)[0]) for c, g in groups.items()}
    return Calibration(len(fl), hours, fits, prior_weight_fh, source, since.isoformat() if since else None, store,
                       store_sha256, unmapped, by_class)


# -- the overlay file --------------------------------------------------------------------------------------
def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def overlay_text(cal: Calibration) -> str:
    """The calibration overlay TOML that ``simulate`` and ``forecast`` accept with ``--calibration``."""
    lines = ["# uavsim calibration overlay (issue 15): posterior hazard rates from recorded flights.",
             "# Replaces each [hazards.<mode>] rate of campaign.toml; rate_shape is the Gamma shape drawn per replication.",
             "[calibration]", f"store = {_toml_str(cal.store)}", f"store_sha256 = {_toml_str(cal.store_sha256)}",
             f"flights = {cal.flights}", f"flight_hours = {cal.flight_hours!r}", f"prior_weight_fh = {cal.prior_weight_fh!r}",
             f"source = {_toml_str(cal.source or 'all')}", f"since = {_toml_str(cal.since or '')}", ""]
    for r in cal.rates:
        why = (f"fitted from {cal.flights} flights, {cal.flight_hours:.1f} hours, store sha256 {cal.store_sha256[:12]}…: "
               f"{r.events} events against {r.expected_events:.2f} expected at the prior {r.prior_per_fh:.3g}/fh "
               f"(worth {cal.prior_weight_fh:g} h); {INTERVAL:.0%} interval {r.lo:.3g}–{r.hi:.3g}/fh")
        lines += [f"[hazards.{r.kind}]", f"per_fh = {r.posterior_mean_per_fh!r}",
                  f"shadow_per_fh = {r.posterior_shadow_per_fh!r}", f"rate_shape = {r.shape!r}",
                  f"events = {r.events}", f"source = {_toml_str(why)}", ""]
    return "\n".join(lines)


def write_overlay(cal: Calibration, path: str | Path) -> Path:
    """Write the overlay atomically (a half-written file never replaces a good one)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(overlay_text(cal), encoding="utf-8")
    tmp.replace(path)
    return path


def apply_overlay(campaign: Any, dynamics: Dynamics, path: str | Path) -> tuple[Any, Dynamics]:
    """The campaign with the overlay's rates, and the dynamics with its rate shapes. A hazard the overlay does not
    name keeps the scenario's rate; a name the campaign does not know is an error."""
    path = Path(path)
    d = read_toml(path)
    hz = d.get("hazards")
    if "calibration" not in d or not isinstance(hz, dict):
        raise DataFileError(path, "not a calibration overlay (needs [calibration] and [hazards.<mode>] tables)")
    known = {h.mode: h for h in campaign.hazards}
    shapes: dict[str, float] = {}
    new = []
    for mode in hz:
        if mode not in known:
            raise DataFileError(path, f"[hazards.{mode}]: unknown hazard (known: {', '.join(known)})")
    for h in campaign.hazards:
        e = hz.get(h.mode)
        if e is None:
            new.append(h)
            continue
        try:
            per, shadow, shape = float(e["per_fh"]), float(e.get("shadow_per_fh", 0.0)), float(e["rate_shape"])
        except (KeyError, TypeError, ValueError):
            raise DataFileError(path, f"[hazards.{h.mode}]: needs numbers per_fh and rate_shape") from None
        if per < 0 or shadow < 0 or shape < 0:
            raise DataFileError(path, f"[hazards.{h.mode}]: rates and shape must be >= 0")
        new.append(replace(h, per_fh=per, shadow_per_fh=shadow, source=str(e.get("source", h.source))))
        shapes[h.mode] = shape
    return replace(campaign, hazards=tuple(new)), with_rate_shapes(dynamics, shapes)


def scenario_hazards(scenario_dir: str | Path | None) -> tuple[Any, Dynamics]:
    """The campaign (its hazards) and dynamics of a scenario folder."""
    from uavsim.scenario import Scenario
    from uavsim.sim.config import load_campaign
    from uavsim.sim.dynamics import load_dynamics

    camp = load_campaign(Scenario.load(scenario_dir))
    return camp, load_dynamics(camp.path)


def calibrate_store(db: str | Path, scenario_dir: str | Path | None = None, source: str | None = "log",
                    since: date | None = None, prior_weight_fh: float | None = None) -> Calibration:
    """Calibrate the scenario's hazards from the flights of an existing store (``source`` sim, log or None)."""
    from uavsim.safety.stats import load_flights

    camp, dyn = scenario_hazards(scenario_dir)
    flights = load_flights(db, source=source)
    weight = dyn.rate_prior_fh if prior_weight_fh is None else prior_weight_fh
    return calibrate(flights, camp.hazards, weight, str(db), file_sha256(db), source, since, dyn)


def posterior_campaign(campaign: Any, dynamics: Dynamics, cal: Calibration) -> tuple[Any, Dynamics]:
    """The campaign with the posterior mean rates of ``cal``, and the dynamics with their shapes."""
    fit = {r.kind: r for r in cal.rates}
    hz = tuple(replace(h, per_fh=fit[h.mode].posterior_mean_per_fh, shadow_per_fh=fit[h.mode].posterior_shadow_per_fh)
               if h.mode in fit else h for h in campaign.hazards)
    return replace(campaign, hazards=hz), with_rate_shapes(dynamics, {k: r.shape for k, r in fit.items()})
