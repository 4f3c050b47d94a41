"""View models of the workbench: plain dicts and lists built from the store, so that templates only render.

Nothing here knows about HTTP. Every function takes an open :class:`~uavsim.store.Store` and returns what a page
(or the JSON API) shows; the statistics are those of ``uavsim stats`` (:func:`uavsim.safety.stats.summarize`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from uavsim.records import SEVERITY_RANK, Flight
from uavsim.safety import stats
from uavsim.store import Store

DASHBOARD_STRATA = ("mission_type", "site", "aircraft", "pilot", "month")
FILTER_FIELDS = ("source", "severity", "aircraft_id", "site", "mission_type")
SORT_KEYS = {
    "start": lambda f: f.start_utc or "",
    "duration": lambda f: f.duration_s or 0.0,
    "distance": lambda f: f.distance_m or 0.0,
    "severity": lambda f: SEVERITY_RANK.get(f.severity, 0),
    "aircraft": lambda f: f.aircraft_id or "",
    "site": lambda f: f.site or "",
    "mission_type": lambda f: f.mission_type,
    "id": lambda f: f.id,
}
PAGE_SIZE = 100
GROUND_RUN_KINDS = ("ground_run", "ground-run")


@dataclass(frozen=True)
class StatsOptions:
    """The statistics options of ``uavsim stats`` (same defaults), so the dashboard shows the same headline."""

    confidence: float = stats.DEFAULT_CONFIDENCE
    target: float = stats.DEFAULT_TARGET
    cluster: str = "day"
    seed: int = 0
    utc_offset_h: float = stats.LOCAL_UTC_OFFSET_H


def target_word(meets: bool, flights: int) -> str:
    """'shown' or 'not yet shown': a group that has not reached the bound has not failed, it is not there yet."""
    if flights == 0:
        return "no flights"
    return "shown" if meets else "not yet shown"


# -- store reading ---------------------------------------------------------------------------------------------
def _has_column(store: Store, table: str, column: str) -> bool:
    return any(r[1] == column for r in store.conn.execute(f"PRAGMA table_info({table})"))


def _has_table(store: Store, table: str) -> bool:
    return store.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone() is not None


def is_ground_run(f: Flight) -> bool:
    return str(f.extra.get("kind") or f.extra.get("record_kind") or "") in GROUND_RUN_KINDS


def ground_runs(store: Store) -> list[dict[str, Any]]:
    """Armed segments that never flew, when the store keeps them (a ``ground_runs`` table); else none."""
    if not _has_table(store, "ground_runs"):
        return []
    cur = store.conn.execute("SELECT * FROM ground_runs")
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def all_flights(store: Store) -> list[Flight]:
    """Every flight record (never a ground run), a flight recorded twice counted once, as ``uavsim stats``."""
    if store.count() == 0:
        return []
    return [f for f in stats.load_flights(store.path) if not is_ground_run(f)]


# -- dashboard -------------------------------------------------------------------------------------------------
def _pilot(f: Flight, _offset: float) -> str:
    return str(f.extra.get("pilot") or stats.UNKNOWN)


def _groups(flights: list[Flight], by: str, opt: StatsOptions) -> list[dict[str, Any]]:
    if by == "pilot":
        members: dict[str, list[Flight]] = {}
        for f in flights:
            members.setdefault(_pilot(f, opt.utc_offset_h), []).append(f)
        rows = [stats.rate_stats(fs, opt.confidence, opt.target, group=g) for g, fs in members.items()]
        rows.sort(key=lambda g: (-g.flights, g.group or ""))
    else:
        rows = stats.group_stats(flights, by, opt.confidence, opt.target, opt.utc_offset_h)
    return [dict(g.to_dict(), target_word=target_word(g.meets_target, g.flights)) for g in rows]


def stats_document(flights: list[Flight], opt: StatsOptions, by: str | None = None) -> dict[str, Any]:
    """The ``uavsim stats --json`` document of these flights."""
    return stats.summarize(flights, by=by, confidence=opt.confidence, target=opt.target, cluster=opt.cluster,
                           seed=opt.seed, utc_offset_h=opt.utc_offset_h).to_dict()


def dashboard(store: Store, opt: StatsOptions = StatsOptions()) -> dict[str, Any]:
    """Headline (overall and per source), breakdowns, the monthly trend and the cumulative series."""
    flights = all_flights(store)
    if not flights:
        return {"empty": True, "flights": 0}
    overall = stats_document(flights, opt)
    overall["target_word"] = target_word(overall["meets_target"], overall["flights"])
    by_source = []
    for src in ("log", "sim"):
        sub = [f for f in flights if f.source == src]
        if sub:
            d = stats.rate_stats(sub, opt.confidence, opt.target, group=src).to_dict()
            by_source.append(dict(d, target_word=target_word(d["meets_target"], d["flights"])))
    breakdowns = {by: _groups(flights, by, opt) for by in DASHBOARD_STRATA}
    return {
        "empty": False, "flights": len(flights), "overall": overall, "by_source": by_source,
        "breakdowns": breakdowns, "trend": monthly_trend(breakdowns["month"]), "ground_runs": len(ground_runs(store)),
        "reviews": len(store.reviews()),
    }


def monthly_trend(months: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Per local month (dated flights only, in time order, from the month breakdown): flights, unsafe, safe
    rate and its lower bound. Dates are first days of months, so a plot spaces months as the calendar does."""
    months = [g for g in months if g["group"] != stats.UNKNOWN]
    return {
        "month": [f"{g['group']}-01" for g in months], "flights": [g["flights"] for g in months],
        "unsafe": [g["unsafe"] for g in months], "safety_rate": [g["safety_rate"] for g in months],
        "lower_bound": [g["lower_bound"] for g in months],
    }


# -- flights list ----------------------------------------------------------------------------------------------
@dataclass
class FlightQuery:
    """Filters and order of the flights page (every field optional); unknown values simply match nothing."""

    source: str | None = None
    severity: str | None = None
    aircraft_id: str | None = None
    site: str | None = None
    mission_type: str | None = None
    date_from: str | None = None  # YYYY-MM-DD, UTC
    date_to: str | None = None
    sort: str = "start"
    descending: bool = False
    page: int = 1
    choices: dict[str, list[str]] = field(default_factory=dict)

    def matches(self, f: Flight) -> bool:
        for name in FILTER_FIELDS:
            want = getattr(self, name)
            if want and str(getattr(f, name) or "") != want:
                return False
        day = (f.start_utc or "")[:10]
        if self.date_from and (not day or day < self.date_from):
            return False
        return not (self.date_to and (not day or day > self.date_to))

    def params(self, page: int) -> str:
        """This query as URL parameters, on another page."""
        keys = {name: getattr(self, name) for name in FILTER_FIELDS}
        keys.update({"from": self.date_from, "to": self.date_to, "sort": self.sort,
                     "order": "desc" if self.descending else "asc", "page": page})
        return urlencode({k: v for k, v in keys.items() if v})


def flight_row(f: Flight) -> dict[str, Any]:
    worst = max(f.events, key=lambda e: (SEVERITY_RANK.get(e.severity, 0), -(e.t_s or 0.0)), default=None)
    return {
        "id": f.id, "source": f.source, "start_utc": f.start_utc, "duration_min": (f.duration_s or 0.0) / 60.0,
        "distance_km": (f.distance_m or 0.0) / 1000.0, "mission_type": f.mission_type, "site": f.site,
        "aircraft_id": f.aircraft_id, "severity": f.severity, "outcome": f.outcome, "events": len(f.events),
        "worst": f"{worst.kind}: {worst.detail}" if worst else "", "reviewed": "review" in f.extra,
        "file": f.extra.get("file"),
    }


def flights_page(store: Store, q: FlightQuery) -> dict[str, Any]:
    """One page of the filtered, sorted flights, the choices for each filter, and the ground runs apart."""
    flights = [f for f in store.flights() if not is_ground_run(f)]
    choices = {name: sorted({str(getattr(f, name)) for f in flights if getattr(f, name)}) for name in FILTER_FIELDS}
    chosen = [f for f in flights if q.matches(f)]
    chosen.sort(key=SORT_KEYS.get(q.sort, SORT_KEYS["start"]), reverse=q.descending)
    pages = max(1, -(-len(chosen) // PAGE_SIZE))
    page = min(max(q.page, 1), pages)
    rows = [flight_row(f) for f in chosen[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]]
    return {"rows": rows, "total": len(chosen), "unsafe": sum(f.outcome == "unsafe" for f in chosen),
            "page": page, "pages": pages, "choices": choices, "ground_runs": ground_runs(store)}
