"""Plotly figures (plain JSON dicts for plotly.js) of the dashboard and of one flight.

Every text that came from a log (event details, evidence, mode names) is HTML-escaped here, because plotly.js
renders a subset of HTML in hover labels and annotations.
"""

from __future__ import annotations

import html
from datetime import date, timedelta
from typing import Any

SEVERITY_COLOUR = {"none": "#4c78a8", "observation": "#72b7b2", "incident": "#f2a93b",
                   "serious_incident": "#e4572e", "accident": "#8b0000"}
MODE_COLOURS = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2", "#eeca3b", "#9d755d",
                "#bab0ac", "#ff9da6")
_BASE = {"margin": {"l": 60, "r": 60, "t": 36, "b": 44}, "height": 300, "hovermode": "x unified",
         "legend": {"orientation": "h", "y": -0.25}}


def esc(text: Any) -> str:
    return html.escape(str(text if text is not None else ""), quote=True)


def _layout(title: str, xtitle: str = "time since start (s)", **extra: Any) -> dict[str, Any]:
    layout = dict(_BASE, title={"text": esc(title), "font": {"size": 14}}, xaxis={"title": {"text": xtitle}})
    layout.update(extra)
    return layout


def _line(x: list, y: list, name: str, **extra: Any) -> dict[str, Any]:
    return dict({"type": "scatter", "mode": "lines", "x": x, "y": y, "name": esc(name)}, **extra)


def _event_text(e: dict[str, Any]) -> str:
    return (f"<b>{esc(e['kind'])}</b> ({esc(e['severity'])}) t={e['t_s']:.1f} s<br>{esc(e['detail'])}"
            f"<br><i>{esc(e['evidence'])[:300]}</i>")


def fig_map(d: dict[str, Any]) -> dict[str, Any]:
    s, events, rel = d["series"], d["flight"]["events"], d["relief"]
    traces: list[dict[str, Any]] = []
    if rel is not None:
        traces.append({"type": "heatmap", "x": rel["lon"], "y": rel["lat"], "z": rel["shade"], "customdata": rel["elev"],
                       "colorscale": "Greys", "showscale": False, "zmin": -0.6, "zmax": 1.0,
                       "hovertemplate": "%{customdata:.0f} m MSL<extra>terrain</extra>", "name": "terrain"})
    traces.append(_line(s["lon"], s["lat"], "track", line={"color": "#1f4e9c", "width": 2.5},
                        text=[f"t={t:.0f} s" if t is not None else "" for t in s["t_s"]], hoverinfo="text"))
    located = [e for e in events if e.get("lat") is not None and e.get("lon") is not None]
    if located:
        traces.append({"type": "scatter", "mode": "markers", "name": "events", "x": [e["lon"] for e in located],
                       "y": [e["lat"] for e in located], "text": [_event_text(e) for e in located],
                       "hoverinfo": "text", "marker": {"size": 12, "symbol": "x", "line": {"width": 1},
                                                       "color": [SEVERITY_COLOUR.get(e["severity"], "#000") for e in located]}})
    coslat = rel["coslat"] if rel else 1.0
    xaxis = {"title": {"text": "longitude (°)"}, "constrain": "domain"}
    yaxis = {"title": {"text": "latitude (°)"}, "scaleanchor": "x", "scaleratio": 1.0 / coslat, "constrain": "domain"}
    if rel:
        xaxis["range"], yaxis["range"] = [rel["lon"][0], rel["lon"][-1]], [rel["lat"][0], rel["lat"][-1]]
    title = ("Track over the terrain's hillshade (synthetic unless a DEM was given)" if rel else
             "Track (no terrain known here: outside the DEM, or no DEM)")
    layout = _layout(title, xaxis=xaxis,
                     yaxis=yaxis, height=560, hovermode="closest")
    return {"data": traces, "layout": layout}


def fig_altitude(d: dict[str, Any]) -> dict[str, Any]:
    s = d["series"]
    data = [
        _line(s["t_s"], s["terrain_msl_m"], "terrain beneath (m MSL)", fill="tozeroy",
              line={"color": "#8c6d46", "width": 1}, fillcolor="rgba(140,109,70,0.35)"),
        _line(s["t_s"], s["alt_msl_m"], "altitude (m MSL)", line={"color": "#1f4e9c"}),
        _line(s["t_s"], s["agl_m"], "height above terrain (m AGL)", yaxis="y2", line={"color": "#2e7d32"}),
        _line(s["t_s"], s["rel_alt_m"], "height above home (m)", yaxis="y2", line={"color": "#999", "dash": "dash"}),
    ]
    low = [v for v in s["terrain_msl_m"] + s["alt_msl_m"] if v is not None]
    y1 = {"title": {"text": "m MSL"}, "domain": [0.42, 1.0]}
    if low:
        y1["range"] = [min(low) - 20, max(low) + 20]
    layout = _layout("Altitude MSL over the terrain profile (top), height AGL and above home (bottom)", yaxis=y1,
                     yaxis2={"title": {"text": "m"}, "domain": [0.0, 0.34], "anchor": "x"}, height=440)
    layout["xaxis"]["anchor"] = "y2"  # the time axis under the lower panel
    return {"data": data, "layout": layout}


def fig_speed(d: dict[str, Any]) -> dict[str, Any]:
    s = d["series"]
    return {"data": [_line(s["t_s"], s["ground_speed_mps"], "ground speed (m/s)")],
            "layout": _layout("Ground speed", yaxis={"title": {"text": "m/s"}, "rangemode": "tozero"})}


def fig_battery(d: dict[str, Any]) -> dict[str, Any]:
    s = d["series"]
    return {"data": [_line(s["t_s"], s["battery_pct"], "remaining (%)", line={"color": "#54a24b"})],
            "layout": _layout("Battery remaining", yaxis={"title": {"text": "%"}, "range": [0, 105]})}


def fig_modes(d: dict[str, Any]) -> dict[str, Any]:
    names: list[str] = []  # in order of first appearance: each mode keeps one colour and one legend entry
    data = []
    for span in d["series"]["modes"]:
        first = span["mode"] not in names
        if first:
            names.append(span["mode"])
        colour = MODE_COLOURS[names.index(span["mode"]) % len(MODE_COLOURS)]
        data.append({"type": "bar", "orientation": "h", "y": ["mode"], "x": [max(span["t1_s"] - span["t0_s"], 0.5)],
                     "base": [span["t0_s"]], "name": esc(span["mode"]), "legendgroup": esc(span["mode"]),
                     "showlegend": first, "marker": {"color": colour},
                     "hovertemplate": f"{esc(span['mode'])}: %{{base:.0f}}–{span['t1_s']:.0f} s<extra></extra>"})
    layout = _layout("Flight modes", height=170, barmode="overlay", hovermode="closest",
                     yaxis={"showticklabels": False})
    return {"data": data, "layout": layout}


def fig_events(d: dict[str, Any]) -> dict[str, Any]:
    events = d["flight"]["events"]
    data = [{"type": "scatter", "mode": "markers", "name": esc(sev), "x": [e["t_s"] for e in evs],
             "y": [esc(e["kind"]) for e in evs], "text": [_event_text(e) for e in evs], "hoverinfo": "text",
             "marker": {"size": 13, "color": SEVERITY_COLOUR.get(sev, "#000"), "symbol": "diamond"}}
            for sev in SEVERITY_COLOUR if (evs := [e for e in events if e["severity"] == sev])]
    height = 140 + 28 * len({e["kind"] for e in events})
    layout = _layout("Events (hover for the evidence)", height=height, hovermode="closest",
                     yaxis={"automargin": True, "type": "category"})
    end = max([d["flight"]["duration_s"] or 0.0] + [e["t_s"] or 0.0 for e in events])
    layout["xaxis"]["range"] = [-0.02 * end, 1.02 * end]  # the whole flight, as the other plots
    return {"data": data, "layout": layout}


def _two_axes(d: dict[str, Any], name: str, title: str, left: tuple[str, str, str], right: tuple[str, str, str],
              ) -> dict[str, Any]:
    """One extra series: a left column and a right column (key, legend label, axis title)."""
    s = d["extra_series"][name]
    data = [_line(s["t_s"], s[left[0]], left[1]), _line(s["t_s"], s[right[0]], right[1], yaxis="y2")]
    return {"data": data, "layout": _layout(title, yaxis={"title": {"text": left[2]}},
                                            yaxis2={"title": {"text": right[2]}, "overlaying": "y", "side": "right"})}


def fig_attitude(d: dict[str, Any]) -> dict[str, Any]:
    s = d["extra_series"]["attitude"]
    data = [_line(s["t_s"], s["roll_deg"], "roll", line={"color": "#1f4e9c"}),
            _line(s["t_s"], s["des_roll_deg"], "desired roll", line={"color": "#1f4e9c", "dash": "dot"}),
            _line(s["t_s"], s["pitch_deg"], "pitch", line={"color": "#e4572e"}),
            _line(s["t_s"], s["des_pitch_deg"], "desired pitch", line={"color": "#e4572e", "dash": "dot"})]
    return {"data": data, "layout": _layout("Attitude: actual and desired", yaxis={"title": {"text": "degrees"}})}


def fig_vibration(d: dict[str, Any]) -> dict[str, Any]:
    return _two_axes(d, "vibration", "Vibration (worst axis) and accelerometer clipping",
                     ("vibe_mps2", "vibration (m/s²)", "m/s²"), ("clip", "clipping count", "clips"))


def fig_gps(d: dict[str, Any]) -> dict[str, Any]:
    return _two_axes(d, "gps_quality", "GPS satellites and HDOP", ("sats", "satellites", "satellites"),
                     ("hdop", "HDOP", "HDOP"))


def fig_electrics(d: dict[str, Any]) -> dict[str, Any]:
    return _two_axes(d, "battery_voltage_current", "Battery voltage and current", ("volt_v", "voltage (V)", "V"),
                     ("curr_a", "current (A)", "A"))


# Flight page: figure id -> (series that must be recorded, builder).
FLIGHT_FIGURES = {
    "map": ("track", fig_map), "altitude": ("altitude", fig_altitude), "speed": ("ground_speed", fig_speed),
    "battery": ("battery_remaining", fig_battery), "electrics": ("battery_voltage_current", fig_electrics),
    "attitude": ("attitude", fig_attitude), "vibration": ("vibration", fig_vibration), "gps": ("gps_quality", fig_gps),
    "modes": ("modes", fig_modes),
}


def flight_figures(d: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The flight page's figures (only those whose series are recorded), plus the events timeline."""
    out = {name: build(d) for name, (need, build) in FLIGHT_FIGURES.items() if d["recorded"].get(need)}
    if d["flight"]["events"]:
        out["events"] = fig_events(d)
    return out


def month_breaks(months: list[str], gap_days: int = 120) -> list[dict[str, Any]]:
    """Plotly range breaks over long runs of months without flights (a 2014 log beside the 2026 campaign):
    the axis stays a calendar, broken where nothing was flown."""
    days = [date.fromisoformat(m) for m in months]
    return [{"bounds": [(a + timedelta(days=31)).isoformat(), (b - timedelta(days=15)).isoformat()]}
            for a, b in zip(days, days[1:], strict=False) if (b - a).days > gap_days]


def dashboard_figures(m: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Monthly flights (bars) and unsafe flights (markers on their own axis), and the monthly safe rate."""
    tr = m["trend"]
    target = m["overall"]["target"]
    breaks = month_breaks(tr["month"])
    counts = {"data": [
        {"type": "bar", "x": tr["month"], "y": tr["flights"], "name": "flights", "marker": {"color": "#9ecae1"}},
        {"type": "scatter", "mode": "markers+text", "x": [x for x, u in zip(tr["month"], tr["unsafe"], strict=True) if u],
         "y": [u for u in tr["unsafe"] if u], "text": [str(u) for u in tr["unsafe"] if u], "textposition": "top center",
         "yaxis": "y2", "name": "unsafe flights", "marker": {"color": "#e4572e", "size": 11, "symbol": "x"}},
    ], "layout": _layout("Flights per month, and unsafe flights (right axis)", "month (local time)",
                         yaxis={"title": {"text": "flights"}}, hovermode="x",
                         yaxis2={"title": {"text": "unsafe"}, "overlaying": "y", "side": "right",
                                 "range": [0, max(tr["unsafe"] or [0]) + 1.5], "dtick": 1, "showgrid": False},
                         xaxis={"type": "date", "title": {"text": "month (local time)"}, "rangebreaks": breaks})}
    rate = {"data": [
        {"type": "scatter", "mode": "markers", "x": tr["month"], "y": tr["safety_rate"], "name": "safe rate",
         "marker": {"color": "#1f4e9c", "size": 8}, "customdata": tr["flights"],
         "hovertemplate": "%{x|%Y-%m}: %{y:.2%} of %{customdata} flights<extra></extra>"},
        {"type": "scatter", "mode": "markers", "x": tr["month"], "y": tr["lower_bound"], "name": "one-sided lower bound",
         "marker": {"color": "#999", "symbol": "triangle-up", "size": 8}},
        {"type": "scatter", "mode": "lines", "x": [tr["month"][0], tr["month"][-1]] if tr["month"] else [],
         "y": [target, target], "name": f"target {target:.0%}", "line": {"color": "#e4572e", "dash": "dash"}},
    ], "layout": _layout("Safe rate per month with its lower bound (months are not joined: each stands alone)",
                         "month (local time)", yaxis={"title": {"text": "safe rate"}, "tickformat": ".1%"},
                         xaxis={"type": "date", "title": {"text": "month (local time)"}, "rangebreaks": breaks},
                         hovermode="closest")}
    return {"trend_counts": counts, "trend_rate": rate}
