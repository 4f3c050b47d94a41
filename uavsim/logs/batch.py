"""Log import as a batch: files -> worker processes (parse_file) -> the store, one transaction per file.

``parse_file`` reads and analyses one file; ``ingest`` runs it in worker processes under per-file memory
and time ceilings (:mod:`uavsim.logs.workers`) and stores every result in input order; only the parent
process writes to SQLite. A file that cannot be read is rejected with its reason and leaves no flight
behind; a damaged file that still yields data is imported with its damage counted.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from uavsim.context import ContextModel, apply_context
from uavsim.errors import LogFormatError, StoreError
from uavsim.logs import series
from uavsim.logs.analysis import analyse, split_kinds
from uavsim.logs.files import find_logs, sha256_of
from uavsim.logs.formats import read_log, warm_readers
from uavsim.logs.same_flight import mark_same_flights
from uavsim.logs.workers import Job, Limits, run_jobs, start_method
from uavsim.records import SEVERITY_RANK, Flight
from uavsim.safety.classify import TerrainLike, ZonesLike
from uavsim.safety.rules import Rules, default_rules

log = logging.getLogger(__name__)



@dataclass
class FileResult:
    """What importing one file gave: its identity, status, flights and damage (the CLI's JSON rows)."""

    path: str
    sha256: str
    status: str = "imported"  # imported | duplicate | rejected
    error: str | None = None
    flights: list[Flight] = field(default_factory=list)
    corruption: dict[str, Any] = field(default_factory=dict)
    ground_runs: list[Flight] = field(default_factory=list)  # armed, never airborne: never counted as flights
    # per flight id: the flight page's extra series (attitude, vibration, GPS quality, battery) and messages
    series: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "status": self.status, "error": self.error,
                "flights": [f.to_dict() for f in self.flights], "corruption": self.corruption,
                "ground_runs": [f.to_dict() for f in self.ground_runs]}


# -- the batch: per-worker context, one file per job, results stored in input order ---------------------------


@dataclass(frozen=True)
class Context:
    """What every file's analysis needs, opened once per process (passed along, never a module global)."""

    rules: Rules
    terrain: TerrainLike | None = None
    zones: ZonesLike | None = None
    sites: list[tuple[str, float, float]] | None = None
    manifest: Any = None  # issue 14: the operator's flight sheet (uavsim.context.Manifest), or None
    context: Any = None  # issue 14: the scenario's sites, fields, plans and fleet (uavsim.context.ContextModel)


def _init_worker(dem: str | None, scenario: str | None, rules_path: str | None, use_terrain: bool,
                 manifest: Any = None) -> Context:
    """The analysis context; a bad DEM, scenario or rules file raises here, clearly."""
    rules = Rules.load(rules_path) if rules_path else default_rules()
    terrain = zones = sites = None
    if use_terrain:
        from uavsim.terrain import open_dem
        terrain = open_dem(dem)
    if scenario:
        from uavsim.airspace import Airspace
        from uavsim.scenario import Scenario
        sc = Scenario.load(scenario)
        zones = Airspace.from_scenario(sc)
        sites = [(s.id, s.lat, s.lon) for s in sc.sites.values()]
        context = ContextModel.load(sc, terrain, rules)
        return Context(rules, terrain, zones, sites, manifest, context)
    return Context(rules, terrain, zones, sites, manifest)


def parse_file(path: str, sha256: str | None = None, ctx: Context | None = None) -> FileResult:
    """Read and analyse one file in this process (no context: the default rules, no terrain or zones)."""
    ctx = ctx or Context(default_rules())
    res = FileResult(path=path, sha256=sha256 or "")
    try:
        if not res.sha256:
            res.sha256 = sha256_of(path)

        raw = read_log(path)
        records, res.corruption = analyse(raw, res.sha256, ctx.terrain, ctx.zones, ctx.rules, ctx.sites)
        res.flights, res.ground_runs = split_kinds(records)
        _damage_observation(res.flights + res.ground_runs, ctx.rules)
        for f in res.flights:  # issue 14: site, mission, aircraft, pilot and conformance of each flight
            apply_context(f, None, ctx.context, ctx.manifest, ctx.rules)
        res.series = series.for_flights(raw, res.flights + res.ground_runs)
    except (LogFormatError, OSError) as exc:
        res.status, res.error = "rejected", str(exc) if isinstance(exc, LogFormatError) else f"{path}: {exc}"
    except MemoryError:  # past the worker's memory ceiling: the worker rejects the file, naming the ceiling
        raise
    except Exception as exc:  # noqa: BLE001 - one bad file must never stop an import of many
        log.exception("%s: unexpected failure while analysing", path)
        res.status, res.error = "rejected", f"{path}: internal error while analysing ({type(exc).__name__}: {exc})"
    return res


_DAMAGE_KEYS_SHOWN = 6  # counts named in a LOG_CORRUPT event's detail
# Counts of damage in ``corruption`` that make a LOG_CORRUPT observation. A message cut off by the end of the
# file is how every log ends when power goes (LOG_TRUNCATED_IN_AIR judges that), and logger dropouts are
# the logger's load, not damage to the record.
DAMAGE_COUNTS = ("skipped_bytes", "unindexed_bytes", "bad_records", "bad_fmt", "bad_fmt_messages", "crc_errors",
                 "clock_glitches", "clock_stray_rows", "clock_gaps_closed", "non_text_bytes", "undecodable_messages",
                 "bad_messages", "bad_headers", "file_corruption")


def _damage_observation(flights: list[Flight], rules: Rules) -> None:
    """Each flight of a damaged file carries a LOG_CORRUPT event with the file's damage counts."""
    for f in flights:
        damage = {k: v for k, v in f.extra.get("file_damage", {}).items() if k in DAMAGE_COUNTS and v}
        if not damage or any(e.kind == "LOG_CORRUPT" for e in f.events):
            continue
        counts = ", ".join(f"{k}={int(v)}" for k, v in list(damage.items())[:_DAMAGE_KEYS_SHOWN])
        ev = rules.make_event("LOG_CORRUPT", 0.0, level="warn", detail=f"damaged log read past: {counts}",
                              evidence=f"file damage counted while reading: {counts}")
        f.events.insert(0, ev)  # about the whole record: first, at its start
        if SEVERITY_RANK[ev.severity] > SEVERITY_RANK[f.severity]:
            f.severity = ev.severity
            f.outcome = "unsafe" if rules.is_unsafe(f.severity) else f.outcome


def file_limits(rules: Rules, memory_mib: float | None = None, seconds: float | None = None) -> Limits:
    """The per-file ceilings: the arguments where given, else the rules table's."""
    return Limits(memory_mib if memory_mib is not None else rules.threshold("ingest_file_memory_mib"),
                  seconds if seconds is not None else rules.threshold("ingest_file_seconds"))


def _not_regular(path: Path) -> str | None:
    """Why this path is not read (only regular files are: a FIFO or a device never ends)."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return exc.strerror or str(exc)
    if stat.S_ISREG(mode):
        return None
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return "not a regular file (" + next((name for test, name in kinds if test(mode)), "special file") + "), skipped"


def ingest(paths: Iterable[str | Path], store: Any, dem: str | None = None, scenario: str | None = None,
           rules_path: str | None = None, use_terrain: bool = False, workers: int = 1,
           progress: Callable[[FileResult], None] | None = None, memory_mib: float | None = None,
           seconds: float | None = None, manifest: Any = None) -> list[FileResult]:
    """Import log files and folders into ``store`` (a uavsim.store.Store). Files already imported are
    reported as duplicates without being parsed again. Every file gets a result, in input order; files are
    read in ``workers`` processes under the per-file ceilings and stored in input order."""
    results: list[FileResult] = []
    todo: list[Job] = []
    for f in find_logs(paths):
        p = str(f)
        problem = _not_regular(f)
        try:
            sha = "" if problem else sha256_of(f)
        except OSError as exc:
            problem = exc.strerror or str(exc)
        if problem:
            results.append(FileResult(path=p, sha256="", status="rejected", error=f"{p}: {problem}"))
        elif store.file_status(sha) == "imported":
            results.append(FileResult(path=p, sha256=sha, status="duplicate"))
        else:
            results.append(FileResult(path=p, sha256=sha))
            todo.append(Job(len(results) - 1, p, sha))
    init = (dem, scenario, rules_path, use_terrain, manifest)
    ctx = _init_worker(*init)  # in the parent: a bad DEM, scenario or rules file fails here, clearly, once
    if todo:
        warm_readers()  # forked workers inherit the loaded readers and compiled kernels
    finished: dict[int, FileResult] = {}
    order = iter([j.index for j in todo])
    nxt = [next(order, None)]

    def done(job: Job, res: FileResult) -> None:  # store in input order, so that output never depends on timing
        finished[job.index] = res
        while nxt[0] is not None and nxt[0] in finished:
            results[nxt[0]] = _store(store, finished.pop(nxt[0]))
            if progress:
                progress(results[nxt[0]])
            nxt[0] = next(order, None)

    def failed(job: Job, what: str, why: str) -> FileResult:
        return FileResult(path=job.path, sha256=job.sha256, status="rejected", error=f"{what}: {job.path} ({why})")

    method = start_method()  # forked workers inherit ctx; others (from a threaded server) open their own
    setup = partial(_given, ctx) if method == "fork" else partial(_init_worker, *init)
    run_jobs(todo, max(1, min(workers, len(todo))), setup, _parse_job, failed, done,
             file_limits(ctx.rules, memory_mib, seconds), method)
    return results


def _given(ctx: Context) -> Context:
    return ctx


def _parse_job(job: Job, ctx: Context) -> FileResult:
    return parse_file(job.path, job.sha256, ctx)


def _store(store: Any, res: FileResult) -> FileResult:
    try:
        return _store_one(store, res)
    except sqlite3.Error as exc:  # the store failed (disk full, lost lock): that stops the batch, in one line
        raise StoreError(f"{store.path}: cannot store {res.path} ({exc})") from exc


def _store_one(store: Any, res: FileResult) -> FileResult:
    if res.status == "rejected":
        store.reject_file(res.sha256 or hashlib.sha256(res.path.encode()).hexdigest(), res.path, res.error or "")
        return res

    def match(s: Any) -> None:  # inside the file's transaction: a concurrent import cannot slip in between
        res.corruption["same_flights"] = mark_same_flights(s, res.sha256, res.flights)

    res.status = store.add_file(res.sha256, res.path, res.flights + res.ground_runs, res.corruption,
                                before_insert=match)
    if res.status == "duplicate":  # the same content twice in one run, or imported meanwhile by another process
        res.flights, res.ground_runs = [], []
    for flight_id, (kept, messages) in res.series.items() if res.status == "imported" else ():
        store.add_flight_series(flight_id, kept, messages)  # auxiliary: the flights are stored whatever happens
    res.series = {}
    return res
