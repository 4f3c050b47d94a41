"""The view model of one flight: its record, the series the store holds, terrain beneath, events, reviews.

Used by the flight page, ``GET /api/flights/{id}`` and ``uavsim flight show``. A series the store does not hold
is listed as not recorded, never drawn as zero.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from uavsim.records import Flight
from uavsim.store import Store

M_PER_DEG_LAT = 111_320.0
RELIEF_SIDE = 160  # hillshade samples along the longer side of the map: enough under a track, cheap to send
MAP_MARGIN = 0.15  # fraction of the track's extent added around it

# What a flight page shows, and where each series comes from (None: the store does not keep it).
SERIES = {
    "track": "lat, lon",
    "altitude": "alt_msl_m, rel_alt_m; terrain from the DEM",
    "ground_speed": "ground_speed_mps",
    "battery_remaining": "battery_pct",
    "modes": "mode",
    "battery_voltage_current": "the log's battery monitor (kept for imported logs)",
    "attitude": "the log's attitude, actual and desired (kept for imported logs)",
    "vibration": "the log's vibration and clipping (kept for imported logs)",
    "gps_quality": "the log's GPS satellites and HDOP (kept for imported logs)",
    "messages": "the log's messages (kept for imported logs)",
    "parameters": None,
}
EXTRA = ("battery_voltage_current", "attitude", "vibration", "gps_quality")
SERIES_TITLES = {
    "track": "Track", "altitude": "Altitude", "ground_speed": "Ground speed",
    "battery_remaining": "Battery remaining", "modes": "Flight modes",
    "battery_voltage_current": "Battery voltage and current", "attitude": "Attitude (desired and actual)",
    "vibration": "Vibration", "gps_quality": "GPS satellites and HDOP", "messages": "Log messages",
    "parameters": "Parameters",
}


def _finite_or_none(a: np.ndarray) -> list[float | None]:
    return [float(x) if np.isfinite(x) else None for x in np.asarray(a, dtype=np.float64)]


def terrain_under(terrain: Any, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Terrain elevation (m MSL) beneath each fix; NaN where unknown (no fix, no DEM, outside it)."""
    out = np.full(lat.shape, np.nan)
    ok = np.isfinite(lat) & np.isfinite(lon)
    if terrain is not None and ok.any():
        out[ok] = terrain.elevation(lat[ok], lon[ok])
    return out


def relief(terrain: Any, lat: np.ndarray, lon: np.ndarray) -> dict[str, Any] | None:
    """Hillshade around the track (rows south to north for plotting), or None without terrain or fixes."""
    ok = np.isfinite(lat) & np.isfinite(lon)
    if terrain is None or not ok.any():
        return None
    from uavsim.terrain.hillshade import hillshade

    s, n, w, e = lat[ok].min(), lat[ok].max(), lon[ok].min(), lon[ok].max()
    pad = max(n - s, e - w, 0.002) * MAP_MARGIN + 0.001
    s, n, w, e = s - pad, n + pad, w - pad, e + pad
    coslat = float(np.cos(np.radians(0.5 * (s + n))))
    ratio = (n - s) / ((e - w) * coslat)
    ny, nx = (RELIEF_SIDE, max(2, int(RELIEF_SIDE / ratio))) if ratio >= 1 else (max(2, int(RELIEF_SIDE * ratio)), RELIEF_SIDE)
    lats, lons = np.linspace(n, s, ny), np.linspace(w, e, nx)
    lon_g, lat_g = np.meshgrid(lons, lats)
    elev = terrain.elevation(lat_g.ravel(), lon_g.ravel()).reshape(ny, nx)
    if not np.isfinite(elev).any():
        return None
    shade = hillshade(elev, (e - w) / (nx - 1) * M_PER_DEG_LAT * coslat, (n - s) / (ny - 1) * M_PER_DEG_LAT)
    return {"lat": lats[::-1].tolist(), "lon": lons.tolist(), "shade": np.round(shade[::-1], 3).tolist(),
            "elev": np.round(elev[::-1], 1).tolist(), "coslat": coslat}


def mode_spans(t: np.ndarray, mode: np.ndarray, names: list[str]) -> list[dict[str, Any]]:
    """Contiguous runs of one flight mode: [{mode, t0_s, t1_s}]; an unknown mode (-1) is 'unknown'."""
    if t.size == 0:
        return []
    cuts = np.flatnonzero(np.diff(mode)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [t.size]])
    out = []
    for a, b in zip(starts, ends, strict=True):
        m = int(mode[a])
        out.append({"mode": names[m] if 0 <= m < len(names) else "unknown", "t0_s": float(t[a]),
                    "t1_s": float(t[min(b, t.size - 1)])})
    return out


def _series(f: Flight, terrain: Any) -> dict[str, Any] | None:
    tel = f.telemetry
    if tel is None or len(tel) == 0:
        return None
    ground = terrain_under(terrain, tel.lat, tel.lon)
    agl = tel.alt_msl_m - ground
    return {
        "t_s": _finite_or_none(tel.t_s), "lat": _finite_or_none(tel.lat), "lon": _finite_or_none(tel.lon),
        "alt_msl_m": _finite_or_none(tel.alt_msl_m), "rel_alt_m": _finite_or_none(tel.rel_alt_m),
        "terrain_msl_m": _finite_or_none(ground), "agl_m": _finite_or_none(agl),
        "ground_speed_mps": _finite_or_none(tel.ground_speed_mps),
        "battery_pct": _finite_or_none(np.where(tel.battery_pct >= 0, tel.battery_pct, np.nan)),
        "modes": mode_spans(tel.t_s, tel.mode, list(tel.mode_names)),
    }


def _extra(store: Store, flight_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The extra series (as JSON lists) and messages the store keeps for this flight; empty when none."""
    kept = store.flight_series(flight_id)
    if kept is None:
        return {}, []
    series, messages = kept
    return {name: {col: _finite_or_none(a) for col, a in cols.items()} for name, cols in series.items()}, messages


def _recorded(series: dict[str, Any] | None, extra: dict[str, Any], messages: list[Any]) -> dict[str, bool]:
    """Which of :data:`SERIES` hold data for this flight."""
    def has(*keys: str) -> bool:
        return series is not None and any(any(v is not None for v in series[k]) for k in keys)

    checks = {"track": ("lat", "lon"), "altitude": ("alt_msl_m", "rel_alt_m"), "ground_speed": ("ground_speed_mps",),
              "battery_remaining": ("battery_pct",)}
    out = {name: has(*keys) for name, keys in checks.items()}
    out["modes"] = bool(series and series["modes"])
    out.update({name: any(any(v is not None for v in col) for k, col in extra.get(name, {}).items() if k != "t_s")
                for name in EXTRA})
    out["messages"] = bool(messages)
    out.update({name: False for name, src in SERIES.items() if src is None})
    return out


def flight_detail(store: Store, flight_id: str, terrain: Any = None) -> dict[str, Any] | None:
    """Everything the flight page shows; None when the store has no such flight."""
    f = store.flight(flight_id)
    if f is None:
        return None
    series = _series(f, terrain)
    extra, messages = _extra(store, flight_id)
    recorded = _recorded(series, extra, messages)
    automatic = f.extra.get("automatic", {"severity": f.severity, "outcome": f.outcome})
    log_info = {k: round(v, 1) if isinstance(v, float) else v for k, v in f.extra.items()
                if k in ("file", "format", "vehicle", "firmware", "time_source", "end_reason", "airborne_s",
                         "file_damage", "checks")}
    return {
        "flight": f.to_dict(), "series": series, "recorded": recorded,
        "not_recorded": [SERIES_TITLES[k] for k, v in recorded.items() if not v],
        "relief": relief(terrain, f.telemetry.lat, f.telemetry.lon) if f.telemetry is not None else None,
        "automatic": automatic, "reviews": store.reviews(flight_id), "log": log_info,
        "extra_series": extra, "messages": messages,
    }
