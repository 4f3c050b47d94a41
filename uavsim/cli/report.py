"""``uavsim report``: the analyst's report (HTML and PDF, Vietnamese and English) from a flight store."""

from __future__ import annotations

from pathlib import Path

import click

from uavsim.cli._common import echo_json, statistics_options
from uavsim.cli.options import dem_option, json_option, scenario_option
from uavsim.errors import InputError
from uavsim.report import DEFAULT_FORMATS, FORMATS, build_report, split_choices
from uavsim.report.i18n import LANGS


def _choices(allowed: tuple[str, ...], default: tuple[str, ...] | None = None):
    def check(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> list[str]:
        try:
            return split_choices(value, allowed, f"--{param.name}", default)
        except InputError as exc:
            raise click.BadParameter(str(exc)) from exc

    return check


@click.command()
@statistics_options
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--lang", "langs", multiple=True, default=("vi,en",), show_default=True,
              callback=_choices(LANGS), help="vi, en, or both (comma-separated or repeated).")
@click.option("--format", "formats", multiple=True, default=(",".join(DEFAULT_FORMATS),), show_default=True,
              callback=_choices(FORMATS, DEFAULT_FORMATS),
              help="html, pdf and/or png (each figure as a file in OUT/figures); comma-separated or repeated.")
@dem_option
@scenario_option
@click.option("--max-tracks", type=click.IntRange(1), default=None, help="Draw at most this many tracks.")
@click.option("--dpi", type=click.IntRange(50, 300), default=100, show_default=True,
              help="Resolution of the figures embedded in the HTML.")
@click.option("--forecast", "forecast", default=None, type=click.Path(dir_okay=False, exists=True),
              help="A `uavsim forecast --json` file: adds the forecast section (fan chart).")
@json_option
def report(db: str, out: str, langs: list[str], formats: list[str], confidence: float, target: float,
           cluster: str, seed: int, dem: str | None, scenario: Path | None, max_tracks: int | None, dpi: int,
           utc_offset_h: float, source: str | None, forecast: str | None, as_json: bool) -> None:
    """Write the safety report (figures, breakdowns, unsafe flights with evidence) into OUT."""
    result = build_report(db, out, langs, formats, confidence=confidence, target=target, cluster=cluster,
                          seed=seed, dem=dem, scenario=scenario, max_tracks=max_tracks, dpi=dpi,
                          utc_offset_h=utc_offset_h, source=source, forecast=forecast)
    if as_json:
        echo_json(result)
        return
    click.echo(f"{result['flights']} flights, safe rate {100 * result['safety_rate']:.2f} %, "
               f"lower bound {100 * result['lower_bound']:.2f} % ({result['timings']['total_s']:.1f} s)")
    for path in result["files"]:
        click.echo(path)
