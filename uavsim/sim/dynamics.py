"""The simulator's dynamics beyond launch-time checks (campaign.toml [dynamics], issue 15), and the draws that
make one replication's hazard world: rates from their uncertainty, per-aircraft frailty, common-cause days.

- **Rate uncertainty.** Each hazard's rate is Gamma distributed with mean ``per_fh`` and shape ``rate_shape``
  (the prior's worth in events: ``per_fh * rate_prior_fh``, or a calibration's posterior shape). A
  replication draws one multiplier per hazard, Gamma(shape, 1/shape), applied to the base and shadow rates.
- **Frailty.** Each airframe's rates are multiplied by a Gamma(1/cv^2, cv^2) factor (mean 1).
- **Common cause.** On a rain day the weather hazard is multiplied by ``common_cause_rain_factor``.
- **Wind in flight.** Energy factor ``1 + k (w / v)^2``; a return when the wind passes the limit mid-flight.
- **Out of service.** Repair days after a crash or an off-site landing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from uavsim.errors import ScenarioError
from uavsim.scenario import read_toml

DAY_S = 86400.0
_FIELDS = {  # name -> (default when absent, lower bound, upper bound)
    "rate_prior_fh": (1000.0, 1e-9, 1e12),
    "rate_prior_shadow_frac": (0.0, 0.0, 1.0),
    "frailty_cv": (0.0, 0.0, 5.0),
    "common_cause_rain_factor": (1.0, 0.0, 1e3),
    "wind_energy_k": (0.0, 0.0, 10.0),
    "repair_crash_days": (0.0, 0.0, 366.0),
    "repair_landing_days": (0.0, 0.0, 366.0),
}


@dataclass(frozen=True)
class Dynamics:
    rate_prior_fh: float = 1000.0
    rate_prior_shadow_frac: float = 0.0  # share of flight time in radio shadow assumed by the prior
    frailty_cv: float = 0.0
    common_cause_rain_factor: float = 1.0
    wind_energy_k: float = 0.0
    repair_crash_days: float = 0.0
    repair_landing_days: float = 0.0
    link_continue: float = 0.0  # share of link losses that fly on as planned
    link_loss_land_shares: tuple[float, ...] = (0.0, 0.02, 0.08, 0.25)
    rate_shape: dict[str, float] = field(default_factory=dict)  # per hazard; absent: per_fh * rate_prior_fh
    sources: dict[str, str] = field(default_factory=dict)

    def prior_shape(self, per_fh: float, shadow_per_fh: float, prior_fh: float | None = None) -> float:
        """Prior events a rate is worth: its expected events over rate_prior_fh hours (shadow share included)."""
        return (per_fh + shadow_per_fh * self.rate_prior_shadow_frac) * (self.rate_prior_fh if prior_fh is None else prior_fh)

    def shape_of(self, hazard: Any) -> float:
        """The Gamma shape of a hazard's rate multiplier: a calibration's posterior shape, else the prior's."""
        return self.rate_shape.get(hazard.mode, self.prior_shape(hazard.per_fh, hazard.shadow_per_fh))

    def repair_s(self, action: str) -> float:
        return DAY_S * {"crash": self.repair_crash_days, "land": self.repair_landing_days}.get(action, 0.0)


def _number(d: dict[str, Any], key: str, path: Path, default: float, lo: float, hi: float) -> float:
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
        raise ScenarioError(path, f"dynamics: field '{key}' = {v!r} must be a number in [{lo}, {hi}]")
    return float(v)


def load_dynamics(path: str | Path) -> Dynamics:
    """The [dynamics] table and the radio-link 'continue' share of a campaign file (defaults when absent:
    the engine then behaves as before issue 15, except for the rate draw)."""
    path = Path(path)
    d = read_toml(path)
    dyn = d.get("dynamics", {})
    if not isinstance(dyn, dict):
        raise ScenarioError(path, "section [dynamics] is malformed (expected a TOML table)")
    values = {k: _number(dyn, k, path, *spec) for k, spec in _FIELDS.items()}
    link = d.get("hazards", {}).get("radio_link", {})
    cont = _number(link, "continue", path, 0.0, 0.0, 1.0) if isinstance(link, dict) else 0.0
    shares = dyn.get("link_loss_land_shares", list(Dynamics.link_loss_land_shares))
    if not isinstance(shares, list) or not all(isinstance(x, int | float) and 0 <= x <= 1 for x in shares):
        raise ScenarioError(path, f"dynamics: field 'link_loss_land_shares' = {shares!r} needs shares in [0, 1]")
    sources = {k: str(v) for k, v in dyn.items() if k.endswith("_source")}
    return Dynamics(**values, link_continue=cont, link_loss_land_shares=tuple(float(x) for x in shares),
                    sources=sources)


def with_rate_shapes(dyn: Dynamics, shapes: dict[str, float]) -> Dynamics:
    return replace(dyn, rate_shape={**dyn.rate_shape, **shapes})


@dataclass(frozen=True)
class HazardWorld:
    """One replication's hazard draws: rate multiplier per hazard and frailty per airframe."""

    multiplier: np.ndarray  # per hazard, in campaign order
    frailty: dict[str, float]  # airframe id -> factor
    weather_index: int  # position of the weather hazard (-1: none)


def draw_world(hazards: tuple[Any, ...], units: list[str], dyn: Dynamics, rng: np.random.Generator) -> HazardWorld:
    """Always draws len(hazards) + len(units) numbers, in a fixed order, whatever the parameters."""
    shapes = np.array([dyn.shape_of(h) for h in hazards])
    g = rng.standard_gamma(np.maximum(shapes, 1e-12))
    mult = np.where(shapes > 0, g / np.maximum(shapes, 1e-12), 1.0)
    cv2 = dyn.frailty_cv**2
    f = rng.standard_gamma(1.0 / cv2, len(units)) * cv2 if cv2 > 0 else np.ones(len(units))
    if cv2 == 0:
        rng.random(len(units))  # same count of draws with or without frailty
    modes = [h.mode for h in hazards]
    return HazardWorld(mult, dict(zip(units, f.tolist(), strict=True)),
                       modes.index("weather") if "weather" in modes else -1)


def unit_rates(hazards: tuple[Any, ...], world: HazardWorld, unit: str, rain_day: bool,
               dyn: Dynamics) -> tuple[np.ndarray, np.ndarray]:
    """(base, shadow) rates per flight hour of each hazard for this airframe on this day."""
    k = world.multiplier * world.frailty.get(unit, 1.0)
    base = np.array([h.per_fh for h in hazards]) * k
    shadow = np.array([h.shadow_per_fh for h in hazards]) * k
    if rain_day and world.weather_index >= 0:
        base[world.weather_index] *= dyn.common_cause_rain_factor
    return base, shadow


def wind_energy_factor(wind_mps: np.ndarray | float, cruise_mps: float, k: float) -> np.ndarray:
    """Energy multiplier of flying in wind ``w`` at cruise ``v``: 1 + k (w / v)^2 (see [dynamics])."""
    r = np.asarray(wind_mps, float) / max(cruise_mps, 1e-9)
    return 1.0 + k * r * r


def link_loss_sensitivity(logs: list[Any], verdicts: list[Any], land_shares: tuple[float, ...],
                          confidence: float) -> list[dict[str, float]]:
    """What one run's unsafe count would be if a link loss landed in place with each share of ``land_shares``.

    The run's link losses are kept; the expected number that land is ``share * losses``, each unsafe with
    the share of this run's link-loss landings that were unsafe (1 when none landed: a landing in place away
    from every site and field is an emergency landing)."""
    from uavsim.safety.stats import clopper_pearson_lower

    n = len(logs)
    unsafe = sum(v.outcome == "unsafe" for v in verdicts)
    link = [(fl.failure.action, v.outcome == "unsafe") for fl, v in zip(logs, verdicts, strict=True)
            if fl.failure is not None and fl.failure.mode == "radio_link"]
    landed = [bad for action, bad in link if action == "land"]
    p_unsafe = sum(landed) / len(landed) if landed else 1.0
    out = []
    for share in land_shares:
        expected = max(unsafe - sum(landed) + share * len(link) * p_unsafe, 0.0)
        lb = clopper_pearson_lower(n - expected, n, confidence) if n else 0.0
        out.append({"land_share": share, "link_losses": len(link), "expected_unsafe": expected, "lower_bound": lb})
    return out
