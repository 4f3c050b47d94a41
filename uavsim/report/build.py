"""Build the analyst report: figures, HTML and PDF in each language, from one gathering of the store.

Matplotlib settings are applied in an ``rc_context`` around the work only, so calling this leaves no global state.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from uavsim.errors import InputError

log = logging.getLogger(__name__)

FORMATS = ("html", "pdf", "png")  # png: each figure as its own file in OUT/figures (for a README, slides)
DEFAULT_FORMATS = ("html", "pdf")
# DejaVu Sans ships with matplotlib and has every Vietnamese letter; TrueType embedding keeps PDF text extractable.
RC = {"font.family": "DejaVu Sans", "pdf.fonttype": 42, "svg.fonttype": "none", "axes.titlesize": 11,
      "figure.dpi": 100, "path.simplify": True,
      "text.parse_math": False}  # names and log messages are text: a '$' in them renders as itself


def split_choices(values: Iterable[str], allowed: tuple[str, ...], what: str,
                  default: tuple[str, ...] | None = None) -> list[str]:
    """'vi,en' or repeated values -> unique list in the given order; an unknown value is an InputError."""
    out: list[str] = []
    for v in values:
        for part in str(v).split(","):
            part = part.strip().lower()
            if not part:
                continue
            if part not in allowed:
                raise InputError(f"{what} must be among {', '.join(allowed)}, got {part!r}")
            if part not in out:
                out.append(part)
    return out or list(default or allowed)


def build_report(db: str | Path, out_dir: str | Path, langs: Iterable[str] = ("vi", "en"),
                 formats: Iterable[str] = DEFAULT_FORMATS, *, confidence: float = 0.95, target: float = 0.99,
                 cluster: str = "day", n_boot: int = 2000, seed: int = 0, max_tracks: int | None = None,
                 dem: str | Path | None = None, scenario: str | Path | None = None, terrain: bool = True,
                 dpi: int = 100, generated: str | None = None, utc_offset_h: float = 7.0,
                 source: str | None = None, forecast: str | Path | None = None) -> dict[str, Any]:
    """Write ``report-<lang>.html`` / ``.pdf`` into ``out_dir``; returns the headline figures, files and timings.

    An empty or missing store raises :class:`~uavsim.errors.StoreError` before anything is written.
    ``source`` ("sim" or "log") limits the report to simulated or to flown flights; by default both are pooled.
    ``forecast``: a ``uavsim forecast --json`` file, drawn as the forecast section (fan chart).
    """
    import matplotlib

    from uavsim.report.data import gather
    from uavsim.report.i18n import LANGS

    langs = split_choices(langs, LANGS, "--lang")
    forecast_doc = None
    if forecast is not None:  # read before anything is written: a bad file leaves nothing behind
        from uavsim.sim.forecast_figure import load_forecast

        forecast_doc = load_forecast(forecast)
    formats = split_choices(formats, FORMATS, "--format", DEFAULT_FORMATS)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    data = gather(db, confidence=confidence, target=target, cluster=cluster, n_boot=n_boot, seed=seed,
                  max_tracks=max_tracks, dem=dem, terrain=terrain, scenario=scenario,
                  utc_offset_h=utc_offset_h, source=source)
    timings["gather_s"] = time.perf_counter() - t0
    out = Path(out_dir)
    try:
        if out.exists() and not out.is_dir():
            raise InputError(f"{out}: exists and is not a directory")
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out}: cannot make the report folder ({exc.strerror or exc})") from exc
    if not os.access(out, os.W_OK | os.X_OK):
        raise InputError(f"{out}: cannot write the report here (the folder is read-only)")
    generated = generated or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    files: list[str] = []
    with matplotlib.rc_context(RC):
        for lang in langs:
            files += _write_language(data, lang, formats, out, generated, dpi, timings, forecast_doc)
    timings["total_s"] = time.perf_counter() - t0
    o = data.summary.overall
    log.info("report for %d flights written to %s in %.1f s", o.flights, out, timings["total_s"])
    return {
        "out": str(out), "files": files, "flights": o.flights, "unsafe": o.unsafe, "safety_rate": o.safety_rate,
        "lower_bound": o.lower_bound, "source": source or "all", "confidence": confidence, "target": target, "meets_target": o.meets_target,
        "tracks": len(data.tracks), "terrain": getattr(data.terrain, "path", None),
        "terrain_synthetic": bool(getattr(data.terrain, "synthetic", False)), "timings": timings,
    }


FIGURE_ORDER = ("cumulative", "outcomes", "pareto", "monthly", "map", "sim_vs_real")
CAPTIONS = {"cumulative": "fig_cumulative", "outcomes": "fig_outcomes", "pareto": "fig_pareto",
            "monthly": "fig_monthly", "map": "fig_map", "sim_vs_real": "fig_simreal"}


def _write_language(data: Any, lang: str, formats: list[str], out: Path, generated: str, dpi: int,
                    timings: dict[str, float], forecast: dict[str, Any] | None = None) -> list[str]:
    """One language's figures and files; ``timings`` gains this language's entries."""
    from uavsim.report import figures as F
    from uavsim.report.html import write_html
    from uavsim.report.i18n import t
    from uavsim.report.maps import fig_map
    from uavsim.report.pdf import write_pdf

    builders = {**F.FIGURES, "map": fig_map}
    files: list[str] = []
    t1 = time.perf_counter()
    figs = []
    for name in FIGURE_ORDER:
        fig = builders[name](data, lang)
        if fig is not None:
            cap = t(CAPTIONS[name], lang, by=", ".join(t(f"by_{b}", lang) for b in ("mission_type", "site", "aircraft")))
            if name == "map" and getattr(data.terrain, "synthetic", False):
                cap += f" ({t('synthetic_terrain', lang)})"  # the caption says it too, not only the picture
            figs.append((name, cap, fig))
    if forecast is not None:
        from uavsim.sim.forecast_figure import forecast_figure

        fig, cap = forecast_figure(forecast, lang)
        figs.append(("forecast", cap, fig))
    timings[f"figures_{lang}_s"] = time.perf_counter() - t1
    if "html" in formats or "png" in formats:
        t1 = time.perf_counter()
        pngs = [(n, c, F.to_png(f, dpi)) for n, c, f in figs]
        if "html" in formats:
            files.append(str(write_html(out / f"report-{lang}.html", data, lang, pngs, generated)))
        if "png" in formats:
            (out / "figures").mkdir(exist_ok=True)
            for n, _c, png in pngs:
                (out / "figures" / f"{lang}-{n}.png").write_bytes(png)
                files.append(str(out / "figures" / f"{lang}-{n}.png"))
        timings[f"html_{lang}_s"] = time.perf_counter() - t1
    if "pdf" in formats:
        t1 = time.perf_counter()
        files.append(str(write_pdf(out / f"report-{lang}.pdf", data, lang, figs, generated)))
        timings[f"pdf_{lang}_s"] = time.perf_counter() - t1
    return files
