"""The map: every track over a hillshade of the terrain, with events marked.

Tracks arrive subsampled (``data.TRACK_POINTS`` each) and are drawn as one LineCollection per outcome, which
keeps 6,000 tracks to a fraction of a second; in the PDF the track layer is rasterised so the file stays small.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.patches import Polygon as MplPolygon

from uavsim.report.data import ReportData
from uavsim.report.figures import SEVERITY_C, UNSAFE_C, new_figure
from uavsim.report.i18n import num, t

log = logging.getLogger(__name__)

M_PER_DEG_LAT = 111_320.0
RELIEF_SIDE = 360  # hillshade samples along the longer side of the map
PAD_FRACTION = 0.06
FOCUS_DEG = 1.5  # half-size of the busiest area shown when tracks are spread over the globe
MIN_RELIEF = 0.2  # draw relief only when the DEM covers at least this share of the map


def focus(data: ReportData) -> np.ndarray:
    """Which tracks the map shows: those over the terrain if any, else the busiest area.

    Real logs can come from anywhere on Earth; a map spanning continents would show nothing. Tracks whose
    centre lies outside the chosen area are counted in a note instead.
    """
    tr = data.tracks
    if not len(tr):
        return np.zeros(0, bool)
    clat = np.array([np.median(a) for a in tr.lat])
    clon = np.array([np.median(a) for a in tr.lon])
    if data.terrain is not None:
        w, s, e, n = data.terrain.bounds_wgs84
        inside = (clat >= s) & (clat <= n) & (clon >= w) & (clon <= e)
        if inside.any():
            return inside
    if np.ptp(clat) <= 2 * FOCUS_DEG and np.ptp(clon) <= 2 * FOCUS_DEG:
        return np.ones(len(tr), bool)
    cells = np.floor(clat / FOCUS_DEG).astype(int) * 100_000 + np.floor(clon / FOCUS_DEG).astype(int)
    vals, counts = np.unique(cells, return_counts=True)
    best = cells == vals[np.argmax(counts)]
    lat0, lon0 = np.median(clat[best]), np.median(clon[best])
    return (np.abs(clat - lat0) <= FOCUS_DEG) & (np.abs(clon - lon0) <= FOCUS_DEG)


def _extent(data: ReportData, shown: np.ndarray) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) around the shown tracks (or every event, without tracks), padded."""
    tr = data.tracks
    if shown.any():
        lat = np.concatenate([a for a, k in zip(tr.lat, shown, strict=True) if k])
        lon = np.concatenate([a for a, k in zip(tr.lon, shown, strict=True) if k])
    else:
        lat, lon = tr.event_lat, tr.event_lon
    if lat.size == 0:
        return None
    s, n, w, e = float(lat.min()), float(lat.max()), float(lon.min()), float(lon.max())
    pad = PAD_FRACTION * max(n - s, e - w, 0.01)
    return w - pad, s - pad, e + pad, n + pad


def relief(terrain: Any, extent: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray] | None:
    """Elevation grid (m MSL, rows north to south) and its hillshade over ``extent``; None without terrain."""
    if terrain is None:
        return None
    from uavsim.terrain.hillshade import hillshade

    w, s, e, n = extent
    coslat = np.cos(np.radians(0.5 * (s + n)))
    wide = (e - w) * coslat >= (n - s)
    nx = RELIEF_SIDE if wide else max(2, int(RELIEF_SIDE * (e - w) * coslat / (n - s)))
    ny = max(2, int(RELIEF_SIDE * (n - s) / ((e - w) * coslat))) if wide else RELIEF_SIDE
    lat = np.linspace(n, s, ny)
    lon = np.linspace(w, e, nx)
    lon_g, lat_g = np.meshgrid(lon, lat)
    elev = terrain.elevation(lat_g.ravel(), lon_g.ravel()).reshape(ny, nx)
    if np.isfinite(elev).mean() < MIN_RELIEF:
        return None
    dx = (e - w) / (nx - 1) * M_PER_DEG_LAT * coslat
    dy = (n - s) / (ny - 1) * M_PER_DEG_LAT
    return elev, hillshade(elev, dx, dy)


AREA_STYLE = {  # kind -> (edge colour, fill alpha, line style)
    "prohibited": ("#b00020", 0.18, "-"),
    "restricted": ("#e07b00", 0.07, "--"),
    "permit": ("#2e7d32", 0.0, ":"),
}


def _background(ax: Any, data: ReportData, extent: tuple[float, float, float, float], lang: str) -> list[Any]:
    """Zones, permit areas and named places inside ``extent``; returns legend handles for what was drawn."""
    ctx = data.context
    if ctx is None:
        return []
    w, s, e, n = extent
    drawn: set[str] = set()
    for area in ctx.areas:
        edge, alpha, ls = AREA_STYLE.get(area.kind, ("#555555", 0.0, "-"))
        for lat, lon in area.rings:
            if lon.max() < w or lon.min() > e or lat.max() < s or lat.min() > n:
                continue
            ax.add_patch(MplPolygon(np.column_stack((lon, lat)), closed=True, facecolor=(*to_rgb(edge), alpha),
                                    edgecolor=edge, lw=1.0, ls=ls, zorder=1.5))
            drawn.add(area.kind)
    inside = [(vi, en, lat, lon) for vi, en, lat, lon in ctx.sites if w <= lon <= e and s <= lat <= n]
    for _vi, _en, lat, lon in inside:
        ax.plot(lon, lat, marker="^", color="black", ms=5, zorder=4)
    _place_labels(ax, [((vi if lang == "vi" else en), lon, lat) for vi, en, lat, lon in inside])
    handles = [Patch(facecolor=(*to_rgb(AREA_STYLE[k][0]), AREA_STYLE[k][1]), edgecolor=AREA_STYLE[k][0],
                     ls=AREA_STYLE[k][2], label=t(f"zone_{k}", lang)) for k in AREA_STYLE if k in drawn]
    return handles


def fig_map(data: ReportData, lang: str) -> Figure:
    fig = new_figure((10.0, 8.0))
    fig.suptitle(t("fig_map", lang), fontsize=13)
    shown = focus(data)
    extent = _extent(data, shown)
    if extent is None:
        fig.text(0.5, 0.5, t("no_data", lang), ha="center", va="center", fontsize=14)
        return fig
    w, s, e, n = extent
    ax = fig.add_subplot()
    key = ("relief", extent)
    if key not in data.cache:  # the same relief serves every language
        data.cache[key] = relief(data.terrain, extent)
    rel = data.cache[key]
    if rel is not None:
        _draw_relief(fig, ax, *rel, (w, e, s, n))
    tr = data.tracks
    for unsafe, colour, lw, alpha in ((False, "#1f4e79", 0.5, 0.25), (True, UNSAFE_C, 1.3, 0.9)):
        segs = [np.column_stack((lo, la)) for lo, la, u, k in zip(tr.lon, tr.lat, tr.unsafe, shown, strict=True)
                if u == unsafe and k]
        if segs:
            lc = LineCollection(segs, colors=colour, linewidths=lw, alpha=alpha, zorder=2)
            lc.set_rasterized(True)
            ax.add_collection(lc)
    here = (tr.event_lon >= w) & (tr.event_lon <= e) & (tr.event_lat >= s) & (tr.event_lat <= n)
    minor = here & ~tr.event_unsafe
    major = here & tr.event_unsafe
    if minor.any():
        ax.scatter(tr.event_lon[minor], tr.event_lat[minor], s=9, c=SEVERITY_C["incident"], marker="o",
                   edgecolors="none", zorder=3, label=t("sev_incident", lang), rasterized=True)
    if major.any():
        ax.scatter(tr.event_lon[major], tr.event_lat[major], s=60, c=SEVERITY_C["accident"],
                   marker="X", edgecolors="white", linewidths=0.6, zorder=4, label=t("unsafe", lang))
    zone_handles = _background(ax, data, extent, lang)
    ax.plot([], [], color="#1f4e79", lw=1, label=t("tracks", lang, n=num(int(shown.sum()), lang)))
    ax.set_xlim(w, e)
    ax.set_ylim(s, n)
    ax.set_aspect(1.0 / np.cos(np.radians(0.5 * (s + n))))  # equal metres on both axes
    ax.ticklabel_format(useOffset=False)
    ax.set_xlabel(t("axis_lon", lang))
    ax.set_ylabel(t("axis_lat", lang))
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles=handles + zone_handles, loc="upper left", fontsize=8)
    if rel is None:
        note = t("no_terrain" if data.terrain is None else "terrain_outside", lang)
    elif getattr(data.terrain, "synthetic", False):
        note = t("synthetic_terrain", lang)
    else:
        note = str(getattr(data.terrain, "path", ""))
    if shown.size and not shown.all():
        note += "\n" + t("tracks_elsewhere", lang, n=num(int((~shown).sum()), lang))
    ax.text(0.99, 0.01, note, transform=ax.transAxes, ha="right", va="bottom", fontsize=9,
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"}, zorder=5)
    return fig


# Label positions tried in turn (offset in points, alignment), so that names of nearby places do not overlap.
_LABEL_SLOTS = (((4, 3), "left", "bottom"), ((4, -3), "left", "top"), ((-4, 3), "right", "bottom"),
                ((-4, -3), "right", "top"), ((0, 8), "center", "bottom"), ((0, -8), "center", "top"))


def _place_labels(ax: Any, labels: list[tuple[str, float, float]]) -> None:
    """Annotate each (name, lon, lat) at the first slot whose box overlaps no label placed before it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = ax.get_figure()
    renderer = (fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)).get_renderer()
    placed: list[Any] = []
    for name, lon, lat in sorted(labels, key=lambda x: (-x[2], x[1])):  # north first: reading order
        for k, (offset, ha, va) in enumerate(_LABEL_SLOTS):
            ann = ax.annotate(name, (lon, lat), xytext=offset, textcoords="offset points", ha=ha, va=va,
                              fontsize=7, zorder=4, bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none",
                                                          "pad": 0.5})
            box = ann.get_window_extent(renderer)
            if k == len(_LABEL_SLOTS) - 1 or not any(box.overlaps(p) for p in placed):
                placed.append(box)
                break
            ann.remove()


def _draw_relief(fig: Any, ax: Any, elev: np.ndarray, shade: np.ndarray, extent: tuple[float, ...]) -> None:
    """Elevation colours lit by the hillshade (colour hue from the elevation, lightness from the shade), so that
    the colour bar's colours are the map's colours; nodata stays blank."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    known = np.isfinite(elev)
    lo, hi = (float(np.nanmin(elev)), float(np.nanmax(elev))) if known.any() else (0.0, 1.0)
    norm = Normalize(lo, hi if hi > lo else lo + 1.0)
    cmap = colormaps["terrain"]
    rgba = cmap(norm(np.where(known, elev, lo)))
    light = 0.55 + 0.45 * np.clip(np.nan_to_num(shade, nan=1.0), 0.0, 1.0)  # keep the hue readable in shadow
    rgba[..., :3] *= light[..., None]
    rgba[..., 3] = np.where(known, 0.9, 0.0)
    ax.imshow(rgba, extent=extent, origin="upper", interpolation="bilinear", zorder=0)
    fig.colorbar(ScalarMappable(norm, cmap), ax=ax, shrink=0.6, label="m MSL")
