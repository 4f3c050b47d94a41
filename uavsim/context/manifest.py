"""The operator's flight sheet (a manifest CSV): which log is which flight, by whom, where, what for, on which plan.

UTF-8 CSV with a header (a byte-order mark is allowed). ``log`` is required: the log file's name (or its path as
given on the command line) or its sha256. Optional columns: ``aircraft_id``, ``mission_type`` (DESIGN.md
vocabulary), ``site`` (a scenario site id), ``pilot``, ``permit`` (a permit id of the scenario), ``plan`` (a
``.plan`` or ``.waypoints`` file relative to the manifest), ``date`` (YYYY-MM-DD, local), ``notes``.

The whole sheet is checked before anything is imported: the first bad row raises :class:`ManifestError`, one line
naming the file, the line, the column and the problem. Text is NFC-normalised so that a Vietnamese name typed on
two keyboards (precomposed or combining diacritics) is one name.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from uavsim.errors import DataFileError, UavSimError
from uavsim.records import MISSION_TYPES

COLUMNS = ("log", "aircraft_id", "mission_type", "site", "pilot", "permit", "plan", "date", "notes")
CONTEXT_FIELDS = ("site", "mission_type", "aircraft_id", "pilot")  # manifest values override inference
PLAN_SUFFIXES = (".plan", ".waypoints", ".txt")  # ArduPilot saves QGC WPL 110 missions as .txt
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


class ManifestError(DataFileError):
    """A manifest is unreadable or one of its rows is invalid (the message names file, line and column)."""


@dataclass(frozen=True)
class ManifestRow:
    line: int
    log: str
    sha256: str | None = None  # when ``log`` is a sha256
    aircraft_id: str | None = None
    mission_type: str | None = None
    site: str | None = None
    pilot: str | None = None
    permit: str | None = None
    plan: str | None = None  # absolute path of the plan file
    date: str | None = None
    notes: str | None = None

    def given(self) -> dict[str, str]:
        """The context fields this row sets (empty cells leave inference in charge)."""
        return {k: v for k in CONTEXT_FIELDS if (v := getattr(self, k)) is not None}

    def matches(self, sha256: str, name: str) -> bool:
        if self.sha256 is not None:
            return self.sha256 == sha256.lower()
        return self.log in (name, Path(name).name)


@dataclass
class Manifest:
    path: str
    sha256: str  # of the file's bytes: the same sheet imported twice is recognised
    rows: list[ManifestRow] = field(default_factory=list)

    def row_for(self, sha256: str, name: str) -> ManifestRow | None:
        """The row of a log file (by its sha256, or by its name), if the sheet has one."""
        return next((r for r in self.rows if r.matches(sha256, name)), None)

    def to_rows(self) -> list[dict[str, Any]]:
        return [asdict(r) for r in self.rows]


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    v = unicodedata.normalize("NFC", value).strip()
    return v or None


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ManifestError(path, f"line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); "
                                  "save the sheet as 'CSV UTF-8'") from None


def read_manifest(path: str | Path, sites: Iterable[str] | None = None, permits: Iterable[str] | None = None,
                  logs: Iterable[tuple[str, str | None]] | None = None,
                  check_plan: Callable[[Path], Any] | None = None) -> Manifest:
    """Read and check a manifest. ``sites`` and ``permits`` are the scenario's ids; ``logs`` the (name, sha256 or
    None) of the files being imported, so that a row naming no given file is an error; ``check_plan(path)`` reads
    a plan file (raising on a malformed one)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ManifestError(p, "file not found") from None
    except OSError as exc:
        raise ManifestError(p, f"cannot read ({exc.strerror})") from None
    text = _decode(p, data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ManifestError(p, "empty file: a header line with at least a 'log' column is needed") from None
    except csv.Error as exc:
        raise ManifestError(p, f"line 1: {exc}") from None
    cols = _header(p, header)
    ctx = _Checks(p, set(sites) if sites is not None else None, set(permits) if permits is not None else None,
                  list(logs) if logs is not None else None, check_plan)
    rows: list[ManifestRow] = []
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ManifestError(p, f"line {line}: {exc}") from None
        if not any(c.strip() for c in cells):
            continue  # blank line
        if len(cells) != len(cols):
            raise ManifestError(p, f"line {line}: {len(cells)} cells, the header has {len(cols)} columns")
        rows.append(ctx.row(line, dict(zip(cols, cells, strict=True)), rows))
    if not rows:
        raise ManifestError(p, "no rows under the header")
    return Manifest(str(p), hashlib.sha256(data).hexdigest(), rows)


def _header(path: Path, header: list[str]) -> list[str]:
    cols = [unicodedata.normalize("NFC", h).strip().lower() for h in header]
    for i, c in enumerate(cols):
        if c not in COLUMNS:
            raise ManifestError(path, f"line 1, column {i + 1} '{header[i]}': unknown column "
                                      f"(known: {', '.join(COLUMNS)})")
        if c in cols[:i]:
            raise ManifestError(path, f"line 1, column {i + 1} '{header[i]}': duplicate column")
    if "log" not in cols:
        raise ManifestError(path, "line 1: no 'log' column (the log file's name or sha256 is required)")
    return cols


@dataclass
class _Checks:
    path: Path
    sites: set[str] | None
    permits: set[str] | None
    logs: list[tuple[str, str | None]] | None
    check_plan: Callable[[Path], Any] | None

    def fail(self, line: int, column: str, problem: str) -> UavSimError:
        return ManifestError(self.path, f"line {line}, column {column}: {problem}")

    def row(self, line: int, cells: dict[str, str], before: list[ManifestRow]) -> ManifestRow:
        v = {k: _text(cells.get(k)) for k in COLUMNS}
        log = v["log"]
        if log is None:
            raise self.fail(line, "log", "empty (the log file's name or sha256 is required)")
        sha = log.lower() if _SHA256.match(log) else None
        for other in before:
            if (other.sha256 or other.log) == (sha or log):
                raise self.fail(line, "log", f"'{log}' is already on line {other.line} (one row per log)")
        self._log_given(line, log, sha)
        mt = v["mission_type"]
        if mt is not None and mt.lower() not in MISSION_TYPES:
            raise self.fail(line, "mission_type", f"unknown mission type '{mt}' (known: {', '.join(MISSION_TYPES)})")
        for col, known in (("site", self.sites), ("permit", self.permits)):
            if v[col] is not None and known is not None and v[col] not in known:
                raise self.fail(line, col, f"unknown {col} '{v[col]}' (known: {', '.join(sorted(known))})")
        if v["date"] is not None:
            try:
                if len(v["date"]) != 10:
                    raise ValueError
                date.fromisoformat(v["date"])
            except ValueError:
                raise self.fail(line, "date", f"'{v['date']}' is not a date YYYY-MM-DD") from None
        plan = self._plan(line, v["plan"])
        return ManifestRow(line, log, sha, v["aircraft_id"], mt.lower() if mt else None, v["site"], v["pilot"],
                           v["permit"], plan, v["date"], v["notes"])

    def _log_given(self, line: int, log: str, sha: str | None) -> None:
        if self.logs is None:
            return
        hits = [n for n, s in self.logs if (sha is not None and s == sha) or (sha is None and log in (n, Path(n).name))]
        if not hits:
            raise self.fail(line, "log", f"'{log}' matches none of the {len(self.logs)} log file(s) given")
        if len(hits) > 1:
            raise self.fail(line, "log", f"'{log}' matches {len(hits)} files ({', '.join(hits[:3])}); give its sha256")

    def _plan(self, line: int, value: str | None) -> str | None:
        if value is None:
            return None
        plan = (self.path.parent / value).resolve()
        if plan.suffix.lower() not in PLAN_SUFFIXES:
            raise self.fail(line, "plan", f"'{value}' is not a .plan, .waypoints or .txt (QGC WPL) mission file")
        if not plan.is_file():
            raise self.fail(line, "plan", f"plan file '{value}' not found (looked for {plan})")
        if self.check_plan is not None:
            try:
                self.check_plan(plan)
            except UavSimError as exc:
                raise self.fail(line, "plan", str(exc)) from None
        return str(plan)
