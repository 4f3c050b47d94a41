"""Aircraft classes (missions/<name>/aircraft.toml) and their energy model.

Multirotor power is momentum theory (Stolaroff 2018) plus the blade profile power: the rotors carry
T = sqrt(W² + D²) where D is parasitic drag. Hover power T^1.5 / (η·sqrt(2ρA)) (η calibrated per class from
published hover times) splits into an induced share, T·(V sin α + v_i) in forward flight, and a profile share
``profile_frac`` that grows as 1 + 3·(V/U_tip)² (Zeng et al. 2019; Bramwell). The share is what η leaves once the
drive (motor and ESC, ``drive_efficiency``) has taken its part: 1 − η / η_drive. For fixed-pitch rotors both
shares scale as T^1.5, so the split does not change the hover calibration. ``range_points`` (mass, km, speed) fit the
drag area where a forward-flight figure is published. A VTOL cruising on its wing uses P = D·V / η_prop with a drag polar around its best
lift-to-drag speed, calibrated from its published range. Air density follows the ISA troposphere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from uavsim._io import need, read_toml
from uavsim.errors import ScenarioError

if TYPE_CHECKING:
    from uavsim.scenario import Scenario

G = 9.80665  # m/s²
RHO0 = 1.225  # kg/m³, ISA sea level
ISA_LAPSE_K_PER_M = 0.0065
ISA_T0_K = 288.15
ISA_EXP = 4.2559  # g / (R·L) - 1
SECONDS_PER_MINUTE = 60.0
JOULES_PER_WH = 3600.0
LIQUID_KG_PER_L = 1.0  # spray mix and liquid fertiliser: about water
DESCENT_RECOVERY = 0.5  # share of the potential-energy rate a descending rotor gives back (assumption)
PROFILE_K = 3.0  # blade profile power rises as 1 + K·μ² with advance ratio μ = V/U_tip (Zeng 2019: 3)
MIN_POWER_FRAC = 0.6  # a descending multirotor never draws less than this share of its level power

AIRCRAFT_FILE = "aircraft.toml"
KINDS = ("multirotor", "vtol")


@dataclass(frozen=True)
class AircraftClass:
    id: str
    name: str
    kind: str
    empty_kg: float  # airframe without battery
    battery_kg: float
    max_takeoff_kg: float
    payload_kg: float
    battery_wh: float
    usable_frac: float
    cruise_mps: float
    max_speed_mps: float
    climb_mps: float
    descent_mps: float
    wind_limit_mps: float
    tank_l: float
    swath_m: float
    spray_speed_mps: float
    radio_range_m: float
    rotor_area_m2: float
    drag_area_m2: float
    efficiency: float  # rotor figure of merit (calibrated when hover_points are given)
    spray_agl_m: float = 2.5
    transition_mps: float = 0.0  # VTOL: wing-borne above this airspeed
    prop_efficiency: float = 0.7
    lift_to_drag: float = 0.0  # VTOL: best L/D (calibrated when range_points are given)
    camera_width_px: int = 0
    gsd_per_m: float = 0.0  # ground sample distance (m/px) per metre of height
    side_overlap: float = 0.7
    survey_gsd_m: float = 0.03
    hover_points: tuple[tuple[float, float], ...] = ()  # (mass kg, minutes)
    range_points: tuple[tuple[float, float, float], ...] = ()  # (mass kg, km, airspeed m/s)
    profile_frac: float = 0.0  # multirotor: share of hover power that is blade profile power (see _parse)
    drive_efficiency: float = 0.85  # motor and ESC: what the calibrated figure of merit leaves to the rotor
    tip_speed_mps: float = 100.0  # multirotor: rotor tip speed (profile power rises with (V/U_tip)²)
    lost_link: str = ""  # "return" | "continue" | "" (none declared): what the aircraft does on radio loss
    terrain_following: bool = False  # flies terrain-frame missions (terrain data or a downward radar)
    sources: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def operating_kg(self) -> float:
        """Airframe and battery, no payload."""
        return self.empty_kg + self.battery_kg

    @property
    def usable_wh(self) -> float:
        return self.battery_wh * self.usable_frac

    def mass_kg(self, payload_kg: float | None = None) -> float:
        """Take-off mass with a payload (default: the full payload), capped at the maximum take-off mass."""
        p = self.payload_kg if payload_kg is None else payload_kg
        return min(self.operating_kg + max(p, 0.0), self.max_takeoff_kg)


def air_density(alt_msl_m: float) -> float:
    """ISA density (kg/m³): about 5 % less per 1,000 m here."""
    t = 1.0 - ISA_LAPSE_K_PER_M * min(max(alt_msl_m, -500.0), 11000.0) / ISA_T0_K
    return RHO0 * t**ISA_EXP


def _induced_velocity(thrust: float, rho: float, area: float, v_par: float, v_perp: float) -> float:
    """Solve v_i = T / (2ρA·sqrt(v_par² + (v_perp + v_i)²)) by Newton (Glauert, forward flight)."""
    vh = math.sqrt(thrust / (2 * rho * area))
    vi = vh
    for _ in range(30):
        s = math.hypot(v_par, v_perp + vi)
        f = vi * s - vh * vh
        df = s + vi * (v_perp + vi) / s
        step = f / df
        vi -= step
        if vi <= 0:
            vi = 1e-6
        if abs(step) < 1e-6:
            break
    return vi


def _rotor_power(ac: AircraftClass, mass_kg: float, airspeed: float, rho: float, eta: float,
                 drag_area_m2: float | None = None) -> float:
    weight = mass_kg * G
    drag = 0.5 * rho * (ac.drag_area_m2 if drag_area_m2 is None else drag_area_m2) * airspeed * airspeed
    thrust = math.hypot(weight, drag)
    alpha = math.atan2(drag, weight)  # disc tilt into the airflow
    v_par = airspeed * math.cos(alpha)
    v_perp = airspeed * math.sin(alpha)
    vi = _induced_velocity(thrust, rho, ac.rotor_area_m2, v_par, v_perp)
    f = ac.profile_frac
    hover_ideal = thrust * math.sqrt(thrust / (2 * rho * ac.rotor_area_m2))
    induced = thrust * (v_perp + vi) * (1.0 - f) / eta
    profile = f * hover_ideal / eta * (1.0 + PROFILE_K * (airspeed / ac.tip_speed_mps) ** 2)
    return induced + profile


def _wing_power(ac: AircraftClass, mass_kg: float, airspeed: float, rho: float, lift_to_drag: float) -> float:
    # Drag polar around the best-L/D speed (the cruise speed at sea level, scaled by density).
    v_star = ac.cruise_mps * math.sqrt(RHO0 / rho)
    r = airspeed / v_star
    drag = mass_kg * G / lift_to_drag * 0.5 * (r * r + 1.0 / (r * r))
    return drag * airspeed / ac.prop_efficiency


def power_w(ac: AircraftClass, mass_kg: float, airspeed_mps: float, climb_mps: float = 0.0,
            alt_msl_m: float = 0.0, wing: bool | None = None) -> float:
    """Electrical power (W) at a steady airspeed and climb rate (negative: descent).

    A VTOL flies on its wing at or above its transition speed unless ``wing`` says which mode it is in."""
    rho = air_density(alt_msl_m)
    v = max(float(airspeed_mps), 0.0)
    on_wing = v >= ac.transition_mps if wing is None else wing
    if ac.kind == "vtol" and ac.lift_to_drag > 0 and on_wing:
        v = max(v, ac.transition_mps)
        level = _wing_power(ac, mass_kg, v, rho, ac.lift_to_drag)
        eta = ac.prop_efficiency
    else:
        level = _rotor_power(ac, mass_kg, v, rho, ac.efficiency)
        eta = ac.efficiency
    if climb_mps >= 0:
        return level + mass_kg * G * climb_mps / eta
    return max(level + DESCENT_RECOVERY * mass_kg * G * climb_mps * eta, MIN_POWER_FRAC * level)


def hover_power_w(ac: AircraftClass, mass_kg: float, alt_msl_m: float = 0.0) -> float:
    return _rotor_power(ac, mass_kg, 0.0, air_density(alt_msl_m), ac.efficiency)


def hover_endurance_s(ac: AircraftClass, mass_kg: float, alt_msl_m: float = 0.0) -> float:
    """Hover time (s) on the usable battery energy."""
    return ac.usable_wh * JOULES_PER_WH / hover_power_w(ac, mass_kg, alt_msl_m)


def still_air_range_m(ac: AircraftClass, mass_kg: float | None = None) -> float:
    """Distance (m) the usable battery flies at cruise in still air (default: with the full payload)."""
    m = ac.mass_kg() if mass_kg is None else mass_kg
    return ac.usable_wh * JOULES_PER_WH / power_w(ac, m, ac.cruise_mps) * ac.cruise_mps


# -- calibration --------------------------------------------------------------------------------------------
def calibrate_efficiency(ac: AircraftClass) -> float:
    """Figure of merit that fits the published hover times best (geometric mean of the per-point fits)."""
    logs = []
    for mass, minutes in ac.hover_points:
        needed = ac.usable_wh * JOULES_PER_WH / (minutes * SECONDS_PER_MINUTE)
        ideal = _rotor_power(ac, mass, 0.0, RHO0, 1.0)
        logs.append(math.log(ideal / needed))
    return math.exp(sum(logs) / len(logs))


def calibrate_lift_to_drag(ac: AircraftClass) -> float:
    """Best L/D that makes the published range(s) use the usable battery energy."""
    logs = []
    for mass, km, speed in ac.range_points:
        p = ac.usable_wh * JOULES_PER_WH / (km * 1000.0 / speed)  # W available over the published range
        logs.append(math.log(_wing_power(ac, mass, speed, RHO0, 1.0) / p))
    return math.exp(sum(logs) / len(logs))


def calibrate_drag_area(ac: AircraftClass) -> float:
    """Multirotor drag area (m²) that makes the published range(s) use the usable battery energy (bisection on
    the mean log error; the range falls as the drag area grows). Bounded to [0.001, 10] m²."""
    def err(cda: float) -> float:
        return sum(math.log(ac.usable_wh * JOULES_PER_WH / _rotor_power(ac, m, v, RHO0, ac.efficiency, cda) * v
                            / (km * 1000.0)) for m, km, v in ac.range_points)

    lo, hi = 1e-3, 10.0
    if err(lo) < 0:  # even a clean airframe falls short of the figure: keep the least drag
        return lo
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if err(mid) > 0 else (lo, mid)
    return math.sqrt(lo * hi)


# -- loading ------------------------------------------------------------------------------------------------
_FLOATS = ("empty_kg", "battery_kg", "max_takeoff_kg", "payload_kg", "battery_wh", "cruise_mps", "max_speed_mps",
           "climb_mps", "descent_mps", "wind_limit_mps", "radio_range_m", "rotor_area_m2", "drag_area_m2",
           "efficiency")
_OPTIONAL = {"usable_frac": 0.95, "tank_l": 0.0, "swath_m": 0.0, "spray_speed_mps": 0.0, "spray_agl_m": 2.5,
             "transition_mps": 0.0, "prop_efficiency": 0.7, "lift_to_drag": 0.0, "gsd_per_m": 0.0,
             "side_overlap": 0.7, "survey_gsd_m": 0.03, "profile_frac": -1.0, "tip_speed_mps": 100.0,
             "drive_efficiency": 0.85}
LOST_LINK = ("", "return", "continue")
_POSITIVE = ("max_takeoff_kg", "battery_wh", "cruise_mps", "max_speed_mps", "climb_mps", "descent_mps",
             "rotor_area_m2", "efficiency")


def _points(e: dict[str, Any], key: str, width: int, path: Path, where: str) -> tuple:
    raw = e.get(key, [])
    if not isinstance(raw, list) or any(
            not isinstance(p, list) or len(p) != width or any(not isinstance(v, int | float) or v <= 0 for v in p)
            for p in raw):
        raise ScenarioError(path, f"{where}: '{key}' must be a list of [{width} positive numbers]")
    return tuple(tuple(float(v) for v in p) for p in raw)


def _profile_share(ac: AircraftClass, path: Path, where: str) -> float:
    """The blade profile share of hover power: what the calibrated figure of merit leaves once the drive
    (motor, ESC) has taken its share, 1 - efficiency / drive_efficiency, unless aircraft.toml gives it. It may
    not exceed that bound: the rest of the rotor would then work better than ideal."""
    if ac.kind != "multirotor":
        return 0.0
    bound = max(0.0, 1.0 - ac.efficiency / ac.drive_efficiency)
    if ac.profile_frac < 0:
        return bound
    if ac.profile_frac > bound + 1e-9:
        raise ScenarioError(path, f"{where}: profile_frac {ac.profile_frac:.2f} exceeds 1 - efficiency / "
                                  f"drive_efficiency = {bound:.2f} (efficiency {ac.efficiency:.2f})")
    return ac.profile_frac


def _numbers(e: dict[str, Any], path: Path, where: str) -> dict[str, float]:
    """The class's numeric fields, each checked (required, optional with its default, ranges)."""
    vals: dict[str, Any] = {k: float(need(e, k, path, where, float)) for k in _FLOATS}
    for k, default in _OPTIONAL.items():
        v = e.get(k, default)
        if not isinstance(v, int | float) or isinstance(v, bool) or (v < 0 and k in e):
            raise ScenarioError(path, f"{where}: field '{k}' has invalid value {v!r}")
        vals[k] = float(v)
    bad = [k for k in _POSITIVE if not vals[k] > 0]
    if bad:
        raise ScenarioError(path, f"{where}: field(s) {bad} must be positive")
    if not 0 < vals["usable_frac"] <= 1:
        raise ScenarioError(path, f"{where}: usable_frac must be in (0, 1]")
    if vals["empty_kg"] + vals["battery_kg"] > vals["max_takeoff_kg"]:
        raise ScenarioError(path, f"{where}: empty_kg + battery_kg exceeds max_takeoff_kg")
    if not vals["profile_frac"] < 1 or not vals["tip_speed_mps"] > 0 or not 0 < vals["drive_efficiency"] <= 1:
        raise ScenarioError(path, f"{where}: profile_frac must be in [0, 1), tip_speed_mps positive and "
                                  "drive_efficiency in (0, 1]")
    return vals


def _calibrated(ac: AircraftClass, path: Path, where: str) -> AircraftClass:
    """Figure of merit from hover times, the profile share, then the wing's L/D or the drag area from ranges."""
    if ac.hover_points:
        ac = replace(ac, efficiency=calibrate_efficiency(ac))
    ac = replace(ac, profile_frac=_profile_share(ac, path, where))
    if ac.range_points and ac.kind == "vtol":
        ac = replace(ac, lift_to_drag=calibrate_lift_to_drag(ac))
    elif ac.range_points:
        ac = replace(ac, drag_area_m2=calibrate_drag_area(ac))
    if ac.kind == "vtol" and not ac.lift_to_drag > 0:
        raise ScenarioError(path, f"{where}: a vtol needs lift_to_drag or range_points")
    return ac


def _parse(e: dict[str, Any], path: Path, where: str) -> AircraftClass:
    vals = _numbers(e, path, where)
    kind = need(e, "kind", path, where, str)
    if kind not in KINDS:
        raise ScenarioError(path, f"{where}: kind must be one of {KINDS}, got '{kind}'")
    lost_link = e.get("lost_link", "")
    if lost_link not in LOST_LINK:
        raise ScenarioError(path, f"{where}: lost_link must be 'return' or 'continue', got {lost_link!r}")
    follow = e.get("terrain_following", False)
    if not isinstance(follow, bool):
        raise ScenarioError(path, f"{where}: terrain_following must be true or false, got {follow!r}")
    sources = e.get("sources", {})
    ac = AircraftClass(
        id=need(e, "id", path, where, str), name=need(e, "name", path, where, str), kind=kind,
        camera_width_px=int(e.get("camera_width_px", 0)), lost_link=lost_link, terrain_following=follow,
        hover_points=_points(e, "hover_points", 2, path, where),
        range_points=_points(e, "range_points", 3, path, where),
        sources={str(k): str(v) for k, v in sources.items()} if isinstance(sources, dict) else {}, **vals)
    return _calibrated(ac, path, where)


def load_catalogue(source: str | Path | Scenario | None = None) -> dict[str, AircraftClass]:
    """Aircraft classes by id, from a scenario, its folder, or an aircraft.toml path (default scenario)."""
    from uavsim.scenario import DEFAULT_SCENARIO

    if source is None:
        path = DEFAULT_SCENARIO / AIRCRAFT_FILE
    elif hasattr(source, "file"):
        path = source.file(AIRCRAFT_FILE)  # type: ignore[union-attr]
    else:
        p = Path(source)  # type: ignore[arg-type]
        path = p / AIRCRAFT_FILE if p.is_dir() else p
    out: dict[str, AircraftClass] = {}
    for i, e in enumerate(read_toml(path).get("aircraft", [])):
        ac = _parse(e, path, f"aircraft[{i}]")
        if ac.id in out:
            raise ScenarioError(path, f"aircraft[{i}]: duplicate aircraft id '{ac.id}'")
        out[ac.id] = ac
    if not out:
        raise ScenarioError(path, "no [[aircraft]] entries")
    return out


def get_aircraft(source: str | Path | Scenario | None, aircraft_id: str) -> AircraftClass:
    cat = load_catalogue(source)
    try:
        return cat[aircraft_id]
    except KeyError:
        raise ScenarioError(AIRCRAFT_FILE, f"unknown aircraft '{aircraft_id}' (known: {', '.join(sorted(cat))})") from None
