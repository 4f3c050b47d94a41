"""Log analysis: RawLog -> flights and ground runs (segment, detect, classify, identity)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from uavsim.geo import geodesic_distance, track_length
from uavsim.logs.detect import assign_notes, note_events, sensor_events
from uavsim.logs.identity import apply_identity
from uavsim.logs.raw import RawLog
from uavsim.logs.segment import Segment, airborne_mask, segments, step
from uavsim.records import SEVERITY_RANK, Flight, Telemetry
from uavsim.safety.classify import TerrainLike, ZonesLike, classify
from uavsim.safety.rules import Rules, default_rules

log = logging.getLogger(__name__)

TELEMETRY_DT_S = 0.5  # stored track resolution; detection uses the full-rate streams


def _iso(unix_s: float) -> str:
    return datetime.fromtimestamp(unix_s, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-4] + "Z"


def _utc_at(raw: RawLog, t: float) -> str | None:
    """UTC at log time ``t`` from the nearest GPS (or SYSTEM_TIME) time stamp; None without any."""
    g = raw.stream("gps")
    ok = np.isfinite(g["utc_s"])
    at = np.concatenate([g["t"][ok], [a for a, _ in raw.utc]])
    utc = np.concatenate([g["utc_s"][ok], [u for _, u in raw.utc]])
    if at.size == 0:
        return None
    i = int(np.argmin(np.abs(at - t)))
    return _iso(float(utc[i] + (t - at[i])))


def _telemetry(raw: RawLog, seg: Segment, rules: Rules) -> tuple[Telemetry, np.ndarray]:
    g, alt, bat = raw.stream("gps"), raw.stream("alt"), raw.stream("bat")
    gsel = (g["t"] >= seg.t0) & (g["t"] <= seg.t1) & np.isfinite(g["lat"])
    base = g["t"][gsel] if gsel.sum() >= 2 else alt["t"][(alt["t"] >= seg.t0) & (alt["t"] <= seg.t1)]
    if base.size == 0:
        base = np.array([seg.t0, seg.t1])
    keep = np.concatenate([[True], np.diff(np.floor((base - seg.t0) / TELEMETRY_DT_S)) > 0]) if base.size else base
    t = base[keep]

    def at(stream: dict[str, np.ndarray], col: str) -> np.ndarray:
        ok = np.isfinite(stream[col])  # streams interleave rows that lack some columns (tlog battery)
        return step(stream["t"][ok], stream[col][ok], t)

    fix = at(g, "fix")
    lat, lon = at(g, "lat"), at(g, "lon")
    nofix = ~(fix >= 3) | ((lat == 0) & (lon == 0))
    lat, lon, alt_msl = np.where(nofix, np.nan, lat), np.where(nofix, np.nan, lon), np.where(nofix, np.nan, at(g, "alt_msl_m"))
    if len(alt["t"]):
        rel = at(alt, "rel_alt_m")
    else:  # no baro/EKF height: height above the first fixed GPS altitude of the flight
        first = alt_msl[np.isfinite(alt_msl)]
        rel = alt_msl - first[0] if first.size else np.full(t.shape, np.nan)
    names = sorted({m for _, m in raw.modes})
    mt = np.array([x[0] for x in raw.modes])
    mi = np.array([names.index(m) for _, m in raw.modes], dtype=float)
    mode = np.nan_to_num(step(mt, mi, t), nan=-1).astype(np.int16)
    tel = Telemetry(t - seg.t0, lat, lon, alt_msl, rel, np.where(nofix, np.nan, at(g, "gspd_mps")), at(bat, "pct"), mode, names)
    return tel, airborne_mask(raw, seg, t)


def _airborne_s(raw: RawLog, seg: Segment, rules: Rules) -> float | None:
    """Time in the air: the sum of the segment's airborne windows (decided from physics); 0 for a ground run."""
    return float(sum(b - a for a, b in seg.air_windows))


def _energy(raw: RawLog, seg: Segment) -> tuple[float | None, float | None]:
    b = raw.stream("bat")
    sel = (b["t"] >= seg.t0) & (b["t"] <= seg.t1)
    t, v, c, pct = b["t"][sel], b["volt_v"][sel], b["curr_a"][sel], b["pct"][sel]
    ok = np.isfinite(v) & np.isfinite(c) & (c >= 0)
    # A current that never leaves zero means no current sensor: energy unknown, not zero.
    wh = float(np.trapezoid(v[ok] * c[ok], t[ok]) / 3600.0) if ok.sum() >= 2 and c[ok].max() > 0 else None
    p = pct[np.isfinite(pct) & (pct >= 0)]
    return wh, (float(p[-1]) if p.size else None)


def _site_of(tel: Telemetry, sites: list[tuple[str, float, float]] | None, radius_m: float) -> str | None:
    """The scenario site nearest the launch point, if it lies within ``radius_m``."""
    ok = np.flatnonzero(np.isfinite(tel.lat) & np.isfinite(tel.lon))
    if not sites or ok.size == 0:
        return None
    lat0, lon0 = float(tel.lat[ok[0]]), float(tel.lon[ok[0]])
    n = len(sites)
    d = geodesic_distance(np.full(n, lat0), np.full(n, lon0), np.array([s[1] for s in sites]),
                          np.array([s[2] for s in sites]))
    i = int(np.argmin(d))
    return sites[i][0] if d[i] <= radius_m else None


def analyse(raw: RawLog, sha256: str, terrain: TerrainLike | None = None, zones: ZonesLike | None = None,
            rules: Rules | None = None, sites: list[tuple[str, float, float]] | None = None,
            ) -> tuple[list[Flight], dict[str, Any]]:
    """Flights of one read log, classified, plus a file-level summary (damage, skipped ground segments).
    ``sites`` (id, lat, lon) name the launch site of each flight that starts within landing_site_radius_m.
    A file with several aircraft (a ground station's tlog) gives the flights of each, numbered in turn."""
    rules = rules or default_rules()
    flights: list[Flight] = []
    summary = dict(raw.corruption)
    summary.update(format=raw.fmt, messages_read=0, segments=0, ground_only_segments=0, events_outside_flights=[])
    for one in [raw, *raw.others]:
        _analyse_one(one, sha256, flights, summary, terrain, zones, rules, sites)
    damage = {k: v for k, v in raw.corruption.items() if v and k not in ("frames", "other_sources_ignored")}
    for f in flights:
        f.extra["file_damage"] = damage  # the file's counted damage travels with each of its flights
    summary["events_outside_flights"] = summary["events_outside_flights"][:50]
    return flights, summary


def split_kinds(records: list[Flight]) -> tuple[list[Flight], list[Flight]]:
    """(flights, ground runs) of one file's records, each in log order."""
    return [f for f in records if f.kind == "flight"], [f for f in records if f.kind == "ground_run"]


def _analyse_one(raw: RawLog, sha256: str, flights: list[Flight], summary: dict[str, Any],
                 terrain: TerrainLike | None, zones: ZonesLike | None, rules: Rules,
                 sites: list[tuple[str, float, float]] | None) -> None:
    """Each armed segment becomes a flight (airborne by physics) or a ground run, with its own events."""
    segs = segments(raw, rules)
    per_seg = assign_notes(raw.notes, segs)
    assigned = {id(n) for ns in per_seg for n in ns}
    # Nothing is dropped silently: occurrences outside any segment are listed with the file.
    outside = [n for n in raw.notes if n.kind is not None and id(n) not in assigned]
    for seg, notes in zip(segs, per_seg, strict=True):
        events = note_events(raw, seg, notes, rules) + sensor_events(raw, seg, rules)
        kind = "flight" if seg.airborne or _undecided(seg) else "ground_run"
        tel, air = _telemetry(raw, seg, rules)
        # A ground run is judged by its own events only: the terrain and airspace checks are about flight.
        verdict = classify(events, tel, terrain if kind == "flight" else None,
                           zones if kind == "flight" else None, rules, in_air=air)
        flights.append(_record(raw, sha256, len(flights), seg, kind, tel, air, verdict, sites, rules,
                               terrain is not None, zones))
        apply_identity(flights[-1], raw)  # vehicle type, frame, firmware, board, aircraft id (and its source)
    summary["messages_read"] += raw.messages_read
    summary["segments"] += len(segs)
    n_ground = sum(not s.airborne for s in segs)
    summary["ground_only_segments"] += n_ground
    summary["ground_runs"] = summary.get("ground_runs", 0) + n_ground
    who = f"{raw.aircraft}: " if raw.aircraft else ""
    summary["events_outside_flights"] += [f"{who}{n.kind} at t={n.t - raw.t_start:.1f}s: {n.evidence}"
                                          for n in sorted(outside, key=lambda n: n.t)]


def _undecided(seg: Segment) -> bool:
    """No height, thrust or GPS speed was logged at all: whether it flew cannot be told. It stays a flight, marked
    unverified ("airborne" in its checks not run), never dropped as a ground run nor trusted as safe."""
    return seg.airborne_evidence.get("decided_by", "").startswith("undecided")


def _record(raw: RawLog, sha256: str, idx: int, seg: Segment, kind: str, tel: Telemetry, air: np.ndarray,
            verdict: Any, sites: list[tuple[str, float, float]] | None, rules: Rules, has_terrain: bool,
            zones: ZonesLike | None) -> Flight:
    energy, bat_end = _energy(raw, seg)
    rel = tel.rel_alt_m[np.isfinite(tel.rel_alt_m)]
    site = _site_of(tel, sites, rules.thresholds.get("landing_site_radius_m", 300.0))
    not_run = _checks_not_run(tel, air, verdict.checks, kind, has_terrain, zones, sites, seg, rules)
    return Flight(
        id=f"{sha256[:16]}-{idx}", source="log", source_ref=f"{sha256}:{idx}",
        mission_type="unknown", aircraft_id=raw.aircraft, start_utc=_utc_at(raw, seg.t0),
        duration_s=float(seg.duration_s), site=site,
        distance_m=track_length(tel.lat, tel.lon), max_agl_m=verdict.max_agl_m,
        min_terrain_clearance_m=verdict.min_terrain_clearance_m, energy_used_wh=energy,
        battery_end_pct=bat_end, outcome=verdict.outcome, severity=verdict.severity,
        events=verdict.events, telemetry=tel, kind=kind,
        takeoff_s=None if seg.takeoff_t is None else float(seg.takeoff_t - seg.t0),
        landing_s=None if seg.landing_t is None else float(seg.landing_t - seg.t0),
        airborne_evidence=dict(seg.airborne_evidence), log_t0_s=float(seg.t0), log_t1_s=float(seg.t1),
        log_clock=raw.time_source, checks_not_run=not_run,
        extra={"format": raw.fmt, "vehicle": raw.vehicle, "firmware": raw.firmware,
               "time_source": raw.time_source, "segment": [float(seg.t0), float(seg.t1)],
               "start": seg.start_evidence, "end": seg.end_evidence, "end_reason": seg.end,
               "airborne_s": _airborne_s(raw, seg, rules), "in_air_known": "decided_by" in seg.airborne_evidence
               and not seg.airborne_evidence["decided_by"].startswith("undecided"),
               "air_windows": [[float(a - seg.t0), float(b - seg.t0)] for a, b in seg.air_windows],
               "max_rel_alt_m": float(rel.max()) if rel.size else None, "checks": verdict.checks,
               "ground_occurrence": kind == "ground_run" and SEVERITY_RANK[verdict.severity] >= SEVERITY_RANK["incident"],
               "file": Path(raw.path).name})


def _checks_not_run(tel: Telemetry, air: np.ndarray, checks: dict[str, str], kind: str, has_terrain: bool,
                    zones: ZonesLike | None, sites: list[tuple[str, float, float]] | None, seg: Segment,
                    rules: Rules) -> list[str]:
    """Which checks could not judge this record: position (no fix while airborne: no terrain or area check
    either), terrain (outside the DEM), area (a scenario was given and the flight launched outside its area:
    left out of that scenario's headline), airborne (no physical evidence logged). A DEM the user did not load
    is named as such (terrain_not_loaded), not counted against the flight."""
    if kind != "flight":
        return []
    out = []
    if seg.airborne_evidence.get("decided_by", "").startswith("undecided"):
        out.append("airborne")
    fixed = np.isfinite(tel.lat) & np.isfinite(tel.lon)
    if not (fixed & (air if air.any() else True)).any():
        return out + ["position", "terrain", "area"]
    if not has_terrain:
        out.append("terrain_not_loaded")
    elif checks.get("terrain") == "outside_dem":
        out.append("terrain")
    if zones is not None and "area" not in out and sites:
        i = np.flatnonzero(fixed)[0]
        if _site_of(tel, sites, rules.threshold("scenario_area_radius_m")) is None and not bool(
                getattr(zones, "work_area_mask", lambda a, b: np.zeros(1, bool))(tel.lat[i:i + 1], tel.lon[i:i + 1])[0]):
            out.append("area")
    return out
