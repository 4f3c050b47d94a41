"""One flight as a picture (matplotlib, PNG): track over hillshade, altitude over terrain, speed, battery, modes.

The same view model as the flight page (:func:`uavsim.web.flight.flight_detail`); series the store does not hold
are named in the caption, never drawn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from uavsim.web.plots import SEVERITY_COLOUR


def _arr(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _track(ax: Any, d: dict[str, Any]) -> None:
    s, rel = d["series"], d["relief"]
    if rel is not None:
        ax.imshow(np.array(rel["shade"], dtype=float), cmap="Greys_r", origin="lower", vmin=0, vmax=1,
                  extent=(rel["lon"][0], rel["lon"][-1], rel["lat"][0], rel["lat"][-1]), aspect=1.0 / rel["coslat"])
    ax.plot(_arr(s["lon"]), _arr(s["lat"]), color="#1f4e9c", lw=1.6)
    for e in d["flight"]["events"]:
        if e.get("lat") is not None and e.get("lon") is not None:
            ax.plot(e["lon"], e["lat"], "x", ms=9, mew=2, color=SEVERITY_COLOUR.get(e["severity"], "k"))
    ax.set_title("Track over hillshade", fontsize=10)
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")


def _altitude(ax: Any, d: dict[str, Any]) -> None:
    s = d["series"]
    t, ground = _arr(s["t_s"]), _arr(s["terrain_msl_m"])
    if np.isfinite(ground).any():
        ax.fill_between(t, np.nanmin(ground) - 10, ground, color="#8c6d46", alpha=0.4, label="terrain")
    ax.plot(t, _arr(s["alt_msl_m"]), color="#1f4e9c", label="altitude MSL")
    ax.set_ylabel("m MSL")
    ax2 = ax.twinx()
    ax2.plot(t, _arr(s["agl_m"]), color="#2e7d32", ls=":", label="AGL")
    ax2.set_ylabel("m AGL")
    ax.set_title("Altitude over the terrain profile", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)


def _line(ax: Any, d: dict[str, Any], key: str, title: str, unit: str) -> None:
    ax.plot(_arr(d["series"]["t_s"]), _arr(d["series"][key]), color="#1f4e9c")
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(unit)


def _modes(ax: Any, d: dict[str, Any]) -> None:
    names: list[str] = []
    for span in d["series"]["modes"]:
        if span["mode"] not in names:
            names.append(span["mode"])
        ax.barh(0, span["t1_s"] - span["t0_s"], left=span["t0_s"], color=f"C{names.index(span['mode']) % 10}",
                label=span["mode"] if names.index(span["mode"]) == len(names) - 1 else None)
    for e in d["flight"]["events"]:
        ax.axvline(e["t_s"], color=SEVERITY_COLOUR.get(e["severity"], "k"), lw=1.5)
    ax.set_yticks([])
    ax.set_title("Flight modes (lines: events)", fontsize=10, loc="right")
    ax.set_xlabel("time since start (s)")
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles, strict=True))
    ax.legend(uniq.values(), uniq.keys(), fontsize=7, ncol=6, loc="lower left", bbox_to_anchor=(0.0, 1.0), frameon=False)


def write_png(d: dict[str, Any], path: str | Path, dpi: int = 110) -> Path:
    """Draw the flight of view model ``d`` into ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    f = d["flight"]
    fig = Figure(figsize=(13, 8.5), layout="constrained")
    grid = fig.add_gridspec(4, 2, width_ratios=(1, 1.3), height_ratios=(3, 2, 2, 1.2))
    if d["series"] is None:
        fig.text(0.5, 0.5, "No telemetry recorded for this flight", ha="center")
    else:
        _track(fig.add_subplot(grid[:, 0]), d)
        _altitude(fig.add_subplot(grid[0, 1]), d)
        _line(fig.add_subplot(grid[1, 1]), d, "ground_speed_mps", "Ground speed", "m/s")
        _line(fig.add_subplot(grid[2, 1]), d, "battery_pct", "Battery remaining", "%")
        _modes(fig.add_subplot(grid[3, 1]), d)
    missing = ", ".join(d["not_recorded"]) or "none"
    fig.suptitle(f"{f['id']}  ·  {f['severity']} / {f['outcome']}  ·  {len(f['events'])} events\n"
                 f"not recorded: {missing}", fontsize=10)
    out = Path(path)
    fig.savefig(out, dpi=dpi)
    return out
