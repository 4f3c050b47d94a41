"""The rules table: event severities and field thresholds as data, each with its source."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from uavsim.errors import DataFileError
from uavsim.records import EVENT_KINDS, SEVERITIES, SEVERITY_RANK, Event


@dataclass(frozen=True)
class Rules:
    """Severity per (event kind, level) and named thresholds. Build with :meth:`load` or :func:`default_rules`."""

    severity: dict[str, dict[str, str]]
    thresholds: dict[str, float]
    sources: dict[str, str]
    unsafe_from: str = "serious_incident"
    path: str = "<default>"

    @classmethod
    def load(cls, path: str | Path | None = None) -> Rules:
        """Read a rules TOML; ``None`` reads the packaged default. Errors name the file and the entry."""
        if path is None:
            text = resources.files("uavsim.safety").joinpath("rules.toml").read_text(encoding="utf-8")
            where = "uavsim/safety/rules.toml"
        else:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                raise DataFileError(path, f"cannot read rules file ({exc.strerror})") from exc
            where = str(path)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise DataFileError(where, f"invalid TOML: {exc}") from exc
        # A user's table is checked whole against the packaged one, so that a missing or mistyped threshold is
        # one clear error at load time, never a KeyError deep in a detector.
        required = None if path is None else frozenset(default_rules().thresholds)
        return cls._from_mapping(data, where, required)

    @classmethod
    def _from_mapping(cls, data: dict[str, Any], where: str, required: frozenset[str] | None = None) -> Rules:
        severity: dict[str, dict[str, str]] = {}
        sources: dict[str, str] = {}
        for kind, entry in data.get("severity", {}).items():
            if kind not in EVENT_KINDS:
                raise DataFileError(where, f"[severity] {kind}: unknown event kind")
            levels = {k: v for k, v in entry.items() if k != "source"}
            for level, sev in levels.items():
                if sev not in SEVERITIES:
                    raise DataFileError(where, f"[severity] {kind}.{level}: {sev!r} is not one of {SEVERITIES}")
            if "fail" not in levels:
                raise DataFileError(where, f"[severity] {kind}: needs a 'fail' severity")
            severity[kind] = levels
            sources[kind] = str(entry.get("source", ""))
        missing = [k for k in EVENT_KINDS if k not in severity]
        if missing:
            raise DataFileError(where, f"[severity] missing event kinds: {', '.join(missing)}")
        thresholds = _thresholds(data.get("thresholds", {}), where, sources, required)
        unsafe_from = data.get("meta", {}).get("unsafe_from", "serious_incident")
        if unsafe_from not in SEVERITIES:
            raise DataFileError(where, f"[meta] unsafe_from: {unsafe_from!r} is not a severity")
        return cls(severity, thresholds, sources, unsafe_from, where)

    def severity_of(self, kind: str, level: str = "fail") -> str:
        """Severity of an event kind at a detector level; an unknown level falls back to 'fail' (never milder)."""
        try:
            levels = self.severity[kind]
        except KeyError as exc:
            raise KeyError(f"event kind {kind!r} is not in the rules table {self.path}") from exc
        return levels.get(level, levels["fail"])

    def threshold(self, name: str) -> float:
        try:
            return self.thresholds[name]
        except KeyError as exc:
            raise KeyError(f"threshold {name!r} is not in the rules table {self.path}") from exc

    def is_unsafe(self, severity: str) -> bool:
        return SEVERITY_RANK[severity] >= SEVERITY_RANK[self.unsafe_from]

    def make_event(self, kind: str, t_s: float, level: str = "fail", **fields: Any) -> Event:
        """An event whose severity comes from this table."""
        return Event(kind=kind, severity=self.severity_of(kind, level), t_s=float(t_s), level=level, **fields)


@cache
def default_rules() -> Rules:
    """The packaged rules table (cached; Rules is immutable)."""
    return Rules.load(None)


def _thresholds(table: Any, where: str, sources: dict[str, str], required: frozenset[str] | None) -> dict[str, float]:
    """The [thresholds] table, checked whole: every entry the packaged table has, no unknown (mistyped) name,
    each a finite number. ``sources`` gains each entry's source."""
    if not isinstance(table, dict):
        raise DataFileError(where, "[thresholds] must be a table")
    thresholds: dict[str, float] = {}
    for name, entry in table.items():
        value = entry.get("value") if isinstance(entry, dict) else None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise DataFileError(where, f"[thresholds] {name}: needs a finite numeric 'value', got {value!r}")
        thresholds[name] = float(value)
        sources[name] = str(entry.get("source", ""))
    if required is not None:  # None for the packaged table itself
        missing = sorted(required - thresholds.keys())
        if missing:
            raise DataFileError(where, f"[thresholds] missing entries: {', '.join(missing)}")
        unknown = sorted(thresholds.keys() - required)
        if unknown:
            raise DataFileError(where, f"[thresholds] unknown entries (mistyped?): {', '.join(unknown)}")
    return thresholds

