"""``uavsim flights``: list the flights in the store."""

from __future__ import annotations

import click

from uavsim.cli._common import echo_json
from uavsim.cli.options import db_option, json_option


@click.command()
@db_option
@click.option("--source", type=click.Choice(["sim", "log"]), default=None, help="Only flights of this source.")
@json_option
def flights(db: str, source: str | None, as_json: bool) -> None:
    """Flights with their verdict, in start-time order."""
    from uavsim.store import Store

    with Store.existing(db) as store:
        rows = store.flights(source=source)
    if as_json:
        echo_json({"flights": [f.to_dict() for f in rows]})
        return
    w = max([20, *(len(f.id) for f in rows)])  # ids are never cut: they are what a review names
    click.echo(f"{'id':<{w}} {'start (UTC)':<23} {'min':>6} {'km':>6} {'severity':<16} {'outcome':<7} "
               f"{'events':>6}  worst event")
    for f in rows:
        worst = max(f.events, key=lambda e: (_rank(e.severity), -e.t_s), default=None)
        same = f" [same flight as {f.extra['same_flight_as']}]" if f.extra.get("same_flight_as") else ""
        click.echo(f"{f.id:<{w}} {(f.start_utc or '-')[:23]:<23} {f.duration_s / 60:>6.1f} "
                   f"{f.distance_m / 1000:>6.2f} {f.severity:<16} {f.outcome:<7} {len(f.events):>6}  "
                   f"{worst.kind + ': ' + worst.detail[:60] if worst else ''}{same}")
    twice = sum(bool(f.extra.get("same_flight_as")) for f in rows)
    note = f"; {twice} of them: a second log of a flight already in the store" if twice else ""
    click.echo(f"{len(rows)} flights, {sum(f.outcome == 'unsafe' for f in rows)} unsafe{note}")


def _rank(severity: str) -> int:
    from uavsim.records import SEVERITY_RANK

    return SEVERITY_RANK.get(severity, 0)
