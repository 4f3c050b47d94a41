"""``uavsim review`` and ``uavsim reviews``: an analyst's sign-off beside the automatic verdict."""

from __future__ import annotations

import click

from uavsim.cli._common import echo_json
from uavsim.cli.options import db_option, json_option
from uavsim.records import OUTCOMES, SEVERITIES


@click.command()
@click.argument("flight_id")
@click.option("--severity", type=click.Choice(SEVERITIES), required=True, help="The reviewed severity.")
@click.option("--outcome", type=click.Choice(OUTCOMES), default=None,
              help="The reviewed outcome (default: unsafe from serious_incident up, by the rules table).")
@click.option("--reason", required=True, help="Why: what the reviewer saw.")
@click.option("--reviewer", required=True, help="Who signs the review.")
@db_option
@json_option
def review(flight_id: str, severity: str, outcome: str | None, reason: str, reviewer: str, db: str,
           as_json: bool) -> None:
    """Review FLIGHT_ID's verdict; the automatic verdict is kept, the latest review is shown."""
    from uavsim.store import Store
    from uavsim.web.reviews import record_review

    with Store.existing(db) as store:
        row = record_review(store, flight_id, severity, reason, reviewer, outcome)
    if as_json:
        echo_json(row)
        return
    click.echo(f"{flight_id}: {row['automatic_severity']}/{row['automatic_outcome']} (automatic) -> "
               f"{row['severity']}/{row['outcome']} by {row['reviewer']} at {row['at_utc']}")


@click.command()
@db_option
@json_option
def reviews(db: str, as_json: bool) -> None:
    """Every review, oldest first, with the automatic verdict it stands beside."""
    from uavsim.store import Store

    with Store.existing(db) as store:
        rows = store.reviews()
    if as_json:
        echo_json({"reviews": rows})
        return
    for r in rows:
        click.echo(f"{r['at_utc']}  {r['flight_id']}  {r['automatic_severity']}/{r['automatic_outcome']} -> "
                   f"{r['severity']}/{r['outcome']}  by {r['reviewer']}: {r['reason']}")
    click.echo(f"{len(rows)} reviews")
