"""``uavsim flight show``: one flight in the terminal, as JSON, or as a picture."""

from __future__ import annotations

from pathlib import Path

import click

from uavsim.cli._common import echo_json
from uavsim.cli.options import db_option, dem_option, json_option


@click.group()
def flight() -> None:
    """One flight of the store."""


@flight.command("show")
@click.argument("flight_id")
@db_option
@dem_option
@click.option("--no-terrain", is_flag=True, help="No terrain profile or hillshade.")
@json_option
@click.option("--plot", "plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also draw the flight into this PNG file.")
def show(flight_id: str, db: str, dem: str | None, no_terrain: bool, as_json: bool, plot: Path | None) -> None:
    """FLIGHT_ID's record, events with evidence, review history and the series the store holds."""
    from uavsim.errors import StoreError
    from uavsim.store import Store
    from uavsim.web.flight import flight_detail

    terrain = None
    if not no_terrain:
        from uavsim.terrain import open_dem

        terrain = open_dem(dem)
    with Store.existing(db) as store:
        d = flight_detail(store, flight_id, terrain)
    if d is None:
        raise StoreError(f"{db}: no flight {flight_id!r}")
    if plot is not None:
        from uavsim.web.picture import write_png

        write_png(d, plot)
    if as_json:
        keys = ("flight", "series", "extra_series", "messages", "recorded", "not_recorded", "automatic", "reviews", "log")
        echo_json({k: d[k] for k in keys})
        return
    _print(d, plot)


def _print(d: dict, plot: Path | None) -> None:
    f = d["flight"]
    click.echo(f"{f['id']}  {f['source']}  {f['mission_type']}  site {f['site'] or '-'}  aircraft {f['aircraft_id'] or '-'}")
    click.echo(f"start {f['start_utc'] or 'unknown'}  {f['duration_s'] / 60:.1f} min  {f['distance_m'] / 1000:.2f} km  "
               f"max AGL {_m(f['max_agl_m'])}  min clearance {_m(f['min_terrain_clearance_m'])}")
    auto = d["automatic"]
    click.echo(f"verdict {f['severity']}/{f['outcome']} (automatic {auto['severity']}/{auto['outcome']})")
    for e in f["events"]:
        click.echo(f"  t={e['t_s']:8.1f} s  {e['kind']:<22} {e['severity']:<16} {e['detail']}")
        if e["evidence"]:
            click.echo(f"{'':14}evidence: {e['evidence']}")
    for r in d["reviews"]:
        click.echo(f"review {r['at_utc']} {r['reviewer']}: {r['severity']}/{r['outcome']}: {r['reason']}")
    click.echo(f"recorded: {', '.join(k for k, v in d['recorded'].items() if v) or 'nothing'}; "
               f"not recorded: {', '.join(d['not_recorded']) or 'none'}")
    if plot is not None:
        click.echo(f"picture: {plot}")


def _m(x: float | None) -> str:
    return "unknown" if x is None else f"{x:.1f} m"
