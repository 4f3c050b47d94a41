"""Hourly weather of one replication, drawn from the monthly climatology of the campaign file.

The whole year is drawn at once with numpy (one explicit Generator), then the SimPy weather process walks it
hour by hour. Wind is Weibull per month with an hourly AR(1) correlation through a Gaussian copula, so that
windy spells last; rain days are Bernoulli per day, heavy-rain hours Bernoulli per hour of a rain day; fog
covers the morning until a fixed local hour on a fog day.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from scipy.special import ndtr

from uavsim.sim.config import DAY_S, HOUR_S, Weather


@dataclass(frozen=True)
class WeatherSeries:
    """Hour-indexed weather from local midnight of the campaign's first day."""

    wind_mps: np.ndarray
    heavy_rain: np.ndarray  # bool
    fog: np.ndarray  # bool
    rain_day: np.ndarray | None = None  # bool per day: a common-cause day for the in-flight weather hazard

    def is_rain_day(self, t_s: float) -> bool:
        return bool(self.rain_day is not None and self.rain_day[min(int(t_s // DAY_S), len(self.rain_day) - 1)])

    def winds_over(self, t0_s: float, duration_s: float) -> tuple[np.ndarray, np.ndarray]:
        """(start time of each hour touched by [t0, t0 + duration] relative to t0, that hour's wind)."""
        h0, h1 = self.hour(t0_s), self.hour(t0_s + duration_s)
        hours = np.arange(h0, h1 + 1)
        return np.maximum(hours * HOUR_S - t0_s, 0.0), self.wind_mps[hours]

    def hour(self, t_s: float) -> int:
        return min(int(t_s // HOUR_S), len(self.wind_mps) - 1)

    def flyable(self, wind_limit_mps: float) -> np.ndarray:
        """Bool per hour: an aircraft with this wind limit may launch."""
        return (self.wind_mps <= wind_limit_mps) & ~self.heavy_rain & ~self.fog

    def grounded_by(self, h: int, wind_limit_mps: float) -> str | None:
        """Why hour ``h`` is grounded for this aircraft, or None."""
        if self.heavy_rain[h]:
            return "heavy_rain"
        if self.fog[h]:
            return "fog"
        if self.wind_mps[h] > wind_limit_mps:
            return "wind"
        return None


def draw_weather(w: Weather, start: date, days: int, rng: np.random.Generator) -> WeatherSeries:
    n = days * 24
    day_month = np.array([(start + timedelta(days=i)).month - 1 for i in range(days)])
    month_len = np.array([calendar.monthrange((start + timedelta(days=i)).year, (start + timedelta(days=i)).month)[1]
                          for i in range(days)])
    p_rain_day = np.asarray(w.rain_days)[day_month] / month_len
    rain_day = rng.random(days) < p_rain_day
    heavy = (rng.random(n) < np.repeat(np.asarray(w.heavy_rain_hour_prob)[day_month], 24)) & np.repeat(rain_day, 24)
    fog_day = rng.random(days) < np.asarray(w.fog_morning_prob)[day_month]
    hour_of_day = np.tile(np.arange(24), days)
    fog = np.repeat(fog_day, 24) & (hour_of_day * HOUR_S < w.fog_clear_s)
    # Wind: Gaussian AR(1) -> uniform -> Weibull quantile of the month.
    e = rng.standard_normal(n)
    z = np.empty(n)
    z[0] = e[0]
    a, b = w.wind_corr, np.sqrt(1.0 - w.wind_corr**2)
    for i in range(1, n):  # 8,000 steps: a Python loop costs ~2 ms, clearer than scipy.signal.lfilter
        z[i] = a * z[i - 1] + b * e[i]
    u = np.clip(ndtr(z), 1e-12, 1 - 1e-12)
    c = np.repeat(np.asarray(w.wind_c_mps)[day_month], 24)
    wind = c * (-np.log1p(-u)) ** (1.0 / w.wind_k)
    return WeatherSeries(wind, heavy, fog, rain_day)


def next_flyable_s(series: WeatherSeries, flyable: np.ndarray, t_s: float) -> float | None:
    """Earliest time >= t_s in a flyable hour, or None if none is left in the period."""
    h = series.hour(t_s)
    if flyable[h]:
        return t_s
    later = np.flatnonzero(flyable[h + 1:])
    return None if later.size == 0 else float((h + 1 + later[0]) * HOUR_S)


__all__ = ["DAY_S", "WeatherSeries", "draw_weather", "next_flyable_s"]
