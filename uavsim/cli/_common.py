"""Helpers shared by the command modules: JSON output, coordinate parsing, progress bars."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from uavsim.records import _jsonable


def echo_json(doc: Any) -> None:
    """One JSON document on stdout and nothing else (NaN becomes null)."""
    click.echo(json.dumps(_jsonable(doc), ensure_ascii=False, indent=2, allow_nan=False))


def parse_latlon(text: str, what: str = "coordinate") -> tuple[float, float]:
    """'LAT,LON' in decimal degrees -> (lat, lon); a bad value is a usage error (exit 2)."""
    try:
        lat_s, lon_s = text.split(",")
        lat, lon = float(lat_s), float(lon_s)
    except ValueError as exc:
        raise click.BadParameter(f"{what} must be LAT,LON in decimal degrees, got {text!r}") from exc
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise click.BadParameter(f"{what} {text!r} is not a valid latitude,longitude")
    return lat, lon


def show_progress() -> bool:
    """Progress bars only on a terminal; quiet when piped."""
    return sys.stderr.isatty()
