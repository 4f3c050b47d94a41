"""Helpers shared by the command modules: JSON output, coordinate parsing, progress bars."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
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


def statistics_options(fn: Callable) -> Callable:
    """The options that ``stats`` and ``report`` share, so that both compute the same headline."""
    from uavsim.cli.options import db_option
    from uavsim.safety import stats as api

    options = [
        db_option,
        click.option("--confidence", type=click.FloatRange(0.5, 1.0, max_open=True), default=api.DEFAULT_CONFIDENCE,
                     show_default=True, help="One-sided confidence of the lower bound."),
        click.option("--target", type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
                     default=api.DEFAULT_TARGET, show_default=True, help="Safe-rate target to show."),
        click.option("--cluster", type=click.Choice(api.CLUSTERS), default="day", show_default=True,
                     help="Cluster of the bootstrap interval."),
        click.option("--seed", type=int, default=0, show_default=True, help="Seed of the cluster bootstrap."),
        click.option("--utc-offset", "utc_offset_h", type=click.FloatRange(-12, 14), default=api.LOCAL_UTC_OFFSET_H,
                     show_default=True, help="Local time zone in hours from UTC, for days (clusters) and months."),
        click.option("--source", type=click.Choice(["sim", "log"]), default=None,
                     help="Only simulated (sim) or only flown (log) flights; default: all."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn
