"""The report's charts as matplotlib ``Figure`` objects (no pyplot state, no global backend change).

Each function takes a :class:`~uavsim.report.data.ReportData` and a language and returns one Figure, so the
HTML writer can render it to PNG and the PDF writer can place it on a page.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from uavsim.report.data import ReportData
from uavsim.report.i18n import group_label, label, num, pct, t
from uavsim.safety.stats import RateStats, clopper_pearson_lower, cumulative_series, wilson_interval

SAFE_C, UNSAFE_C, BOUND_C, TARGET_C = "#3d8b5a", "#c0392b", "#1f4e79", "#7f7f7f"
SEVERITY_C = {"none": "#bbbbbb", "observation": "#9db4c0", "incident": "#f0a202",
              "serious_incident": "#d95d39", "accident": "#7b1e1e"}
MAX_GROUPS = 14  # rows per breakdown panel; the rest are pooled as "other"
MIN_MONTH_FLIGHTS = 30  # below this a month's rate is drawn hollow and never joined by a line (its interval is wide)


def new_figure(size: tuple[float, float] = (10.0, 5.6)) -> Figure:
    return Figure(figsize=size, layout="constrained")


def to_png(fig: Figure, dpi: int = 100) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _utc(text: str) -> np.datetime64:
    try:  # any ISO 8601 form ("...Z", "+00:00", fractions, no seconds)
        return np.datetime64(datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None), "s")
    except ValueError:
        return np.datetime64(text[:19], "s")


def _dates(flights: list) -> np.ndarray:
    return np.array([_utc(f.start_utc) for f in flights], dtype="datetime64[s]")


def _err(rate: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Error-bar lengths, clipped at 0 (rounding can put a bound a hair inside the rate)."""
    return np.clip(np.vstack([rate - lo, hi - rate]), 0.0, None)


def _no_data(fig: Figure, lang: str) -> Figure:
    fig.text(0.5, 0.5, t("no_data", lang), ha="center", va="center", fontsize=14, color=TARGET_C)
    return fig


def fig_cumulative(data: ReportData, lang: str) -> Figure:
    """Cumulative safe rate and its one-sided lower bound after each flight, against the target line.

    The x axis counts flights in date order (the bound depends on the count, not on the calendar), with the
    date of a few flights marked, so that months with no flying take no room and flights years apart do not
    squeeze the campaign into a corner."""
    fig = new_figure()
    fig.suptitle(t("fig_cumulative", lang), fontsize=13)
    dated = data.dated
    if not dated:
        return _no_data(fig, lang)
    ax = fig.add_subplot()
    x = _dates(dated)
    order = np.argsort(x, kind="stable")  # time order even if the stored strings mix ISO forms
    when = x[order]
    safe = np.array([f.outcome == "safe" for f in dated])[order]
    rate, lower = cumulative_series(safe, data.confidence)
    n = np.arange(1, rate.size + 1)
    ax.plot(n, 100 * rate, color=SAFE_C, lw=1.6, label=f"{t('safety_rate', lang)}: {pct(rate[-1], lang)}")
    ax.plot(n, 100 * lower, color=BOUND_C, lw=1.6, ls="--",
            label=f"{t('lower_bound', lang, conf=pct(data.confidence, lang, 0))}: {pct(lower[-1], lang)}")
    ax.axhline(100 * data.target, color=UNSAFE_C, lw=1.0, ls=":",
               label=t("target_line", lang, target=pct(data.target, lang, 0)))
    # The whole bound is shown after the first 30 flights (before that it says little: 30 safe flights give
    # a 95 % bound of only 90.5 %); the axis never cuts it off.
    shown = lower[min(lower.size - 1, 29):]
    bottom = min(100 * data.target - 1.0, 100 * float(np.min(shown)) - 0.5)
    ax.set_ylim(max(0.0, bottom), 100.15)
    ax.set_xlim(1, max(2, n[-1]))
    ticks = np.unique(np.linspace(0, n[-1] - 1, min(6, n[-1])).round().astype(int))
    ax.set_xticks(n[ticks], [f"{num(int(n[i]), lang)}\n{str(when[i])[:10]}" for i in ticks], fontsize=8)
    ax.set_ylabel(t("axis_rate", lang))
    ax.set_xlabel(t("axis_flights_dated", lang))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    o = data.summary.overall
    if len(dated) != o.flights:  # the headline counts every flight; the chart only the dated ones: say so
        ax.text(0.02, 0.03, t("chart_vs_headline", lang, n=num(len(dated), lang), total=num(o.flights, lang),
                              rate=pct(o.safety_rate, lang)), transform=ax.transAxes, fontsize=8, color=TARGET_C,
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
    return fig


def _rate_panel(ax, groups: list[RateStats], by: str, data: ReportData, lang: str) -> None:
    """Safe rate with its Wilson interval per group (dot plot), the target as a line."""
    groups = list(groups)
    if len(groups) > MAX_GROUPS:  # pool the smallest groups so the panel stays legible
        rest = groups[MAX_GROUPS - 1:]
        n, u = sum(g.flights for g in rest), sum(g.unsafe for g in rest)
        lower = clopper_pearson_lower(n - u, n, data.confidence)
        pooled = RateStats(
            flights=n, unsafe=u, safety_rate=(n - u) / n, lower_bound=lower, confidence=data.confidence,
            target=data.target, meets_target=lower > data.target, wilson=wilson_interval(n - u, n, data.confidence),
            flight_hours=sum(g.flight_hours for g in rest), unsafe_per_1000_flights=None, unsafe_per_1000_hours=None,
            severity_counts={}, flights_needed=None, group=f"{t('other', lang)} ({len(rest)})",
        )
        groups = groups[:MAX_GROUPS - 1] + [pooled]
    y = np.arange(len(groups))[::-1]
    rate = np.array([100 * (g.safety_rate or 0.0) for g in groups])
    lo = np.array([100 * g.wilson[0] for g in groups])
    hi = np.array([100 * g.wilson[1] for g in groups])
    colours = [SAFE_C if g.meets_target else (UNSAFE_C if g.unsafe else BOUND_C) for g in groups]
    ax.errorbar(rate, y, xerr=_err(rate, lo, hi), fmt="none", ecolor="#555555", elinewidth=1, capsize=2)
    ax.scatter(rate, y, c=colours, zorder=3, s=22)
    ax.axvline(100 * data.target, color=UNSAFE_C, ls=":", lw=1)
    names = [f"{group_label(by, g.group or '', lang)}  (n={num(g.flights, lang)}, {g.unsafe})" for g in groups]
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlim(max(0.0, min(float(lo.min()) - 0.5, 100 * data.target - 1.0)), 100.2)
    ax.set_title(t("fig_outcomes", lang, by=t(f"by_{by}", lang)), fontsize=10)
    ax.set_xlabel(t("axis_rate", lang), fontsize=8)
    ax.grid(axis="x", alpha=0.3)


def fig_outcomes(data: ReportData, lang: str) -> Figure:
    """Outcomes by mission type, site and aircraft: safe rate and Wilson interval per group."""
    fig = new_figure((12.0, 6.0))
    fig.suptitle(f"{t('wilson', lang, conf=pct(data.confidence, lang, 0))}; "
                 f"n = {t('axis_flights', lang).lower()}, {t('n_unsafe', lang).lower()}", fontsize=10)
    axes = fig.subplots(1, 3)
    for ax, by in zip(axes, ("mission_type", "site", "aircraft"), strict=True):
        _rate_panel(ax, data.strata[by], by, data, lang)
    marks = [Line2D([], [], ls="none", marker="o", color=c, label=t(k, lang, target=pct(data.target, lang, 0)))
             for c, k in ((SAFE_C, "meets"), (UNSAFE_C, "not_meets"), (BOUND_C, "few_flights"))]
    fig.legend(handles=marks, loc="outside lower center", ncols=3, fontsize=8)
    return fig


def fig_pareto(data: ReportData, lang: str) -> Figure:
    """Occurrences by event kind, most frequent first, with the cumulative share."""
    fig = new_figure()
    fig.suptitle(t("fig_pareto", lang), fontsize=13)
    counts = data.event_counts()
    if not counts:
        return _no_data(fig, lang)
    ax = fig.add_subplot()
    kinds = [k for k, _, _ in counts]
    n = np.array([c for _, c, _ in counts], dtype=float)
    x = np.arange(len(kinds))
    ax.bar(x, n, color=[SEVERITY_C[s] for _, _, s in counts])
    ax.set_xticks(x, kinds, rotation=40, ha="right", fontsize=8)
    ax.set_ylabel(t("axis_count", lang))
    ax2 = ax.twinx()
    ax2.plot(x, 100 * np.cumsum(n) / n.sum(), color=BOUND_C, marker="o", ms=3)
    ax2.set_ylim(0, 105)
    ax2.set_ylabel(t("axis_cumshare", lang))
    used = [s for s in SEVERITY_C if any(w == s for _, _, w in counts)]
    ax.legend(handles=[Patch(color=SEVERITY_C[s], label=label("sev", s, lang)) for s in used], loc="center right",
              fontsize=8, title=t("severity", lang), title_fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return fig


def _month_index(group: str) -> int:
    year, month = group.split("-")
    return int(year) * 12 + int(month) - 1


def fig_monthly(data: ReportData, lang: str) -> Figure:
    """Flights per month with the monthly safe rate (top), and unsafe flights per month on their own scale
    (bottom), so that one unsafe flight among a thousand stays visible.

    Months without flights are not drawn; a gap in the calendar is marked with a break, and the rate line
    joins only neighbouring months with enough flights to read a rate from."""
    fig = new_figure((10.0, 6.4))
    fig.suptitle(t("fig_monthly", lang), fontsize=13)
    months = [g for g in data.strata["month"] if g.group and g.group != "unknown"]
    if not months:
        return _no_data(fig, lang)
    ax, axu = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    x = np.arange(len(months))
    idx = np.array([_month_index(g.group) for g in months])
    flights = np.array([g.flights for g in months])
    ax.bar(x, flights, color="#c9d6e3", label=t("axis_flights", lang))
    ax.set_ylabel(t("axis_flights", lang))
    ax2 = ax.twinx()
    rate = np.array([100 * (g.safety_rate or 0.0) for g in months])
    lo = np.array([100 * g.wilson[0] for g in months])
    hi = np.array([100 * g.wilson[1] for g in months])
    readable = flights >= MIN_MONTH_FLIGHTS
    ax2.errorbar(x[readable], rate[readable], yerr=_err(rate, lo, hi)[:, readable], fmt="o", color=BOUND_C, ms=4,
                 capsize=2, label=t("safety_rate", lang))
    if (~readable).any():
        ax2.scatter(x[~readable], rate[~readable], facecolors="none", edgecolors=BOUND_C, s=18, zorder=3,
                    label=t("few_month", lang, n=MIN_MONTH_FLIGHTS))
    for i in range(len(months) - 1):  # a line only between neighbouring, readable months
        if idx[i + 1] - idx[i] == 1 and readable[i] and readable[i + 1]:
            ax2.plot(x[i:i + 2], rate[i:i + 2], color=BOUND_C, lw=1.2)
    ax2.axhline(100 * data.target, color=UNSAFE_C, ls=":", lw=1,
                label=t("target_line", lang, target=pct(data.target, lang, 0)))
    floor = lo[readable].min() if readable.any() else 100 * data.target - 2.0
    ax2.set_ylim(max(0.0, min(float(floor) - 0.5, 100 * data.target - 2.0)), 100.3)
    ax2.set_ylabel(t("axis_rate", lang))
    unsafe = np.array([g.unsafe for g in months])
    axu.bar(x, unsafe, color=UNSAFE_C, label=t("n_unsafe", lang))
    for i in np.flatnonzero(unsafe):
        axu.annotate(num(int(unsafe[i]), lang), (x[i], unsafe[i]), xytext=(0, 2), textcoords="offset points",
                     ha="center", fontsize=7)
    axu.set_ylim(0, max(1, int(unsafe.max())) * 1.35)
    axu.set_ylabel(t("n_unsafe_short", lang))
    for i in np.flatnonzero(np.diff(idx) > 1):  # a calendar gap between two drawn months
        for a in (ax, axu):
            a.axvline(x[i] + 0.5, color=TARGET_C, lw=0.8, ls=(0, (2, 2)))
        ax.annotate(t("gap_months", lang, n=num(int(idx[i + 1] - idx[i] - 1), lang)), (x[i] + 0.5, 1.0),
                    xycoords=("data", "axes fraction"), rotation=90, va="top", ha="right", fontsize=6,
                    color=TARGET_C)
    axu.set_xticks(x, [g.group for g in months], rotation=45, ha="right", fontsize=8)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    h3, l3 = axu.get_legend_handles_labels()
    fig.legend(h1 + h3 + h2, l1 + l3 + l2, loc="outside lower center", ncols=5, fontsize=8)
    return fig


def fig_sim_vs_real(data: ReportData, lang: str) -> Figure | None:
    """Simulated and real flights side by side: rates and bounds, and occurrences per 1,000 flights."""
    if not {"sim", "log"} <= set(data.per_source):
        return None
    fig = new_figure((12.0, 5.6))
    fig.suptitle(t("fig_simreal", lang), fontsize=13)
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1, 2])
    srcs = ("sim", "log")
    colours = {"sim": BOUND_C, "log": "#e08e0b"}
    for i, s in enumerate(srcs):
        r = data.per_source[s]
        rate = 100 * (r.safety_rate or 0.0)
        ax1.errorbar([i], [rate], yerr=_err(np.array([rate]), np.array([100 * r.wilson[0]]), np.array([100 * r.wilson[1]])), fmt="o",
                     color=colours[s], capsize=4)
        ax1.plot([i - 0.2, i + 0.2], [100 * r.lower_bound] * 2, color=colours[s], ls="--")
        ax1.annotate(f"{pct(r.safety_rate, lang)}\n≥ {pct(r.lower_bound, lang)}\nn={num(r.flights, lang)}",
                     (i, rate), xytext=(12, -10), textcoords="offset points", fontsize=8)
    ax1.axhline(100 * data.target, color=UNSAFE_C, ls=":", lw=1)
    ax1.set_xticks([0, 1], [label("source", s, lang) for s in srcs])
    ax1.legend(handles=[
        Line2D([], [], marker="o", color="#555555", label=t("wilson", lang, conf=pct(data.confidence, lang, 0))),
        Line2D([], [], ls="--", color="#555555", label=t("lower_bound", lang, conf=pct(data.confidence, lang, 0))),
    ], loc="lower right", fontsize=7)
    ax1.set_xlim(-0.5, 1.9)
    ax1.set_ylabel(t("axis_rate", lang))
    # Occurrence rates per 1,000 flights by kind, for the kinds seen most.
    per: dict[str, dict[str, int]] = {s: {} for s in srcs}
    for f in data.flights:
        for e in f.events:
            per[f.source][e.kind] = per[f.source].get(e.kind, 0) + 1
    kinds = [k for k, _, _ in data.event_counts()][:10]
    y = np.arange(len(kinds))[::-1]
    for j, s in enumerate(srcs):
        n = max(data.per_source[s].flights, 1)
        ax2.barh(y + (0.2 if j == 0 else -0.2), [1000.0 * per[s].get(k, 0) / n for k in kinds], height=0.4,
                 color=colours[s], label=label("source", s, lang))
    ax2.set_yticks(y, kinds, fontsize=8)
    ax2.set_xlabel(t("axis_per1000", lang))
    ax2.legend(fontsize=8)
    ax2.grid(axis="x", alpha=0.3)
    return fig


# name -> builder; the map lives in maps.py (it needs the terrain). None from a builder = figure not applicable.
FIGURES: dict[str, Callable[[ReportData, str], Figure | None]] = {
    "cumulative": fig_cumulative,
    "outcomes": fig_outcomes,
    "pareto": fig_pareto,
    "monthly": fig_monthly,
    "sim_vs_real": fig_sim_vs_real,
}
