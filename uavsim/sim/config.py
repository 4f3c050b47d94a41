"""The campaign scenario (missions/<name>/campaign.toml): period, bases, fleet, demand, weather, hazards.

Every field is checked on load; a missing or invalid one raises :class:`ScenarioError` naming the file and
the field. Hours of day are local in the file and become seconds (SI) here, at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from uavsim._io import need, read_toml
from uavsim.errors import InputError, ScenarioError
from uavsim.records import MISSION_TYPES
from uavsim.scenario import Scenario

HOUR_S = 3600.0
MINUTE_S = 60.0
DAY_S = 86400.0
HAZARD_MODES = ("motor_esc", "battery", "gps", "radio_link", "bird", "weather")
CONTINGENCIES = ("rtl", "land", "crash")


@dataclass(frozen=True)
class Base:
    id: str
    site: str
    pads: int
    crews: int
    shift_s: tuple[float, float]  # seconds after local midnight
    chargers: int
    refill_stations: int


@dataclass(frozen=True)
class FleetEntry:
    aircraft: str
    base: str
    count: int
    batteries: int
    charge_s: float
    turnaround_s: float
    refill_s: float


@dataclass(frozen=True)
class MedicalDemand:
    route: str
    per_day: float


@dataclass(frozen=True)
class CalendarDemand:
    id: str
    mission_type: str
    aircraft: str
    field: str | None
    route: str | None
    windows: tuple[tuple[str, str], ...]  # (start, end) as "MM-DD" or "YYYY-MM-DD", inclusive
    per_day: float


@dataclass(frozen=True)
class Weather:
    rain_days: tuple[float, ...]  # per calendar month, Jan..Dec
    heavy_rain_hour_prob: tuple[float, ...]
    fog_morning_prob: tuple[float, ...]
    fog_clear_s: float  # seconds after local midnight
    wind_k: float
    wind_c_mps: tuple[float, ...]
    wind_corr: float


@dataclass(frozen=True)
class Hazard:
    mode: str
    per_fh: float
    shadow_per_fh: float
    p: tuple[float, float, float]  # rtl, land, crash
    source: str


@dataclass(frozen=True)
class Campaign:
    path: Path
    start: date
    end: date
    utc_offset_s: float
    seed: int
    target: float
    confidence: float
    daylight_s: tuple[float, float]
    bases: dict[str, Base]
    fleet: tuple[FleetEntry, ...]
    medical: tuple[MedicalDemand, ...]
    calendar: tuple[CalendarDemand, ...]
    weather: Weather
    hazards: tuple[Hazard, ...]

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def with_hazard_scale(self, k: float) -> Campaign:
        """The same campaign with every failure rate multiplied by ``k`` (a sensitivity knob)."""
        if not 0 <= k < float("inf"):
            raise InputError(f"hazard scale must be a finite number >= 0, got {k}")
        hz = tuple(replace(h, per_fh=h.per_fh * k, shadow_per_fh=h.shadow_per_fh * k) for h in self.hazards)
        return replace(self, hazards=hz)


def _section(d: dict[str, Any], name: str, path: Path, kind: type, prefix: str = "") -> Any:
    """A TOML table ([name]) or array of tables ([[name]]), present and of that kind."""
    brackets = f"[[{prefix}{name}]]" if kind is list else f"[{prefix}{name}]"
    if name not in d:
        raise ScenarioError(path, f"missing section {brackets}")
    if not isinstance(d[name], kind) or (kind is list and not all(isinstance(x, dict) for x in d[name])):
        raise ScenarioError(path, f"section {brackets} is malformed (expected a TOML {'array of tables' if kind is list else 'table'})")
    return d[name]


def _num(e: dict[str, Any], key: str, path: Path, where: str, lo: float = 0.0, hi: float = float("inf")) -> float:
    v = float(need(e, key, path, where, float))
    if not lo <= v <= hi:
        raise ScenarioError(path, f"{where}: field '{key}' = {v} outside [{lo}, {hi}]")
    return v


def _int(e: dict[str, Any], key: str, path: Path, where: str, lo: int = 0) -> int:
    v = need(e, key, path, where, int)
    if v < lo:
        raise ScenarioError(path, f"{where}: field '{key}' = {v} must be at least {lo}")
    return int(v)


def _hour(e: dict[str, Any], key: str, path: Path, where: str) -> float:
    return _num(e, key, path, where, 0.0, 24.0) * HOUR_S


def _date(e: dict[str, Any], key: str, path: Path, where: str) -> date:
    v = need(e, key, path, where, (str, date))
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(v)
    except ValueError:
        raise ScenarioError(path, f"{where}: field '{key}' = {v!r} is not a YYYY-MM-DD date") from None


def _monthly(e: dict[str, Any], key: str, path: Path, where: str, hi: float = float("inf")) -> tuple[float, ...]:
    v = need(e, key, path, where, list)
    if len(v) != 12 or not all(isinstance(x, int | float) and not isinstance(x, bool) and 0 <= x <= hi for x in v):
        raise ScenarioError(path, f"{where}: field '{key}' needs 12 monthly numbers in [0, {hi}], got {v!r}")
    return tuple(float(x) for x in v)


def _window_day(text: Any, path: Path, where: str) -> str:
    if not isinstance(text, str):
        raise ScenarioError(path, f"{where}: window bound {text!r} is not a date string")
    probe = text if len(text) == 10 else f"2028-{text}"  # a leap year accepts 02-29
    try:
        date.fromisoformat(probe)
    except ValueError:
        raise ScenarioError(path, f"{where}: window bound {text!r} is not MM-DD or YYYY-MM-DD") from None
    return text


def load_campaign(scenario: Scenario, name: str = "campaign.toml") -> Campaign:
    """Read and check the campaign file of a scenario folder."""
    path = scenario.file(name)
    d = read_toml(path)
    c = _section(d, "campaign", path, dict)
    start, end = _date(c, "start", path, "campaign"), _date(c, "end", path, "campaign")
    if end < start:
        raise ScenarioError(path, "campaign: field 'end' is before 'start'")
    dl = _section(d, "daylight", path, dict)
    daylight = (_hour(dl, "start_h", path, "daylight"), _hour(dl, "end_h", path, "daylight"))
    if daylight[1] <= daylight[0]:
        raise ScenarioError(path, "daylight: field 'end_h' must be after 'start_h'")
    bases = _bases(d, path, scenario)
    fleet = _fleet(d, path, bases)
    medical, calendar = _demand(d, path, scenario, {f.aircraft for f in fleet})
    return Campaign(path, start, end, _num(c, "utc_offset_h", path, "campaign", -14, 14) * HOUR_S,
                    _int(c, "seed", path, "campaign"), _num(c, "target", path, "campaign", 0, 1),
                    _num(c, "confidence", path, "campaign", 0, 1), daylight, bases, fleet, medical,
                    calendar, _weather(d, path), _hazards(d, path))


def _bases(d: dict[str, Any], path: Path, scenario: Scenario) -> dict[str, Base]:
    bases: dict[str, Base] = {}
    for i, e in enumerate(_section(d, "base", path, list)):
        w = f"base[{i}]"
        b = Base(need(e, "id", path, w, str), need(e, "site", path, w, str), _int(e, "pads", path, w, 1),
                 _int(e, "crews", path, w, 1), (_hour(e, "shift_start_h", path, w), _hour(e, "shift_end_h", path, w)),
                 _int(e, "chargers", path, w, 1), _int(e, "refill_stations", path, w, 0))
        if b.site not in scenario.sites:
            raise ScenarioError(path, f"{w}: field 'site' names unknown site '{b.site}'")
        if b.shift_s[1] <= b.shift_s[0]:
            raise ScenarioError(path, f"{w}: field 'shift_end_h' must be after 'shift_start_h'")
        bases[b.id] = b
    return bases


def _fleet(d: dict[str, Any], path: Path, bases: dict[str, Base]) -> tuple[FleetEntry, ...]:
    fleet = []
    for i, e in enumerate(_section(d, "fleet", path, list)):
        w = f"fleet[{i}]"
        f = FleetEntry(need(e, "aircraft", path, w, str), need(e, "base", path, w, str), _int(e, "count", path, w, 1),
                       _int(e, "batteries", path, w, 1), _num(e, "charge_min", path, w) * MINUTE_S,
                       _num(e, "turnaround_min", path, w) * MINUTE_S, float(e.get("refill_min", 0.0)) * MINUTE_S)
        if f.base not in bases:
            raise ScenarioError(path, f"{w}: field 'base' names unknown base '{f.base}'")
        fleet.append(f)
    return tuple(fleet)


def _demand(d: dict[str, Any], path: Path, scenario: Scenario,
            classes: set[str]) -> tuple[tuple[MedicalDemand, ...], tuple[CalendarDemand, ...]]:
    dem = _section(d, "demand", path, dict)
    medical = []
    for i, e in enumerate(_section(dem, "medical", path, list, "demand.")):
        w = f"demand.medical[{i}]"
        m = MedicalDemand(need(e, "route", path, w, str), _num(e, "per_day", path, w))
        if m.route not in scenario.routes:
            raise ScenarioError(path, f"{w}: field 'route' names unknown route '{m.route}'")
        medical.append(m)
    calendar = [_calendar_entry(e, path, f"demand.calendar[{i}]", scenario)
                for i, e in enumerate(_section(dem, "calendar", path, list, "demand."))]
    for cd in calendar:
        if cd.aircraft not in classes:
            raise ScenarioError(path, f"demand.calendar '{cd.id}': field 'aircraft' = '{cd.aircraft}' has no [[fleet]] entry")
    return tuple(medical), tuple(calendar)


def _calendar_entry(e: dict[str, Any], path: Path, w: str, scenario: Scenario) -> CalendarDemand:
    mt = need(e, "mission_type", path, w, str)
    if mt not in MISSION_TYPES:
        raise ScenarioError(path, f"{w}: field 'mission_type' = {mt!r} is not one of {MISSION_TYPES}")
    fid, rid = e.get("field"), e.get("route")
    if (fid is None) == (rid is None):
        raise ScenarioError(path, f"{w}: needs exactly one of the fields 'field' or 'route'")
    if fid is not None and fid not in scenario.fields:
        raise ScenarioError(path, f"{w}: field 'field' names unknown field '{fid}'")
    if rid is not None and rid not in scenario.routes:
        raise ScenarioError(path, f"{w}: field 'route' names unknown route '{rid}'")
    wins = need(e, "windows", path, w, list)
    if not wins or not all(isinstance(x, list) and len(x) == 2 for x in wins):
        raise ScenarioError(path, f"{w}: field 'windows' needs [[start, end], ...] pairs")
    windows = tuple((_window_day(a, path, w), _window_day(b, path, w)) for a, b in wins)
    return CalendarDemand(need(e, "id", path, w, str), mt, need(e, "aircraft", path, w, str), fid, rid,
                          windows, _num(e, "per_day", path, w))


def _weather(d: dict[str, Any], path: Path) -> Weather:
    wx = _section(d, "weather", path, dict)
    return Weather(_monthly(wx, "rain_days", path, "weather", 31), _monthly(wx, "heavy_rain_hour_prob", path, "weather", 1),
                   _monthly(wx, "fog_morning_prob", path, "weather", 1), _hour(wx, "fog_clear_h", path, "weather"),
                   _num(wx, "wind_weibull_k", path, "weather", 0.1, 20), _monthly(wx, "wind_weibull_c_mps", path, "weather"),
                   _num(wx, "wind_hourly_corr", path, "weather", 0.0, 0.999))


def _hazards(d: dict[str, Any], path: Path) -> tuple[Hazard, ...]:
    hz = _section(d, "hazards", path, dict)
    hazards = []
    for mode in HAZARD_MODES:
        w = f"hazards.{mode}"
        e = _section(hz, mode, path, dict, "hazards.")
        p = tuple(_num(e, k, path, w, 0.0, 1.0) for k in CONTINGENCIES)
        if abs(sum(p) - 1.0) > 1e-6:
            raise ScenarioError(path, f"{w}: fields 'rtl' + 'land' + 'crash' must sum to 1, got {sum(p):.4f}")
        hazards.append(Hazard(mode, _num(e, "per_fh", path, w), float(e.get("shadow_per_fh", 0.0)), p,  # type: ignore[arg-type]
                              need(e, "source", path, w, str)))
    return tuple(hazards)
