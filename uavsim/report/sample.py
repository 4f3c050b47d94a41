"""Seeded synthetic flights for examples, tests and the report benchmark.

They are *not* a simulation (that is ``uavsim.sim``): only plausible records with tracks and events, so that
the report can be exercised at any size without the campaign engine. Sites are the MISSION.md places.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from uavsim.records import Event, Flight, Telemetry, worse
from uavsim.safety.rules import Rules, default_rules

# (site id, lat, lon, elevation m MSL, mission types flown there) from MISSION.md "Places".
SITES = (
    ("ttyt-muong-ang", 21.5197, 103.2174, 600.0, ("medical",)),
    ("ta-la-cao", 21.916, 103.347, 910.0, ("cargo", "monitor")),
    ("hua-nam", 21.4915, 103.214, 630.0, ("fertilise", "spray")),
    ("ban-cu", 21.5876, 103.4191, 590.0, ("spray", "monitor")),
    ("muong-thanh", 21.36, 103.01, 480.0, ("seed", "spray", "survey")),
)
SAFE_EVENTS = ("GPS_DEGRADED", "FAILSAFE_BATTERY", "LINK_LOSS", "VIBRATION", "FAILSAFE_RADIO", "BATTERY_LOW")
UNSAFE_EVENTS = ("CRASH", "GEOFENCE_BREACH", "TERRAIN_CLEARANCE", "LOG_TRUNCATED_IN_AIR", "EMERGENCY_LANDING",
                 "PAYLOAD_DROP", "ZONE_VIOLATION")
START = datetime(2026, 6, 23, tzinfo=UTC)  # 07:00 local on the first day
DAYS = 342  # 23 June 2026 .. 31 May 2027
M_PER_DEG_LAT = 111_320.0


def _track(rng: np.random.Generator, lat0: float, lon0: float, elev: float, duration_s: float,
           points: int) -> tuple[Telemetry, float]:
    """An out-and-back track from (lat0, lon0) with a jittered path; returns it and its length in m."""
    t = np.linspace(0.0, duration_s, points)
    heading = rng.uniform(0.0, 2.0 * np.pi)
    reach = rng.uniform(500.0, 6000.0)
    phase = np.sin(np.pi * t / duration_s)  # 0 -> 1 -> 0: out and back
    wobble = np.cumsum(rng.normal(0.0, 6.0, (2, points)), axis=1)
    east = reach * phase * np.cos(heading) + wobble[0]
    north = reach * phase * np.sin(heading) + wobble[1]
    lat = lat0 + north / M_PER_DEG_LAT
    lon = lon0 + east / (M_PER_DEG_LAT * np.cos(np.radians(lat0)))
    rel = np.clip(60.0 * np.minimum(1.0, 8.0 * phase), 0.0, None)
    speed = np.r_[0.0, np.hypot(np.diff(east), np.diff(north)) / np.diff(t)]
    tel = Telemetry(t, lat, lon, elev + rel, rel, speed, np.linspace(100.0, rng.uniform(20, 45), points),
                    np.where(rel > 1.0, 1, 0).astype(np.int16), ["STABILIZE", "AUTO"])
    return tel, float(np.hypot(np.diff(east), np.diff(north)).sum())


def _event(rules: Rules, kind: str, tel: Telemetry, rng: np.random.Generator) -> Event:
    i = int(rng.integers(len(tel) // 4, max(len(tel) // 4 + 1, 3 * len(tel) // 4)))
    return rules.make_event(
        kind, float(tel.t_s[i]), lat=float(tel.lat[i]), lon=float(tel.lon[i]), alt=float(tel.alt_msl_m[i]),
        detail=f"synthetic {kind.lower().replace('_', ' ')} at t={tel.t_s[i]:.0f} s",
        evidence=f"sample {i}: lat={tel.lat[i]:.6f} lon={tel.lon[i]:.6f} alt_msl={tel.alt_msl_m[i]:.1f} m",
    )


def sample_flights(n: int, seed: int = 0, unsafe_rate: float = 0.006, points: int = 300,
                   log_fraction: float = 0.2, aircraft: int = 12, rules: Rules | None = None) -> list[Flight]:
    """``n`` classified flights with telemetry of ``points`` samples; about ``unsafe_rate`` of them unsafe."""
    rng = np.random.default_rng(seed)
    rules = rules or default_rules()
    out = []
    for i in range(n):
        site, lat0, lon0, elev, missions = SITES[int(rng.integers(len(SITES)))]
        duration = float(rng.uniform(300.0, 1500.0))
        tel, dist = _track(rng, lat0, lon0, elev, duration, points)
        events = [_event(rules, str(rng.choice(SAFE_EVENTS)), tel, rng) for _ in range(int(rng.poisson(0.15)))]
        if rng.random() < unsafe_rate:
            events.append(_event(rules, str(rng.choice(UNSAFE_EVENTS)), tel, rng))
        sev = "none"
        for e in events:
            sev = worse(sev, e.severity)
        # Flying hours 06:00-17:00 local (UTC+7), i.e. 23:00 the day before to 10:00 UTC.
        start = START + timedelta(days=int(rng.integers(DAYS)), seconds=float(rng.uniform(-1 * 3600, 10 * 3600)))
        source = "log" if rng.random() < log_fraction else "sim"
        out.append(Flight(
            id=f"{source}-{seed}-{i:06d}", source=source, source_ref=f"sample:{seed}:{i}",
            mission_type=str(rng.choice(missions)), site=site, aircraft_id=f"DB-{int(rng.integers(aircraft)):02d}",
            start_utc=start.strftime("%Y-%m-%dT%H:%M:%SZ"), duration_s=duration, distance_m=dist,
            max_agl_m=60.0, outcome="unsafe" if rules.is_unsafe(sev) else "safe", severity=sev,
            events=sorted(events, key=lambda e: e.t_s), telemetry=tel,
        ))
    return out
