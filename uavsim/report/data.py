"""Everything a report shows, gathered once from a store: statistics, series, tracks, sources.

The figures and the HTML/PDF writers only read a :class:`ReportData`; they never query the store, so the
headline numbers are computed in one place (:func:`uavsim.safety.stats.summarize`, the same call as
``uavsim stats``).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from uavsim.errors import UavSimError
from uavsim.records import SEVERITY_RANK, Flight
from uavsim.report.i18n import public_name
from uavsim.safety import stats
from uavsim.safety.rules import default_rules
from uavsim.store import Store

log = logging.getLogger(__name__)

REPORT_STRATA = ("mission_type", "site", "aircraft", "month", "source")
TRACK_POINTS = 40  # samples kept per track on the map: shape survives, 6,000 tracks stay cheap


@dataclass
class Tracks:
    """Subsampled tracks (one array pair per flight) and event positions, in WGS84 degrees."""

    lat: list[np.ndarray] = field(default_factory=list)
    lon: list[np.ndarray] = field(default_factory=list)
    unsafe: list[bool] = field(default_factory=list)
    event_lat: np.ndarray = field(default_factory=lambda: np.zeros(0))
    event_lon: np.ndarray = field(default_factory=lambda: np.zeros(0))
    event_unsafe: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def __len__(self) -> int:
        return len(self.lat)


@dataclass
class Area:
    """A zone or permit outline for the map, in WGS84 degrees (exterior rings only)."""

    id: str
    kind: str  # "prohibited" | "restricted" | "permit"
    rings: list[tuple[np.ndarray, np.ndarray]]  # (lat, lon) per ring


@dataclass
class MapContext:
    """Named places and airspace of the scenario, drawn under the tracks."""

    sites: list[tuple[str, str, float, float]] = field(default_factory=list)  # (name vi, name en, lat, lon)
    areas: list[Area] = field(default_factory=list)
    source: str = ""


def load_context(scenario: str | Path | None) -> MapContext | None:
    """Sites, zones and permits of a scenario folder (default: missions/dienbien); None if unavailable."""
    from uavsim import geo
    from uavsim.airspace import Airspace
    from uavsim.scenario import Scenario

    try:
        sc = Scenario.load(scenario)
        sites = [(public_name(s.name), public_name(s.name_en or s.name), s.lat, s.lon) for s in sc.sites.values()]
        air = Airspace.from_scenario(sc)
    except (UavSimError, OSError) as exc:
        if scenario is not None:
            raise
        log.warning("scenario unavailable (%s); map drawn without sites and zones", exc)
        return None

    def rings(geom: Any) -> list[tuple[np.ndarray, np.ndarray]]:
        out = []
        for poly in getattr(geom, "geoms", [geom]):
            x, y = np.asarray(poly.simplify(50.0).exterior.coords).T  # 50 m: invisible at map scale
            lat, lon = geo.from_utm(x, y)
            out.append((np.asarray(lat), np.asarray(lon)))
        return out

    areas = [Area(z.id, z.kind, rings(z.geom)) for z in air.zones]
    areas += [Area(p.id, "permit", rings(p.geom)) for p in air.permits]
    return MapContext(sites, areas, str(sc.root))


@dataclass
class ReportData:
    store_path: str
    flights: list[Flight]
    summary: stats.SafetySummary
    strata: dict[str, list[stats.RateStats]]
    per_source: dict[str, stats.RateStats]
    files: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    tracks: Tracks
    terrain: Any | None  # uavsim.terrain.Terrain, or None when none could be opened
    context: MapContext | None
    rules_path: str
    confidence: float
    target: float
    cluster: str
    n_boot: int
    seed: int
    utc_offset_h: float = stats.LOCAL_UTC_OFFSET_H
    source: str | None = None  # "sim" or "log" when the report covers one source only
    cache: dict[Any, Any] = field(default_factory=dict)  # work shared by the languages (map relief)

    @property
    def unsafe_flights(self) -> list[Flight]:
        return [f for f in self.flights if f.outcome == "unsafe"]

    @property
    def dated(self) -> list[Flight]:
        """Flights with a start time, in time order (the store already sorts by start time)."""
        return [f for f in self.flights if f.start_utc]

    def event_counts(self) -> list[tuple[str, int, str]]:
        """(kind, count, worst severity) over every event, most frequent first."""
        counts: Counter[str] = Counter()
        worst: dict[str, str] = {}
        for f in self.flights:
            for e in f.events:
                counts[e.kind] += 1
                if SEVERITY_RANK[e.severity] > SEVERITY_RANK.get(worst.get(e.kind, "none"), 0):
                    worst[e.kind] = e.severity
        return [(k, n, worst.get(k, "none")) for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _subsample(a: np.ndarray, n: int) -> np.ndarray:
    if a.size <= n:
        return a
    return a[np.linspace(0, a.size - 1, n).round().astype(int)]


def load_tracks(store: Store, flights: list[Flight], max_tracks: int | None, seed: int) -> Tracks:
    """Tracks of up to ``max_tracks`` flights (every unsafe flight first, then a seeded sample of the rest)."""
    chosen = flights
    if max_tracks is not None and len(flights) > max_tracks:
        unsafe = [f for f in flights if f.outcome == "unsafe"]
        safe = [f for f in flights if f.outcome != "unsafe"]
        room = max(0, max_tracks - len(unsafe))
        pick = np.sort(np.random.default_rng(seed).choice(len(safe), size=min(room, len(safe)), replace=False))
        chosen = unsafe[:max_tracks] + [safe[i] for i in pick]
    wanted = {f.id for f in chosen}
    cols = {fid: c for fid, c in store.telemetry_columns(("lat", "lon")) if fid in wanted}
    tr = Tracks()
    for f in chosen:  # flights' order (start time), so the map draws the same way every time
        if f.id not in cols:
            continue
        lat, lon = cols[f.id]["lat"], cols[f.id]["lon"]
        ok = np.isfinite(lat) & np.isfinite(lon) & (lat != 0.0) & (lon != 0.0)  # 0,0: no GPS fix yet
        if ok.sum() < 2:
            continue
        tr.lat.append(_subsample(lat[ok], TRACK_POINTS))
        tr.lon.append(_subsample(lon[ok], TRACK_POINTS))
        tr.unsafe.append(f.outcome == "unsafe")
    ev = [(e.lat, e.lon, SEVERITY_RANK[e.severity] >= SEVERITY_RANK["serious_incident"])
          for f in flights for e in f.events
          if e.lat is not None and e.lon is not None and e.severity not in ("none", "observation")]
    if ev:
        arr = np.array(ev, dtype=np.float64)
        tr.event_lat, tr.event_lon, tr.event_unsafe = arr[:, 0], arr[:, 1], arr[:, 2].astype(bool)
    log.info("map: %d tracks, %d events", len(tr), tr.event_lat.size)
    return tr


def open_terrain(dem: str | Path | None) -> Any | None:
    """The DEM for the map background: ``dem``, else the embedded default; None if terrain is unavailable."""
    from uavsim.terrain import open_dem

    if dem is not None:
        return open_dem(dem)  # an explicit DEM that fails is an error the user must see
    try:
        return open_dem(None)
    except (UavSimError, OSError) as exc:  # the map degrades to no relief; the report must still build
        log.warning("embedded terrain unavailable (%s); map drawn without relief", exc)
        return None


def gather(db: str | Path, confidence: float = stats.DEFAULT_CONFIDENCE, target: float = stats.DEFAULT_TARGET,
           cluster: str = "day", n_boot: int = stats.DEFAULT_BOOTSTRAP, seed: int = 0,
           max_tracks: int | None = None, dem: str | Path | None = None, terrain: bool = True,
           scenario: str | Path | None = None, utc_offset_h: float = stats.LOCAL_UTC_OFFSET_H,
           source: str | None = None) -> ReportData:
    """Read a store once and compute everything the report shows. An empty or missing store raises.

    ``terrain=False`` leaves out the map's background (relief, sites and zones of ``scenario``), which is
    faster and needs neither a DEM nor a scenario folder.
    """
    flights = stats.load_flights(db, source=source)
    summary = stats.summarize(flights, confidence=confidence, target=target, cluster=cluster, n_boot=n_boot,
                              seed=seed, utc_offset_h=utc_offset_h)
    strata = {by: stats.group_stats(flights, by, confidence, target, utc_offset_h) for by in REPORT_STRATA}
    per_source = {r.group: r for r in strata["source"] if r.group}
    with Store(db) as store:
        files, runs = store.files(), store.runs()
        tracks = load_tracks(store, flights, max_tracks, seed)
    return ReportData(
        store_path=str(db), flights=flights, summary=summary, strata=strata, per_source=per_source, files=files,
        runs=runs, tracks=tracks, terrain=open_terrain(dem) if terrain else None,
        context=load_context(scenario) if terrain else None, rules_path=default_rules().path,
        confidence=confidence, target=target, cluster=cluster, n_boot=n_boot, seed=seed, utc_offset_h=utc_offset_h,
        source=source,
    )
