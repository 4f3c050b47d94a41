"""Reading users' text and TOML files with errors that name the file, the entry and the field (one place)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from uavsim.errors import DataFileError, ScenarioError


def read_text(path: Path, error: type[DataFileError]) -> str:
    """The file's UTF-8 text; a missing or unreadable file raises ``error`` naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise error(path, "file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise error(path, f"cannot read ({exc})") from exc


def read_toml(path: Path) -> dict[str, Any]:
    text = read_text(path, ScenarioError)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(path, f"invalid TOML: {exc}") from exc


def need(entry: dict[str, Any], key: str, path: Path, where: str, kind: type | tuple[type, ...] = object) -> Any:
    """entry[key], checked for presence and type; errors name the file, the entry and the field."""
    if key not in entry:
        raise ScenarioError(path, f"{where}: missing field '{key}'")
    value = entry[key]
    if kind is float:
        kind = (int, float)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ScenarioError(path, f"{where}: field '{key}' has invalid value {value!r}")
    return value


def latlon(value: Any, path: Path, where: str) -> tuple[float, float]:
    if (not isinstance(value, list | tuple) or len(value) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)):
        raise ScenarioError(path, f"{where}: expected [lat, lon], got {value!r}")
    lat, lon = float(value[0]), float(value[1])
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ScenarioError(path, f"{where}: [lat, lon] out of range: {value!r}")
    return lat, lon


def ring(value: Any, path: Path, where: str) -> list[tuple[float, float]]:
    if not isinstance(value, list) or len(value) < 3:
        raise ScenarioError(path, f"{where}: a polygon needs at least 3 [lat, lon] vertices")
    return [latlon(v, path, f"{where}[{i}]") for i, v in enumerate(value)]
