"""Plan figures: a map over the terrain hillshade with zones, and the vertical profile over the terrain.

matplotlib Figure objects only (no pyplot global state).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from uavsim import geo
from uavsim.planning import Plan
from uavsim.terrain.hillshade import hillshade

if TYPE_CHECKING:
    from uavsim.scenario import Scenario
    from uavsim.terrain import Terrain

MAP_MARGIN_DEG = 0.01
MAP_PIXELS = 500
MAP_ASPECT = 0.86 * 11 / (0.57 * 8)  # width / height of the map axes on the figure


def _legs(plan: Plan) -> list[np.ndarray]:
    return [s.waypoints for s in plan.sorties] if plan.sorties else [plan.waypoints]


def plan_figure(plan: Plan, terrain: Terrain, scenario: Scenario | None = None, title: str = "") -> Figure:
    fig = Figure(figsize=(11, 8), dpi=100)
    ax_map = fig.add_axes((0.07, 0.38, 0.86, 0.57))
    ax_prof = fig.add_axes((0.07, 0.06, 0.86, 0.24))
    wps = [w for w in _legs(plan) if len(w)]
    allw = np.concatenate(wps) if wps else np.zeros((0, 3))
    if allw.size:
        # a map of equal scale north-south and east-west, wider than tall like the axes
        lat_c = 0.5 * (allw[:, 0].min() + allw[:, 0].max())
        lon_c = 0.5 * (allw[:, 1].min() + allw[:, 1].max())
        k = math.cos(math.radians(lat_c))
        half_h = 0.5 * (allw[:, 0].max() - allw[:, 0].min()) + MAP_MARGIN_DEG
        half_w = 0.5 * (allw[:, 1].max() - allw[:, 1].min()) + MAP_MARGIN_DEG
        half_h = max(half_h, half_w * k / MAP_ASPECT)
        half_w = max(half_w, half_h * MAP_ASPECT / k)
        s, n, w, e = lat_c - half_h, lat_c + half_h, lon_c - half_w, lon_c + half_w
        lats = np.linspace(n, s, MAP_PIXELS)
        lons = np.linspace(w, e, MAP_PIXELS)
        glon, glat = np.meshgrid(lons, lats)
        z = terrain.elevation(glat.ravel(), glon.ravel()).reshape(glat.shape)
        dy = float(geo.geodesic_distance(s, w, n, w)) / MAP_PIXELS
        dx = float(geo.geodesic_distance(s, w, s, e)) / MAP_PIXELS
        ax_map.imshow(hillshade(z, dx, dy), extent=(w, e, s, n), cmap="gray", vmin=0, vmax=1, aspect="auto")
        ax_map.imshow(np.ma.masked_invalid(z), extent=(w, e, s, n), cmap="terrain", alpha=0.35, aspect="auto")
        if scenario is not None:
            _zones(ax_map, scenario, plan.aircraft_id)
        ax_map.set_xlim(w, e)
        ax_map.set_ylim(s, n)
        ax_map.set_aspect(1.0 / k, adjustable="box")
    for i, wp in enumerate(wps):
        ax_map.plot(wp[:, 1], wp[:, 0], "-", lw=1.2, color=f"C{i % 10}")
        ax_map.plot(wp[0, 1], wp[0, 0], "k^", ms=8)
    for seg in plan.extra.get("shadow_segments", []):
        ax_map.plot(seg["lon"], seg["lat"], "x", color="orange", ms=7)
    ax_map.set_xlabel("longitude (°E)")
    ax_map.set_ylabel("latitude (°N)")
    verdict = "FEASIBLE" if plan.feasible else "NOT FEASIBLE"
    syn = "  [SYNTHETIC terrain]" if terrain.synthetic else ""
    ax_map.set_title(f"{title or plan.kind} — {plan.aircraft_id} — {verdict}{syn}")
    _profile(ax_prof, wps[0] if wps else allw, terrain, str(plan.extra.get("crs", geo.UTM48N)))
    for k, seg in enumerate(plan.extra.get("shadow_segments", [])):
        ax_prof.axvspan(seg["from_m"] / 1000, seg["to_m"] / 1000, color="orange", alpha=0.15,
                        label="no radio line of sight" if k == 0 else None)
    if plan.extra.get("shadow_segments"):
        ax_prof.legend(loc="upper right", fontsize=8)
    return fig


def _zones(ax, scenario: Scenario, aircraft: str) -> None:
    for z in scenario.airspace.zones:
        for poly in getattr(z.geom, "geoms", [z.geom]):
            x, y = poly.exterior.xy
            lat, lon = geo.from_utm(np.asarray(x), np.asarray(y))
            ax.plot(lon, lat, color="red" if z.kind == "prohibited" else "purple", lw=1.0)
    for p in scenario.airspace.permits:
        if p.aircraft and aircraft not in p.aircraft:
            continue
        for poly in getattr(p.geom, "geoms", [p.geom]):
            x, y = poly.exterior.xy
            lat, lon = geo.from_utm(np.asarray(x), np.asarray(y))
            ax.plot(lon, lat, color="green", lw=0.8, ls="--")


def _profile(ax, wp: np.ndarray, terrain: Terrain, crs: str) -> None:
    if len(wp) < 2:
        return
    x, y = geo.to_utm(wp[:, 0], wp[:, 1], crs)  # a checked mission file lies in its own UTM zone
    d = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    dd = np.linspace(0, d[-1], max(int(d[-1] / 20), 2))
    lat, lon = geo.from_utm(np.interp(dd, d, x), np.interp(dd, d, y), crs)
    ground = terrain.elevation(lat, lon)
    ax.fill_between(dd / 1000, np.nan_to_num(ground, nan=np.nanmin(ground) if np.isfinite(ground).any() else 0),
                    (np.nanmin(ground) if np.isfinite(ground).any() else 0) - 30, color="#c8b48c")
    ax.plot(dd / 1000, ground + 120, ":", color="purple", lw=0.8, label="120 m AGL")
    ax.plot(d / 1000, wp[:, 2], "-o", ms=2, color="C0", label="plan (m MSL)")
    ax.set_xlabel("distance along track (km)")
    ax.set_ylabel("m MSL")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)


def save_plan_figure(plan: Plan, terrain: Terrain, path: str | Path, scenario: Scenario | None = None,
                     title: str = "") -> Path:
    plan_figure(plan, terrain, scenario, title).savefig(path)
    return Path(path)
