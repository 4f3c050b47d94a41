"""Log import: file -> RawLog -> flights (segment, detect, classify) -> store, one transaction per file.

``parse_file`` is pure and picklable-friendly so that ``ingest`` can run it in worker processes; only the
parent process writes to SQLite. A file that cannot be read is rejected with its reason and leaves no
flight behind; a damaged file that still yields data is imported with its damage counted.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from uavsim.context import ContextModel, apply_context
from uavsim.errors import LogFormatError
from uavsim.geo import geodesic_distance, track_length
from uavsim.logs.detect import assign_notes, note_events, sensor_events
from uavsim.logs.raw import RawLog
from uavsim.logs.same_flight import mark_same_flights
from uavsim.logs.segment import Segment, in_air, segments, step
from uavsim.records import SEVERITY_RANK, Flight, Telemetry
from uavsim.safety.classify import TerrainLike, ZonesLike, classify
from uavsim.safety.rules import Rules, default_rules

log = logging.getLogger(__name__)

LOG_SUFFIXES = (".tlog", ".bin", ".log", ".ulg")
TELEMETRY_DT_S = 0.5  # stored track resolution; detection uses the full-rate streams
_READ_CHUNK = 1 << 20


@dataclass
class FileResult:
    """What importing one file gave: its identity, status, flights and damage (the CLI's JSON rows)."""

    path: str
    sha256: str
    status: str = "imported"  # imported | duplicate | rejected
    error: str | None = None
    flights: list[Flight] = field(default_factory=list)
    corruption: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "status": self.status, "error": self.error,
                "flights": [f.to_dict() for f in self.flights], "corruption": self.corruption}


def find_logs(paths: Iterable[str | Path]) -> list[Path]:
    """Files named directly, plus log files (by extension, any case) found recursively in folders."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() in LOG_SUFFIXES)
        else:
            out.append(p)
    seen: set[Path] = set()
    return [p for p in out if not (p.resolve() in seen or seen.add(p.resolve()))]


def sha256_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_READ_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def sniff(path: str | Path) -> str:
    """The log format from the file's first bytes (extensions lie): ulog, dataflash-bin/-text or tlog."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if not head:
        raise LogFormatError(path, "empty file")
    if head.startswith(b"ULog\x01\x12\x35"):
        return "ulog"
    if head[:2] == b"\xa3\x95":
        return "dataflash-bin"
    if b"FMT, " in head or b"FMT," in head[:200]:
        return "dataflash-text"
    # tlog: 8-byte big-endian microsecond time stamp, then a MAVLink v1/v2 frame.
    if len(head) > 17 and head[8] in (0xFE, 0xFD) and 946684800e6 < int.from_bytes(head[:8], "big") < 4102444800e6:
        return "tlog"
    raise LogFormatError(path, "not a recognised flight log (MAVLink .tlog, DataFlash .bin/.log or PX4 .ulg)")


def read_log(path: str | Path) -> RawLog:
    """Read any supported log into a RawLog; raises LogFormatError when nothing usable is in it."""
    kind = sniff(path)
    p = str(path)
    try:
        if kind == "ulog":
            from uavsim.logs.ulog import read_ulog
            raw = read_ulog(p)
        elif kind == "tlog":
            from uavsim.logs.tlog import read_tlog
            raw = read_tlog(p)
        else:
            from uavsim.logs.dataflash import read_dataflash
            raw = read_dataflash(p, text=kind == "dataflash-text")
    except LogFormatError:
        raise
    except Exception as exc:  # noqa: BLE001 - third-party parsers raise anything on damaged input
        raise LogFormatError(path, f"cannot parse {kind} log ({type(exc).__name__}: {exc})") from exc
    if raw.messages_read == 0:
        raise LogFormatError(path, f"no readable flight data in this {kind} log")
    return raw


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
    return tel, in_air(raw, t, rules) == 1.0


def _airborne_s(raw: RawLog, seg: Segment, rules: Rules) -> float | None:
    """In-air time by pymavlink mavflighttime's rule: 3D fix, ground speed above/below the threshold."""
    g = raw.stream("gps")
    sel = (g["t"] >= seg.t0) & (g["t"] <= seg.t1) & (g["fix"] >= 3)
    if not sel.any():
        return None
    thr = rules.threshold("in_air_ground_speed_mps")
    total, start = 0.0, None
    for t, v in zip(g["t"][sel], g["gspd_mps"][sel], strict=True):
        if v > thr and start is None:
            start = t
        elif v < thr and start is not None:
            total += t - start
            start = None
    if start is not None:
        total += g["t"][sel][-1] - start
    return float(total)


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


def _analyse_one(raw: RawLog, sha256: str, flights: list[Flight], summary: dict[str, Any],
                 terrain: TerrainLike | None, zones: ZonesLike | None, rules: Rules,
                 sites: list[tuple[str, float, float]] | None) -> None:
    segs = segments(raw, rules)
    per_seg = assign_notes(raw.notes, segs)
    skipped = 0
    assigned = {id(n) for ns in per_seg for n in ns}
    # Nothing is dropped silently: occurrences outside any kept flight are listed with the file.
    outside = [n for n in raw.notes if n.kind is not None and id(n) not in assigned]
    for seg, notes in zip(segs, per_seg, strict=True):
        events = note_events(raw, seg, notes, rules) + sensor_events(raw, seg, rules)
        tel, air = _telemetry(raw, seg, rules)
        grid = np.linspace(seg.t0, seg.t1, max(3, int(seg.duration_s) + 1))
        state = in_air(raw, grid, rules)
        # The autopilot's own take-off detection also makes it a flight, however low the hop.
        claimed = any(not landed and seg.t0 <= t <= seg.t1 for t, landed, _ in raw.landed)
        airborne = bool((state == 1.0).any()) or claimed
        serious = any(SEVERITY_RANK[e.severity] >= SEVERITY_RANK["incident"] for e in events)
        if not airborne and not serious and np.isfinite(state).any():
            skipped += 1  # armed and disarmed on the ground: not a flight
            outside += [n for n in notes if n.kind is not None]
            continue
        verdict = classify(events, tel, terrain, zones, rules, in_air=air)
        energy, bat_end = _energy(raw, seg)
        idx = len(flights)
        rel = tel.rel_alt_m[np.isfinite(tel.rel_alt_m)]
        flights.append(Flight(
            id=f"{sha256[:16]}-{idx}", source="log", source_ref=f"{sha256}:{idx}",
            mission_type="unknown", aircraft_id=raw.aircraft, start_utc=_utc_at(raw, seg.t0),
            duration_s=float(seg.duration_s),
            site=_site_of(tel, sites, rules.thresholds.get("landing_site_radius_m", 300.0)),
            distance_m=track_length(tel.lat, tel.lon), max_agl_m=verdict.max_agl_m,
            min_terrain_clearance_m=verdict.min_terrain_clearance_m, energy_used_wh=energy,
            battery_end_pct=bat_end, outcome=verdict.outcome, severity=verdict.severity,
            events=verdict.events, telemetry=tel,
            extra={"format": raw.fmt, "vehicle": raw.vehicle, "firmware": raw.firmware,
                   "time_source": raw.time_source, "segment": [float(seg.t0), float(seg.t1)],
                   "start": seg.start_evidence, "end": seg.end_evidence, "end_reason": seg.end,
                   "airborne_s": _airborne_s(raw, seg, rules), "in_air_known": bool(np.isfinite(state).any()),
                   "max_rel_alt_m": float(rel.max()) if rel.size else None, "checks": verdict.checks,
                   "file": Path(raw.path).name}))
    summary["messages_read"] += raw.messages_read
    summary["segments"] += len(segs)
    summary["ground_only_segments"] += skipped
    who = f"{raw.aircraft}: " if raw.aircraft else ""
    summary["events_outside_flights"] += [f"{who}{n.kind} at t={n.t - raw.t_start:.1f}s: {n.evidence}"
                                          for n in sorted(outside, key=lambda n: n.t)]


# -- per-process context: terrain, zones and rules are opened once per worker ---------------------------------
_CTX: dict[str, Any] = {}


def _init_worker(dem: str | None, scenario: str | None, rules_path: str | None, use_terrain: bool,
                 manifest: Any = None) -> None:
    _CTX.clear()
    _CTX["manifest"] = manifest  # issue 14: the operator's flight sheet (uavsim.context.Manifest), or None
    _CTX["rules"] = Rules.load(rules_path) if rules_path else default_rules()
    _CTX["terrain"] = None
    _CTX["zones"] = None
    _CTX["sites"] = None
    if use_terrain:
        from uavsim.terrain import open_dem
        _CTX["terrain"] = open_dem(dem)
    if scenario:
        from uavsim.airspace import Airspace
        from uavsim.scenario import Scenario
        sc = Scenario.load(scenario)
        _CTX["zones"] = Airspace.from_scenario(sc)
        _CTX["sites"] = [(s.id, s.lat, s.lon) for s in sc.sites.values()]
        _CTX["context"] = ContextModel.load(sc, _CTX["terrain"], _CTX["rules"])  # issue 14


def parse_file(path: str, sha256: str | None = None) -> FileResult:
    """Read and analyse one file in this process (uses the context set by ``_init_worker``)."""
    res = FileResult(path=path, sha256=sha256 or "")
    try:
        if not res.sha256:
            res.sha256 = sha256_of(path)
        raw = read_log(path)
        res.flights, res.corruption = analyse(raw, res.sha256, _CTX.get("terrain"), _CTX.get("zones"),
                                              _CTX.get("rules"), _CTX.get("sites"))
        for f in res.flights:  # issue 14: site, mission, aircraft, pilot and conformance of each flight
            apply_context(f, None, _CTX.get("context"), _CTX.get("manifest"), _CTX.get("rules"))
    except (LogFormatError, OSError) as exc:
        res.status, res.error = "rejected", str(exc) if isinstance(exc, LogFormatError) else f"{path}: {exc}"
    except Exception as exc:  # noqa: BLE001 - one bad file must never stop an import of many
        log.exception("%s: unexpected failure while analysing", path)
        res.status, res.error = "rejected", f"{path}: internal error while analysing ({type(exc).__name__}: {exc})"
    return res


def ingest(paths: Iterable[str | Path], store: Any, dem: str | None = None, scenario: str | None = None,
           rules_path: str | None = None, use_terrain: bool = False, workers: int = 1,
           progress: Callable[[FileResult], None] | None = None, manifest: Any = None) -> list[FileResult]:
    """Import log files and folders into ``store`` (a uavsim.store.Store). Files already imported are
    reported as duplicates without being parsed again. Results come back in input order."""
    files = find_logs(paths)
    results: list[FileResult] = []
    todo: list[tuple[int, str, str]] = []
    for f in files:
        p = str(f)
        try:
            if f.is_dir():
                raise IsADirectoryError(f"{p}: is a directory")
            sha = sha256_of(f)
        except OSError as exc:
            results.append(FileResult(path=p, sha256="", status="rejected", error=f"{p}: {exc.strerror or exc}"))
            continue
        if store.file_status(sha) == "imported":
            results.append(FileResult(path=p, sha256=sha, status="duplicate"))
            continue
        results.append(FileResult(path=p, sha256=sha))
        todo.append((len(results) - 1, p, sha))
    init = (dem, scenario, rules_path, use_terrain, manifest)
    _init_worker(*init)  # also in the parent: a bad DEM, scenario or rules file fails here, clearly, once
    if workers > 1 and len(todo) > 1:
        with ProcessPoolExecutor(max_workers=min(workers, len(todo), os.cpu_count() or 1),
                                 initializer=_init_worker, initargs=init) as pool:
            futures = [(i, pool.submit(parse_file, p, sha)) for i, p, sha in todo]
            for i, fut in futures:
                try:
                    res = fut.result()
                except Exception as exc:  # noqa: BLE001 - a worker that died (e.g. killed) rejects its file only
                    res = FileResult(path=results[i].path, sha256=results[i].sha256, status="rejected",
                                     error=f"{results[i].path}: worker process failed ({type(exc).__name__}: {exc})")
                results[i] = _store(store, res)
                if progress:
                    progress(results[i])
    else:
        for i, p, sha in todo:
            results[i] = _store(store, parse_file(p, sha))
            if progress:
                progress(results[i])
    return results


def _store(store: Any, res: FileResult) -> FileResult:
    if res.status == "rejected":
        store.reject_file(res.sha256 or hashlib.sha256(res.path.encode()).hexdigest(), res.path, res.error or "")
        return res
    if store.file_status(res.sha256) != "imported":
        res.corruption["same_flights"] = mark_same_flights(store, res.sha256, res.flights)
    res.status = store.add_file(res.sha256, res.path, res.flights, res.corruption)
    if res.status == "duplicate":  # the same content twice in one run
        res.flights = []
    return res
