"""The flight store: SQLite (stdlib), one schema for simulated and flown flights, migrations as code.

- Import is one transaction per file; a file's identity is its sha256, so re-importing is a no-op.
- A rejected file leaves no flight behind; only its rejection (path, sha256, reason) is recorded.
- Telemetry is kept as compressed column arrays so that the store stays small.
- An analyst's review is stored beside the automatic verdict, never over it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sqlite3
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from uavsim.errors import StoreError
from uavsim.records import TELEMETRY_FIELDS, Event, Flight, Telemetry

BUSY_TIMEOUT_S = 60.0  # how long a writer waits for another one's transaction before giving up

_FLIGHT_COLUMNS = (
    "id", "source", "source_ref", "mission_type", "site", "aircraft_id", "start_utc", "duration_s",
    "distance_m", "max_agl_m", "min_terrain_clearance_m", "energy_used_wh", "battery_end_pct", "outcome",
    "severity", "kind", "takeoff_s", "landing_s", "log_t0_s", "log_t1_s", "log_clock", "pilot",
)
_JSON_FLIGHT_COLUMNS = ("airborne_evidence", "checks_not_run", "context", "conformance")  # stored as JSON text
_EVENT_COLUMNS = ("kind", "severity", "t_s", "lat", "lon", "alt", "value", "threshold", "detail", "evidence", "level")

# Migration steps, applied once each, in this order. A step is SQL (statements separated by ';') or a function
# of the connection, bare (named by its place: "v1", "v2", ...) or as ("name", step). A store records the names
# it has, so steps that branches add side by side merge by appending, named; never edit a step that has shipped.
_Step = str | Callable[[sqlite3.Connection], None]
_MIGRATIONS: tuple[_Step | tuple[str, _Step], ...] = (
    """
    CREATE TABLE files (
        sha256 TEXT PRIMARY KEY, path TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('imported', 'rejected')),
        error TEXT, n_flights INTEGER NOT NULL DEFAULT 0, corruption TEXT, imported_utc TEXT NOT NULL
    );
    CREATE TABLE runs (
        run_id TEXT PRIMARY KEY, scenario TEXT, seed INTEGER, created_utc TEXT NOT NULL, summary TEXT
    );
    CREATE TABLE flights (
        id TEXT PRIMARY KEY, source TEXT NOT NULL CHECK (source IN ('sim', 'log')), source_ref TEXT NOT NULL,
        mission_type TEXT NOT NULL, site TEXT, aircraft_id TEXT, start_utc TEXT, duration_s REAL,
        distance_m REAL, max_agl_m REAL, min_terrain_clearance_m REAL, energy_used_wh REAL,
        battery_end_pct REAL, outcome TEXT NOT NULL CHECK (outcome IN ('safe', 'unsafe')),
        severity TEXT NOT NULL, file_sha256 TEXT REFERENCES files(sha256), run_id TEXT REFERENCES runs(run_id),
        extra TEXT
    );
    CREATE INDEX flights_source ON flights(source);
    CREATE INDEX flights_file ON flights(file_sha256);
    CREATE INDEX flights_run ON flights(run_id);
    CREATE TABLE events (
        flight_id TEXT NOT NULL REFERENCES flights(id) ON DELETE CASCADE, seq INTEGER NOT NULL,
        kind TEXT NOT NULL, severity TEXT NOT NULL, t_s REAL, lat REAL, lon REAL, alt REAL, value REAL,
        threshold REAL, detail TEXT, evidence TEXT, level TEXT, PRIMARY KEY (flight_id, seq)
    );
    CREATE TABLE telemetry (
        flight_id TEXT PRIMARY KEY REFERENCES flights(id) ON DELETE CASCADE, n INTEGER NOT NULL,
        mode_names TEXT NOT NULL, data BLOB NOT NULL
    );
    CREATE TABLE reviews (
        flight_id TEXT NOT NULL REFERENCES flights(id) ON DELETE CASCADE, reviewer TEXT NOT NULL,
        at_utc TEXT NOT NULL, severity TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL
    );
    """,
    # -- 2: the web workbench's users, sessions and login failures (uavsim.web) ---------------------------
    """
    CREATE TABLE users (
        name TEXT PRIMARY KEY, role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'analyst')),
        password_hash TEXT NOT NULL, created_utc TEXT NOT NULL
    );
    CREATE TABLE sessions (
        token_sha256 TEXT PRIMARY KEY, user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
        csrf_token TEXT NOT NULL, created_utc TEXT NOT NULL, expires_unix REAL NOT NULL
    );
    CREATE TABLE login_failures (key TEXT NOT NULL, at_unix REAL NOT NULL);
    CREATE INDEX login_failures_key ON login_failures(key, at_unix);
    CREATE TABLE flight_series (
        flight_id TEXT PRIMARY KEY REFERENCES flights(id) ON DELETE CASCADE, data BLOB NOT NULL, messages TEXT NOT NULL
    );
    """,
    # -- flights and ground runs apart, take-off/landing with evidence, the log window, checks not run (issue 11).
    # Rows from before are flights whose airborne state was never decided: kind 'flight', fields unknown.
    ("flight-kinds", """
    ALTER TABLE flights ADD COLUMN kind TEXT NOT NULL DEFAULT 'flight' CHECK (kind IN ('flight', 'ground_run'));
    ALTER TABLE flights ADD COLUMN takeoff_s REAL;
    ALTER TABLE flights ADD COLUMN landing_s REAL;
    ALTER TABLE flights ADD COLUMN log_t0_s REAL;
    ALTER TABLE flights ADD COLUMN log_t1_s REAL;
    ALTER TABLE flights ADD COLUMN log_clock TEXT;
    ALTER TABLE flights ADD COLUMN airborne_evidence TEXT;
    ALTER TABLE flights ADD COLUMN checks_not_run TEXT;
    CREATE INDEX flights_kind ON flights(kind);
    """),
    # -- who flew, how the context was found, conformance; manifests and context changes (issue 14)
    ("flight-context", """
    ALTER TABLE flights ADD COLUMN pilot TEXT;
    ALTER TABLE flights ADD COLUMN context TEXT;
    ALTER TABLE flights ADD COLUMN conformance TEXT;
    CREATE INDEX flights_pilot ON flights(pilot);
    CREATE TABLE manifests (
        sha256 TEXT PRIMARY KEY, path TEXT NOT NULL, n_rows INTEGER NOT NULL, who TEXT NOT NULL,
        imported_utc TEXT NOT NULL, rows TEXT NOT NULL
    );
    CREATE TABLE context_changes (
        flight_id TEXT NOT NULL REFERENCES flights(id) ON DELETE CASCADE, who TEXT NOT NULL, at_utc TEXT NOT NULL,
        field TEXT NOT NULL, old TEXT, new TEXT, manifest_sha256 TEXT, reason TEXT NOT NULL
    );
    CREATE INDEX context_changes_flight ON context_changes(flight_id);
    """),
)
SCHEMA_VERSION = len(_MIGRATIONS)  # steps a current store has


def _steps() -> list[tuple[str, str | Callable[[sqlite3.Connection], None]]]:
    """(name, step) of every migration step; a step given bare is named by its place, "v1", "v2", ..."""
    return [m if isinstance(m, tuple) else (f"v{i + 1}", m) for i, m in enumerate(_MIGRATIONS)]


def _step_names() -> list[str]:
    return [name for name, _ in _steps()]


def _apply(conn: sqlite3.Connection, step: str | Callable[[sqlite3.Connection], None]) -> None:
    """One migration step: SQL statements separated by ';', or a function of the connection (data moves)."""
    if callable(step):
        step(conn)
        return
    for stmt in step.split(";"):
        if stmt.strip():
            conn.execute(stmt)


def _wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL. The switch needs the file to itself and SQLite answers 'locked' at once, without its
    busy handler, while another process does the same or creates the schema: so wait here, up to the timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _write_problem(path: Path) -> str | None:
    """Why this store cannot be written (None when it can): SQLite needs the file and, for its WAL and
    lock files, the folder writable."""
    folder = path.parent.resolve() if str(path.parent) else Path.cwd()
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is read-only"
    if not folder.is_dir():
        return f"no folder {folder}"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is read-only"
    return None


def _describe(exc: sqlite3.DatabaseError) -> str:
    """A one-line cause that does not call a read-only or busy store 'not a uavsim store'."""
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        return f"cannot write to this store ({text})"
    if "locked" in text or "busy" in text:
        return f"the store stayed locked by another process for {BUSY_TIMEOUT_S:.0f} s ({text})"
    if "unable to open" in text:
        return f"cannot open this store ({text})"
    return f"not a uavsim store ({text})"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pack_telemetry(t: Telemetry) -> bytes:
    buf = io.BytesIO()
    # float32 halves the size; positions keep ~1 m at this latitude with float64 lat/lon, so keep those.
    arrays = {k: v for k, v in t.to_arrays().items()}
    for k in ("t_s", "alt_msl_m", "rel_alt_m", "ground_speed_mps", "battery_pct"):
        arrays[k] = arrays[k].astype(np.float32)
    np.savez(buf, **arrays)
    return zlib.compress(buf.getvalue(), 6)


def _unpack_telemetry(blob: bytes, mode_names: str) -> Telemetry:
    with np.load(io.BytesIO(zlib.decompress(blob))) as z:
        arrays = {k: z[k] for k in TELEMETRY_FIELDS}
    return Telemetry(**arrays, mode_names=json.loads(mode_names))


class Store:
    """A flight store in one SQLite file. Use as a context manager, or call :meth:`close`.

    ``read_only=None`` opens for writing when the file allows it and read-only otherwise (readers);
    ``read_only=False`` (writers: ingest, simulate) fails at once, with one clear line, when the store cannot
    be written, before any work is done. Any number of readers and writers may share one store: WAL, a
    busy timeout, and schema creation/migration in one exclusive transaction.
    """

    def __init__(self, path: str | Path = "uavsim.db", read_only: bool | None = False) -> None:
        self.path = Path(path)
        try:
            if self.path.is_dir():
                raise StoreError(f"{self.path}: is a directory, not a store file")
            problem = _write_problem(self.path)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot open this store ({exc.strerror or exc})") from exc
        if problem and read_only is False:
            raise StoreError(f"{self.path}: cannot write to this store ({problem})")
        self.read_only = bool(read_only) or problem is not None
        try:
            self.conn = self._connect()
            self._migrate()
        except sqlite3.DatabaseError as exc:
            with contextlib.suppress(Exception):
                self.conn.close()
            raise StoreError(f"{self.path}: {_describe(exc)}") from exc

    def _connect(self) -> sqlite3.Connection:
        if self.read_only:
            # A read-only WAL store needs its -shm file; where it cannot be made, read the file as immutable.
            shm_ok = Path(f"{self.path}-shm").exists() or os.access(self.path.parent.resolve(), os.W_OK)
            flag = "mode=ro" if shm_ok else "immutable=1"
            uri = f"{self.path.resolve().as_uri()}?{flag}"
            conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        else:
            conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            _wal(conn)  # readers never block the writer, nor it them
            # WAL with NORMAL sync: a killed process never loses or tears a committed file; a power cut may
            # lose the last few commits (never half of one), which the next import of the same folder redoes.
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    @classmethod
    def existing(cls, path: str | Path) -> Store:
        """Open a store that must already exist, for reading (read-only when it cannot be written); reading
        never creates an empty store file."""
        try:
            found = Path(path).is_file()
        except OSError as exc:  # a folder on the way that this user may not enter
            raise StoreError(f"{path}: cannot open this store ({exc.strerror or exc})") from exc
        if not found:
            raise StoreError(f"{path}: no flight store here (fill one with `uavsim simulate` or `uavsim ingest`)")
        return cls(path, read_only=None)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    # -- schema -----------------------------------------------------------------------------------------
    def _applied(self) -> list[str]:
        """Names of the migration steps this store has. Stores from before named steps record only a version
        number: their steps are the first ``version`` of the list."""
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "schema_migrations" in tables:
            return [r[0] for r in self.conn.execute("SELECT name FROM schema_migrations ORDER BY rowid")]
        row = self.conn.execute("SELECT version FROM schema_version").fetchone() if "schema_version" in tables else None
        version = int(row[0]) if row else 0
        names = _step_names()
        if version > len(names):
            raise StoreError(f"{self.path}: schema version {version} is newer than this uavsim ({SCHEMA_VERSION})")
        return names[:version]

    def _migrate(self) -> None:
        """Apply every migration step the store lacks, by name, in list order. All run in one exclusive
        transaction that re-reads what is applied once it holds the lock, so two processes creating or
        upgrading one store never race."""
        applied = self._applied()
        newer = sorted(set(applied) - set(_step_names()))
        if newer:
            raise StoreError(f"{self.path}: made by a newer uavsim (schema steps {', '.join(newer)} unknown here)")
        if len(applied) == SCHEMA_VERSION:
            return
        if self.read_only:
            what = "not a uavsim store" if not applied else "its schema needs an upgrade"
            raise StoreError(f"{self.path}: {what}, and this store cannot be written to upgrade it")
        self.conn.execute("BEGIN EXCLUSIVE")
        try:
            self.conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            applied = self._applied()  # another process may have done it while this one waited
            self.conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_utc TEXT NOT NULL)")
            self.conn.executemany("INSERT OR IGNORE INTO schema_migrations VALUES (?, ?)", [(n, _now()) for n in applied])
            for name, step in _steps():
                if name not in applied:
                    _apply(self.conn, step)
                    self.conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, _now()))
            self.conn.execute("DELETE FROM schema_version")
            self.conn.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        """How many migration steps the store has (SCHEMA_VERSION when current)."""
        return len(self._applied())

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing: on any exception, everything written inside is rolled back."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    # -- writing ------------------------------------------------------------------------------------------
    def file_status(self, sha256: str) -> str | None:
        row = self.conn.execute("SELECT status FROM files WHERE sha256 = ?", (sha256,)).fetchone()
        return row[0] if row else None

    def add_file(self, sha256: str, path: str, flights: list[Flight], corruption: dict[str, Any] | None = None,
                 before_insert: Callable[[Store], None] | None = None) -> str:
        """Import one file's flights in one transaction. Returns 'imported' or 'duplicate'.

        ``before_insert(store)`` runs inside that transaction, holding the write lock, once the file is known
        to be new (same-flight matching): what it reads cannot change before the flights are written."""
        with self.transaction() as c:
            row = c.execute("SELECT status FROM files WHERE sha256 = ?", (sha256,)).fetchone()
            if row and row[0] == "imported":
                return "duplicate"
            if before_insert is not None:
                before_insert(self)
            c.execute("DELETE FROM files WHERE sha256 = ?", (sha256,))  # an earlier rejection is retried
            c.execute(
                "INSERT INTO files (sha256, path, status, error, n_flights, corruption, imported_utc) "
                "VALUES (?, ?, 'imported', NULL, ?, ?, ?)",
                (sha256, path, len(flights), json.dumps(corruption or {}), _now()),  # records: flights + ground runs
            )
            for f in flights:
                self._insert_flight(c, f, file_sha256=sha256, run_id=None)
        return "imported"

    def reject_file(self, sha256: str, path: str, error: str) -> None:
        """Record why a file was rejected; it holds no flights."""
        with self.transaction() as c:
            row = c.execute("SELECT status FROM files WHERE sha256 = ?", (sha256,)).fetchone()
            if row and row[0] == "imported":
                return
            c.execute("DELETE FROM files WHERE sha256 = ?", (sha256,))
            c.execute(
                "INSERT INTO files (sha256, path, status, error, n_flights, imported_utc) VALUES (?, ?, 'rejected', ?, 0, ?)",
                (sha256, path, error, _now()),
            )

    def add_run(self, run_id: str, flights: Iterable[Flight], scenario: str = "", seed: int | None = None,
                summary: dict[str, Any] | None = None) -> int:
        """Store one simulation run's flights in one transaction; a run id already present is replaced."""
        n = 0
        with self.transaction() as c:
            c.execute("DELETE FROM flights WHERE run_id = ?", (run_id,))
            c.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
            c.execute(
                "INSERT INTO runs (run_id, scenario, seed, created_utc, summary) VALUES (?, ?, ?, ?, ?)",
                (run_id, scenario, seed, _now(), json.dumps(summary or {})),
            )
            for f in flights:
                self._insert_flight(c, f, file_sha256=None, run_id=run_id)
                n += 1
        return n

    def _insert_flight(self, c: sqlite3.Connection, f: Flight, file_sha256: str | None, run_id: str | None) -> None:
        d = f.to_dict()
        c.execute(
            f"INSERT INTO flights ({', '.join(_FLIGHT_COLUMNS + _JSON_FLIGHT_COLUMNS)}, file_sha256, run_id, extra) "
            f"VALUES ({', '.join('?' * (len(_FLIGHT_COLUMNS) + len(_JSON_FLIGHT_COLUMNS) + 3))})",
            [d[k] for k in _FLIGHT_COLUMNS] + [json.dumps(d[k]) for k in _JSON_FLIGHT_COLUMNS]
            + [file_sha256, run_id, json.dumps(d["extra"])],
        )
        c.executemany(
            f"INSERT INTO events (flight_id, seq, {', '.join(_EVENT_COLUMNS)}) "
            f"VALUES ({', '.join('?' * (len(_EVENT_COLUMNS) + 2))})",
            [[f.id, i] + [e.to_dict()[k] for k in _EVENT_COLUMNS] for i, e in enumerate(f.events)],
        )
        if f.telemetry is not None and len(f.telemetry):
            c.execute(
                "INSERT INTO telemetry (flight_id, n, mode_names, data) VALUES (?, ?, ?, ?)",
                (f.id, len(f.telemetry), json.dumps(f.telemetry.mode_names), _pack_telemetry(f.telemetry)),
            )

    def add_review(self, flight_id: str, reviewer: str, severity: str, outcome: str, reason: str) -> None:
        if not reason.strip():
            raise StoreError("a review needs a reason")
        with self.transaction() as c:
            if c.execute("SELECT 1 FROM flights WHERE id = ?", (flight_id,)).fetchone() is None:
                raise StoreError(f"no flight {flight_id!r} in {self.path}")
            c.execute("INSERT INTO reviews VALUES (?, ?, ?, ?, ?, ?)", (flight_id, reviewer, _now(), severity, outcome, reason))

    # -- reading ------------------------------------------------------------------------------------------
    def count(self, source: str | None = None, kind: str = "flight") -> int:
        """Records of ``kind`` (flights unless told; ground runs never count as flights)."""
        if source is None:
            return int(self.conn.execute("SELECT COUNT(*) FROM flights WHERE kind = ?", (kind,)).fetchone()[0])
        return int(self.conn.execute("SELECT COUNT(*) FROM flights WHERE source = ? AND kind = ?",
                                     (source, kind)).fetchone()[0])

    def files(self) -> list[dict[str, Any]]:
        cur = self.conn.execute("SELECT sha256, path, status, error, n_flights, corruption, imported_utc FROM files ORDER BY path")
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def flights(self, source: str | None = None, with_telemetry: bool = False, reviewed: bool = True,
                run_id: str | None = None, file_sha256: str | None = None, kind: str | None = "flight") -> list[Flight]:
        """Flights in a stable order (start time, then id). With ``reviewed``, a review overrides the verdict
        in ``severity``/``outcome`` and the automatic one is kept in ``extra['automatic']``.
        ``kind`` = "ground_run" gives the ground runs instead, None both."""
        where, args = [], []
        for col, val in (("source", source), ("run_id", run_id), ("file_sha256", file_sha256), ("kind", kind)):
            if val is not None:
                where.append(f"{col} = ?")
                args.append(val)
        sql = f"SELECT {', '.join(_FLIGHT_COLUMNS + _JSON_FLIGHT_COLUMNS)}, extra FROM flights"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY start_utc IS NULL, start_utc, id"
        rows = self.conn.execute(sql, args).fetchall()
        events: dict[str, list[Event]] = {}
        for r in self.conn.execute(f"SELECT flight_id, {', '.join(_EVENT_COLUMNS)} FROM events ORDER BY flight_id, seq"):
            events.setdefault(r[0], []).append(Event(**dict(zip(_EVENT_COLUMNS, r[1:], strict=True))))
        reviews: dict[str, tuple[str, str, str, str, str]] = {}
        if reviewed:
            for r in self.conn.execute("SELECT flight_id, reviewer, at_utc, severity, outcome, reason FROM reviews ORDER BY at_utc, rowid"):
                reviews[r[0]] = r[1:]
        out = []
        for r in rows:
            n = len(_FLIGHT_COLUMNS)
            d = dict(zip(_FLIGHT_COLUMNS, r[:n], strict=True))
            d.update({k: json.loads(v) for k, v in zip(_JSON_FLIGHT_COLUMNS, r[n:-1], strict=True) if v})
            extra = json.loads(r[-1]) if r[-1] else {}
            f = Flight(**d, events=events.get(d["id"], []), extra=extra)
            if f.id in reviews:
                who, at, sev, outc, why = reviews[f.id]
                f.extra["automatic"] = {"severity": f.severity, "outcome": f.outcome}
                f.extra["review"] = {"reviewer": who, "at_utc": at, "reason": why}
                f.severity, f.outcome = sev, outc
            if with_telemetry:
                f.telemetry = self.telemetry(f.id)
            out.append(f)
        return out

    def telemetry(self, flight_id: str) -> Telemetry | None:
        row = self.conn.execute("SELECT data, mode_names FROM telemetry WHERE flight_id = ?", (flight_id,)).fetchone()
        return _unpack_telemetry(row[0], row[1]) if row else None

    def telemetry_columns(self, fields: tuple[str, ...] = ("lat", "lon")) -> Iterator[tuple[str, dict[str, np.ndarray]]]:
        """(flight id, {field: array}) for every stored track in one query, decoding only ``fields``.

        The fast path for maps: about 3x quicker than :meth:`telemetry` per flight for thousands of tracks.
        """
        unknown = set(fields) - set(TELEMETRY_FIELDS)
        if unknown:
            raise StoreError(f"unknown telemetry fields {sorted(unknown)}; known: {', '.join(TELEMETRY_FIELDS)}")
        for flight_id, blob in self.conn.execute("SELECT flight_id, data FROM telemetry ORDER BY flight_id"):
            with np.load(io.BytesIO(zlib.decompress(blob))) as z:
                yield flight_id, {k: z[k] for k in fields}

    def runs(self) -> list[dict[str, Any]]:
        cur = self.conn.execute("SELECT run_id, scenario, seed, created_utc, summary FROM runs ORDER BY created_utc, run_id")
        return [
            {"run_id": r[0], "scenario": r[1], "seed": r[2], "created_utc": r[3], "summary": json.loads(r[4] or "{}")}
            for r in cur.fetchall()
        ]

    # -- issue 14: manifests and context corrections (kept like reviews: who, when, what changed) ---------------
    def manifest_seen(self, sha256: str) -> bool:
        return self.conn.execute("SELECT 1 FROM manifests WHERE sha256 = ?", (sha256,)).fetchone() is not None

    def add_manifest(self, sha256: str, path: str, rows: list[dict[str, Any]], who: str) -> bool:
        """Record a manifest by its content; False when the same content was stored before (a no-op)."""
        with self.transaction() as c:
            if c.execute("SELECT 1 FROM manifests WHERE sha256 = ?", (sha256,)).fetchone() is not None:
                return False
            c.execute("INSERT INTO manifests VALUES (?, ?, ?, ?, ?, ?)",
                      (sha256, path, len(rows), who, _now(), json.dumps(rows, ensure_ascii=False)))
        return True

    def correct_context(self, flight: Flight, changes: list[tuple[str, Any, Any]], who: str,
                        manifest_sha256: str | None, reason: str) -> None:
        """Write a flight's corrected context, conformance and verdict, and log each changed field."""
        d = flight.to_dict()
        at = _now()
        with self.transaction() as c:
            c.execute(
                "UPDATE flights SET mission_type = ?, site = ?, aircraft_id = ?, pilot = ?, context = ?, "
                "conformance = ?, severity = ?, outcome = ? WHERE id = ?",
                (d["mission_type"], d["site"], d["aircraft_id"], d["pilot"], json.dumps(d["context"]),
                 json.dumps(d["conformance"]), d["severity"], d["outcome"], flight.id))
            c.execute("DELETE FROM events WHERE flight_id = ?", (flight.id,))
            c.executemany(
                f"INSERT INTO events (flight_id, seq, {', '.join(_EVENT_COLUMNS)}) "
                f"VALUES ({', '.join('?' * (len(_EVENT_COLUMNS) + 2))})",
                [[flight.id, i] + [e.to_dict()[k] for k in _EVENT_COLUMNS] for i, e in enumerate(flight.events)])
            c.executemany("INSERT INTO context_changes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          [(flight.id, who, at, name, json.dumps(old, ensure_ascii=False),
                            json.dumps(new, ensure_ascii=False), manifest_sha256, reason)
                           for name, old, new in changes])

    def context_changes(self, flight_id: str | None = None) -> list[dict[str, Any]]:
        """Every context correction, oldest first (optionally of one flight)."""
        sql = "SELECT flight_id, who, at_utc, field, old, new, manifest_sha256, reason FROM context_changes"
        args: tuple[str, ...] = ()
        if flight_id is not None:
            sql, args = sql + " WHERE flight_id = ?", (flight_id,)
        cols = ("flight_id", "who", "at_utc", "field", "old", "new", "manifest_sha256", "reason")
        out = []
        for r in self.conn.execute(sql + " ORDER BY at_utc, rowid", args):
            row = dict(zip(cols, r, strict=True))
            row["old"], row["new"] = json.loads(row["old"]), json.loads(row["new"])
            out.append(row)
        return out

    # -- the web workbench: users, sessions, login failures, reviews, one flight (uavsim.web) ---------------
    # One additive block. Session tokens are stored as their sha256: a copy of the store hands out no session.
    def add_user(self, name: str, role: str, password_hash: str) -> None:
        with self.transaction() as c:
            c.execute("INSERT INTO users (name, role, password_hash, created_utc) VALUES (?, ?, ?, ?) "
                      "ON CONFLICT(name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash",
                      (name, role, password_hash, _now()))

    def user(self, name: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT name, role, password_hash FROM users WHERE name = ?", (name,)).fetchone()
        return {"name": row[0], "role": row[1], "password_hash": row[2]} if row else None

    def add_session(self, token_sha256: str, user_name: str, csrf_token: str, expires_unix: float) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM sessions WHERE expires_unix < ?", (datetime.now(UTC).timestamp(),))
            c.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                      (token_sha256, user_name, csrf_token, _now(), expires_unix))

    def session(self, token_sha256: str, now_unix: float) -> dict[str, Any] | None:
        """The live session of a token with its user's current role; None when unknown or expired."""
        row = self.conn.execute(
            "SELECT s.user_name, u.role, s.csrf_token, s.expires_unix FROM sessions s JOIN users u ON u.name = s.user_name "
            "WHERE s.token_sha256 = ? AND s.expires_unix > ?", (token_sha256, now_unix)).fetchone()
        return {"user": row[0], "role": row[1], "csrf_token": row[2], "expires_unix": row[3]} if row else None

    def end_session(self, token_sha256: str) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM sessions WHERE token_sha256 = ?", (token_sha256,))

    def record_login_failure(self, keys: Iterable[str], now_unix: float, keep_s: float) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM login_failures WHERE at_unix < ?", (now_unix - keep_s,))
            c.executemany("INSERT INTO login_failures VALUES (?, ?)", [(k, now_unix) for k in keys])

    def login_failures(self, key: str, since_unix: float) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM login_failures WHERE key = ? AND at_unix >= ?",
                                     (key, since_unix)).fetchone()[0])

    def reviews(self, flight_id: str | None = None) -> list[dict[str, Any]]:
        """Every review (oldest first) with the automatic verdict it stands beside."""
        sql = ("SELECT r.flight_id, r.reviewer, r.at_utc, r.severity, r.outcome, r.reason, f.severity, f.outcome "
               "FROM reviews r JOIN flights f ON f.id = r.flight_id")
        sql, args = (sql + " WHERE r.flight_id = ?", (flight_id,)) if flight_id is not None else (sql, ())
        keys = ("flight_id", "reviewer", "at_utc", "severity", "outcome", "reason",
                "automatic_severity", "automatic_outcome")
        return [dict(zip(keys, r, strict=True)) for r in self.conn.execute(sql + " ORDER BY r.at_utc, r.rowid", args)]

    def flight(self, flight_id: str, with_telemetry: bool = True) -> Flight | None:
        """One flight by id (the latest review applied, as in :meth:`flights`); None when absent."""
        row = self.conn.execute(f"SELECT {', '.join(_FLIGHT_COLUMNS)}, extra FROM flights WHERE id = ?",
                                (flight_id,)).fetchone()
        if row is None:
            return None
        events = [Event(**dict(zip(_EVENT_COLUMNS, r, strict=True))) for r in self.conn.execute(
            f"SELECT {', '.join(_EVENT_COLUMNS)} FROM events WHERE flight_id = ? ORDER BY seq", (flight_id,))]
        f = Flight(**dict(zip(_FLIGHT_COLUMNS, row[:-1], strict=True)), events=events,
                   extra=json.loads(row[-1]) if row[-1] else {})
        if history := self.reviews(flight_id):
            last = history[-1]
            f.extra["automatic"] = {"severity": f.severity, "outcome": f.outcome}
            f.extra["review"] = {k: last[k] for k in ("reviewer", "at_utc", "reason")}
            f.severity, f.outcome = last["severity"], last["outcome"]
        f.telemetry = self.telemetry(flight_id) if with_telemetry else None
        return f

    def add_flight_series(self, flight_id: str, series: dict[str, dict[str, np.ndarray]],
                          messages: list[dict[str, Any]]) -> None:
        """The flight page's extra series (attitude, vibration, GPS quality, battery electrics) and messages."""
        buf = io.BytesIO()
        np.savez(buf, **{f"{name}.{col}": np.asarray(a, np.float32) for name, cols in series.items()
                         for col, a in cols.items()})
        with self.transaction() as c:
            c.execute("INSERT OR REPLACE INTO flight_series VALUES (?, ?, ?)",
                      (flight_id, zlib.compress(buf.getvalue(), 6), json.dumps(messages)))

    def flight_series(self, flight_id: str) -> tuple[dict[str, dict[str, np.ndarray]], list[dict[str, Any]]] | None:
        row = self.conn.execute("SELECT data, messages FROM flight_series WHERE flight_id = ?", (flight_id,)).fetchone()
        if row is None:
            return None
        series: dict[str, dict[str, np.ndarray]] = {}
        with np.load(io.BytesIO(zlib.decompress(row[0]))) as z:
            for key in z.files:
                name, col = key.split(".", 1)
                series.setdefault(name, {})[col] = z[key].astype(np.float64)
        return series, json.loads(row[1])
