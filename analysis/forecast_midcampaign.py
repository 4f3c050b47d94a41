"""The province's mid-campaign question, reproducibly: "with what we have flown so far, will we end above 99 %,
and what would stop us?"

From one flight store (the flown record; real logs by default) it writes into OUT:
- calibration.toml: the hazard rates fitted from the record (``uavsim calibrate``: Gamma–Poisson, the
  scenario's rates as the prior), each saying where it came from;
- forecast.json: the forecast (``uavsim forecast --json``): p_meets_target, the final lower bound's
  quantiles, the unsafe budget, the drivers, the link-loss sensitivity and the rate stress test;
- forecast-vi.png, forecast-en.png: the fan chart of the report's forecast section;
- answer-vi.md, answer-en.md: the answer in a few sentences;
- manifest.json: the store's sha256, the parameters, the uavsim version.

Without ``--db`` it makes a demonstration record first: the campaign simulated up to ``--as-of`` (clearly
labelled as simulated in every output).

    .venv/bin/python analysis/forecast_midcampaign.py --db uavsim.db --out midcampaign
    .venv/bin/python analysis/forecast_midcampaign.py --out midcampaign-demo     # a simulated record
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import uavsim
from uavsim.errors import UavSimError
from uavsim.records import _jsonable
from uavsim.sim.calibrate import calibrate_store, file_sha256, write_overlay
from uavsim.sim.forecast import forecast_store
from uavsim.sim.forecast_figure import forecast_caption, forecast_figure

ANSWER = {
    "en": ("# Will the campaign end above {target}?\n\nRecord: {record}.\n\n{caption}\n\n"
           "**Answer:** the probability that the final one-sided {conf} lower bound exceeds {target} is "
           "**{p:.3f}** (final lower bound p5 {p5}, median {p50}, p95 {p95}).\n\n"
           "**What would stop us:** {stop}\n\n"
           "Link losses that end in a landing in place: {links}.\n"),
    "vi": ("# Chương trình có kết thúc trên {target} không?\n\nDữ liệu: {record}.\n\n{caption}\n\n"
           "**Trả lời:** xác suất cận dưới một phía {conf} cuối kỳ vượt {target} là **{p:.3f}** "
           "(cận dưới cuối kỳ p5 {p5}, trung vị {p50}, p95 {p95}).\n\n"
           "**Điều gì có thể ngăn cản:** {stop}\n\n"
           "Mất liên lạc dẫn đến hạ cánh tại chỗ: {links}.\n"),
}
STOP = {
    "en": ("more than {budget} unsafe flights in the remaining {days} days; the target is lost (P < 0.5) if the "
           "failure rates run {scale} times what the record shows. Main driver: {driver}."),
    "vi": ("hơn {budget} chuyến không an toàn trong {days} ngày còn lại; mục tiêu không đạt (P < 0,5) nếu tỷ lệ "
           "hỏng hóc cao gấp {scale} lần mức dữ liệu cho thấy. Nguyên nhân chính: {driver}."),
}


def pct(x: float) -> str:
    return f"{100 * x:.2f} %"


def answer(doc: dict, lang: str, record: str) -> str:
    lost = [s["rate_scale"] for s in doc.get("stress", []) if s["p_meets_target"] < 0.5]
    scale = f"{lost[0]:g}" if lost else (f"> {doc['stress'][-1]['rate_scale']:g}" if doc.get("stress") else "n/a")
    d = doc["drivers"]["hazards"]
    driver = f"{d[0]['hazard']} → {d[0]['contingency']}" if d else "—"
    stop = STOP[lang].format(budget=doc["unsafe_budget"], days=doc["remaining_days"], scale=scale, driver=driver)
    links = "; ".join(f"{100 * s['land_share']:.0f} % → P {s['p_meets_target']:.3f}"
                      for s in doc.get("link_loss_sensitivity", []))
    q = doc["final_lower_bound_quantiles"]
    return ANSWER[lang].format(target=pct(doc["target"]).replace(".00", ""), record=record,
                               caption=forecast_caption(doc, lang), conf=pct(doc["confidence"]).replace(".00", ""),
                               p=doc["p_meets_target"], p5=pct(q["p5"]), p50=pct(q["p50"]), p95=pct(q["p95"]),
                               stop=stop, links=links or "—")


def demo_store(out: Path, as_of: date, seed: int) -> Path:
    """A simulated record up to ``as_of`` (for a demonstration without real logs)."""
    from uavsim.sim.campaign import plan_campaign, run_campaign
    from uavsim.store import Store

    plan = plan_campaign()
    days = (as_of - plan.campaign.start).days + 1
    res = run_campaign(plan, seed=seed, days=days)
    db = out / "demo-record.db"
    db.unlink(missing_ok=True)
    with Store(db) as s:
        s.add_run(res.run_id, res.flights, scenario=str(plan.scenario.root), seed=seed, summary=res.summary)
    return db


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="The mid-campaign forecast: will we end above the target?")
    ap.add_argument("--db", type=Path, default=None, help="store of the flown record (default: a simulated demo)")
    ap.add_argument("--source", choices=("log", "sim"), default=None, help="default: log, or sim for the demo")
    ap.add_argument("--as-of", type=date.fromisoformat, default=None,
                    help="flights up to this date are fact (default: the store's last; demo: 2026-12-01)")
    ap.add_argument("--scenario", type=Path, default=None)
    ap.add_argument("--replications", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    try:
        a.out.mkdir(parents=True, exist_ok=True)
        simulated = a.db is None
        as_of = a.as_of or (date(2026, 12, 1) if simulated else None)
        db = demo_store(a.out, as_of, a.seed) if simulated else a.db
        source = a.source or ("sim" if simulated else "log")
        cal = calibrate_store(db, a.scenario, source)
        write_overlay(cal, a.out / "calibration.toml")
        doc = forecast_store(db, a.scenario, source, as_of=as_of, replications=a.replications, workers=a.workers,
                             seed=a.seed, calibration=a.out / "calibration.toml")
    except UavSimError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    (a.out / "forecast.json").write_text(json.dumps(_jsonable(doc), ensure_ascii=False, indent=2), encoding="utf-8")
    record = f"{'SIMULATED demonstration record' if simulated else 'flown flights'} from {db}, {source}"
    for lang in ("vi", "en"):
        fig, _cap = forecast_figure(doc, lang)
        fig.savefig(a.out / f"forecast-{lang}.png", dpi=100)
        (a.out / f"answer-{lang}.md").write_text(answer(doc, lang, record), encoding="utf-8")
    manifest = {"store": str(db), "store_sha256": file_sha256(db), "source": source, "simulated_record": simulated,
                "as_of": doc["as_of"], "replications": a.replications, "seed": a.seed, "uavsim": uavsim.__version__}
    (a.out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    print((a.out / "answer-en.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
