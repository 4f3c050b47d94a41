"""The report's forecast section (issue 15): a fan chart of the cumulative lower bound, and its caption.

The flown part is solid; after ``as_of`` the forecast's median is dashed inside its 5–95 % band; the target
is a line. The report calls :func:`forecast_figure` with a ``uavsim forecast --json`` document.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from uavsim.errors import DataFileError

FLOWN_C, BAND_C, TARGET_C = "#1f4e79", "#9db4c0", "#7f7f7f"
TEXT = {
    "title": ("Dự báo cận dưới tỷ lệ an toàn đến cuối chương trình", "Forecast of the safety-rate lower bound to the campaign's end"),
    "flown": ("Đã bay (cận dưới tích lũy)", "Flown (cumulative lower bound)"),
    "median": ("Dự báo: trung vị", "Forecast: median"),
    "band": ("Dự báo: khoảng 5–95 %", "Forecast: 5–95 % band"),
    "target": ("Mục tiêu", "Target"),
    "as_of": ("Đến ngày", "As of"),
    "ylabel": ("Cận dưới một phía", "One-sided lower bound"),
    "caption": ("Dự báo giữa kỳ: tính đến {as_of} đã bay {n} chuyến ({u} không an toàn); còn {days} ngày, khoảng "
                "{rem} chuyến. Xác suất cận dưới cuối kỳ vượt {target}: {p}. Ngân sách chuyến không an toàn còn lại: "
                "{budget}. Nguyên nhân chính: {driver}.",
                "Mid-campaign forecast: as of {as_of}, {n} flights flown ({u} unsafe); {days} days and about {rem} "
                "flights remain. Probability that the final lower bound exceeds {target}: {p}. Unsafe flights the "
                "rest of the campaign may still have: {budget}. Main driver: {driver}."),
    "none": ("không có", "none"),
}


def _t(key: str, lang: str) -> str:
    return TEXT[key][0 if lang == "vi" else 1]


def load_forecast(path: str | Path) -> dict[str, Any]:
    """A ``uavsim forecast --json`` document, checked for the keys the figure needs."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataFileError(path, f"not a forecast JSON document ({exc})") from None
    if not isinstance(doc, dict) or not {"as_of", "flown", "fan", "p_meets_target"} <= set(doc):
        raise DataFileError(path, "not a `uavsim forecast --json` document (needs as_of, flown, fan, p_meets_target)")
    return doc


def forecast_caption(doc: dict[str, Any], lang: str) -> str:
    d = (doc.get("drivers") or {}).get("hazards") or []
    driver = f"{d[0]['hazard']} → {d[0]['contingency']} ({100 * d[0]['share']:.0f} %)" if d else _t("none", lang)
    f = doc["flown"]
    return _t("caption", lang).format(as_of=doc["as_of"], n=f["flights"], u=f["unsafe"], days=doc["remaining_days"],
                                      rem=f"{doc['expected_remaining_flights']:.0f}", target=f"{100 * doc['target']:.0f} %",
                                      p=f"{doc['p_meets_target']:.3f}", budget=doc["unsafe_budget"], driver=driver)


def forecast_figure(doc: dict[str, Any], lang: str) -> tuple[Figure, str]:
    """The fan chart and its caption, in ``lang`` (vi or en)."""
    fig = Figure(figsize=(10.0, 5.0), layout="constrained")
    ax = fig.add_subplot()
    flown, fc = doc["fan"]["flown"], doc["fan"].get("forecast") or {"dates": []}
    x0 = np.array(flown["dates"], dtype="datetime64[D]")
    lb0 = np.array(flown["lower_bound"], float)
    ax.plot(x0, lb0, color=FLOWN_C, lw=2.0, label=_t("flown", lang))
    lows = [float(doc["target"])] + [v for v in lb0[lb0 > 0].tolist()[-1:]]
    if fc["dates"]:
        x1 = np.array(fc["dates"], dtype="datetime64[D]")
        ax.fill_between(x1, fc["p5"], fc["p95"], color=BAND_C, alpha=0.6, lw=0, label=_t("band", lang))
        ax.plot(x1, fc["p50"], color=FLOWN_C, lw=1.5, ls="--", label=_t("median", lang))
        lows.append(float(np.min(fc["p5"])))
    ax.axhline(doc["target"], color=TARGET_C, lw=1.2, ls=":", label=f"{_t('target', lang)} {100 * doc['target']:.0f} %")
    ax.axvline(np.datetime64(doc["as_of"], "D"), color=TARGET_C, lw=0.8)
    ax.text(np.datetime64(doc["as_of"], "D"), 1.0, f" {_t('as_of', lang)} {doc['as_of']}", va="top", fontsize=9)
    lo = min(lows)
    ax.set_ylim(max(0.0, lo - 0.3 * (1.0 - lo)), 1.0)
    ax.yaxis.set_major_formatter(lambda v, _p: f"{100 * v:.1f} %")
    ax.set_ylabel(_t("ylabel", lang))
    ax.set_title(_t("title", lang))
    ax.legend(loc="lower left", fontsize=9)
    return fig, forecast_caption(doc, lang)
