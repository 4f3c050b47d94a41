"""The report's words and tables, shared by the HTML and PDF writers so that both say the same thing."""

from __future__ import annotations

from dataclasses import dataclass

from uavsim.records import SEVERITY_RANK, Flight
from uavsim.report.data import REPORT_STRATA, ReportData
from uavsim.report.i18n import event_text, group_label, label, num, pct, t
from uavsim.safety.stats import max_unsafe_for_target

PLANNED_FLIGHTS = 6000  # MISSION.md: about 6,000 trial flights in the sandbox year


@dataclass(frozen=True)
class Headline:
    safety_rate: float | None
    lower_bound: float
    meets_target: bool
    verdict: str


def headline(data: ReportData, lang: str) -> Headline:
    o = data.summary.overall
    key = "meets" if o.meets_target else "not_meets"
    return Headline(o.safety_rate, o.lower_bound, o.meets_target, t(key, lang, target=pct(data.target, lang, 0)))


def scope_note(data: ReportData, lang: str) -> str | None:
    """Which flights the headline counts, when that is not obvious (one source only, or both pooled)."""
    if data.source:
        return t("only_source", lang, source=label("source", data.source, lang))
    if {"sim", "log"} <= set(data.per_source):
        return t("mixed_sources", lang)
    return None


def key_figures(data: ReportData, lang: str) -> list[tuple[str, str]]:
    """(label, value) rows under the headline."""
    o = data.summary.overall
    rows = [
        (t("n_flights", lang), num(o.flights, lang)),
        (t("n_unsafe", lang), num(o.unsafe, lang)),
        (t("safety_rate", lang), pct(o.safety_rate, lang)),
        (t("lower_bound", lang, conf=pct(data.confidence, lang, 0)), pct(o.lower_bound, lang)),
        (t("target", lang), pct(data.target, lang, 0)),
    ]
    if o.clustered:
        lo, hi = o.clustered["interval"]
        rows.append((t("clustered", lang, conf=pct(data.confidence, lang, 0), k=num(o.clustered["clusters"], lang),
                       cluster=t(f"cluster_{data.cluster}", lang)), f"{pct(lo, lang)} – {pct(hi, lang)}"))
    rows.append((t("flight_hours", lang), num(o.flight_hours, lang, 1)))
    if o.unsafe_per_1000_flights is not None:
        rows.append((t("per_1000_flights", lang), num(o.unsafe_per_1000_flights, lang, 2)))
    if o.unsafe_per_1000_hours is not None:
        rows.append((t("per_1000_hours", lang), num(o.unsafe_per_1000_hours, lang, 2)))
    needed = (t("needed_never", lang) if o.flights_needed is None
              else t("needed_zero", lang) if o.flights_needed == 0 else num(o.flights_needed, lang))
    rows.append((t("needed", lang), needed))
    for n in sorted({o.flights, PLANNED_FLIGHTS}):
        allowed = max_unsafe_for_target(n, data.target, data.confidence)
        rows.append((t("allowed", lang, n=num(n, lang), target=pct(data.target, lang, 0)),
                     num(allowed, lang) if allowed >= 0 else t("needed_never", lang)))
    for sev in ("accident", "serious_incident", "incident", "observation"):
        rows.append((t("worst_sev", lang, sev=label("sev", sev, lang)), num(o.severity_counts.get(sev, 0), lang)))
    return rows


def strata_tables(data: ReportData, lang: str) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) per stratum."""
    header = [t("group", lang), t("n_flights", lang), t("n_unsafe", lang), t("rate", lang),
              t("lower_bound", lang, conf=pct(data.confidence, lang, 0)),
              t("wilson", lang, conf=pct(data.confidence, lang, 0)), t("target", lang)]
    out = []
    for by in REPORT_STRATA:
        rows = [[group_label(by, g.group or "", lang), num(g.flights, lang), num(g.unsafe, lang),
                 pct(g.safety_rate, lang), pct(g.lower_bound, lang),
                 f"{pct(g.wilson[0], lang)} – {pct(g.wilson[1], lang)}", t("yes" if g.meets_target else "no", lang)]
                for g in data.strata[by]]
        out.append((t(f"by_{by}", lang).capitalize(), header, rows))
    return out


@dataclass(frozen=True)
class UnsafeEntry:
    flight: Flight
    title: str
    events: list[tuple[str, str, str, str]]  # (kind, severity label, detail, evidence), worst first
    review: str | None


def origin(f: Flight, paths: dict[str, str]) -> str:
    """Where a flight came from: 'file.tlog #segment' for a log, the run reference for a simulation."""
    sha, _, seg = f.source_ref.rpartition(":")
    if f.source == "log" and sha in paths:
        return f"{paths[sha]} #{seg}"
    return f.source_ref


def unsafe_entries(data: ReportData, lang: str) -> list[UnsafeEntry]:
    """Every unsafe flight with the events that make it so (serious incidents and accidents first)."""
    out = []
    paths = {r["sha256"]: r["path"] for r in data.files}
    for f in data.unsafe_flights:
        evs = sorted(f.events, key=lambda e: (-SEVERITY_RANK[e.severity], e.t_s))
        if any(SEVERITY_RANK[e.severity] >= SEVERITY_RANK["serious_incident"] for e in evs):
            evs = [e for e in evs if SEVERITY_RANK[e.severity] >= SEVERITY_RANK["incident"]]
        rows = [(e.kind, label("sev", e.severity, lang),
                 f"t={num(e.t_s, lang, 1)} s: {event_text(e.kind, e.detail, e.value, e.threshold, lang)}", e.evidence)
                for e in evs]
        review = None
        if "review" in f.extra:
            r = f.extra["review"]
            review = t("review", lang, who=r.get("reviewer", ""), at=r.get("at_utc", ""), why=r.get("reason", ""))
        title = " · ".join([
            f.id, f.start_utc or "–", label("mt", f.mission_type, lang), f.site or t("unknown", lang),
            f.aircraft_id or t("unknown", lang), label("source", f.source, lang), label("sev", f.severity, lang),
            origin(f, paths),
        ])
        out.append(UnsafeEntry(f, title, rows, review))
    return out


def review_lines(data: ReportData, lang: str) -> list[str]:
    """Flights whose automatic verdict an analyst changed: the report counts the review, and says so."""
    out = []
    for f in data.flights:
        auto, rev = f.extra.get("automatic"), f.extra.get("review")
        if not auto or not rev or (auto.get("outcome"), auto.get("severity")) == (f.outcome, f.severity):
            continue
        out.append(t("review_changed", lang, id=f.id, auto=label("sev", auto.get("severity"), lang),
                     now=label("sev", f.severity, lang), who=rev.get("reviewer", ""), at=rev.get("at_utc", ""),
                     why=rev.get("reason", "")))
    return out


def source_lines(data: ReportData, lang: str) -> list[str]:
    """Where the flights, the terrain and the rules came from."""
    lines = [t("src_store", lang, path=data.store_path)]
    note = scope_note(data, lang)
    if note:
        lines.append(note)
    n_sim = data.per_source["sim"].flights if "sim" in data.per_source else 0
    n_log = data.per_source["log"].flights if "log" in data.per_source else 0
    if n_sim:
        runs = ", ".join(f"{r['run_id']} ({r.get('scenario') or '–'}, seed {r.get('seed') if r.get('seed') is not None else '–'})" for r in data.runs[:8])
        if len(data.runs) > 8:
            runs += f", … (+{len(data.runs) - 8})"
        lines.append(t("src_sim", lang, n=num(n_sim, lang), runs=runs or "–"))
    if n_log or data.files:
        imported = sum(1 for f in data.files if f["status"] == "imported")
        rejected = sum(1 for f in data.files if f["status"] == "rejected")
        lines.append(t("src_log", lang, n=num(n_log, lang), files=num(imported, lang), rejected=num(rejected, lang)))
    terr = data.terrain
    if terr is None:
        lines.append(t("src_terrain_none", lang))
    elif getattr(terr, "synthetic", False):
        lines.append(t("src_terrain_synth", lang, path=getattr(terr, "path", "")))
    else:
        lines.append(t("src_terrain_real", lang, path=terr.label() if hasattr(terr, "label") else terr.path))
    if data.context is not None:
        lines.append(t("src_scenario", lang, path=data.context.source))
    lines.append(t("src_rules", lang, path=data.rules_path))
    undated = len(data.flights) - len(data.dated)
    if undated:
        lines.append(t("undated", lang, n=num(undated, lang)))
    return lines


def method_paragraphs(data: ReportData, lang: str) -> list[str]:
    text = t("method_text", lang, conf=pct(data.confidence, lang, 0), target=pct(data.target, lang, 0),
             cluster=t(f"cluster_{data.cluster}", lang), n_boot=num(data.n_boot, lang), seed=data.seed)
    tz = f"UTC{data.utc_offset_h:+g}"
    return text.split("\n") + [t("local_time", lang, tz=tz)]
