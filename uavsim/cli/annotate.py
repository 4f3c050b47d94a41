"""``uavsim annotate``: correct the context of stored flights from a manifest, without reading the logs again."""

from __future__ import annotations

from pathlib import Path

import click

from uavsim.cli._common import echo_json
from uavsim.cli.options import (
    db_option,
    dem_option,
    json_option,
    manifest_option,
    scenario_option,
    who_option,
)


@click.command()
@manifest_option
@db_option
@scenario_option
@dem_option
@who_option
@json_option
def annotate(manifest_path: Path | None, db: str, scenario: Path | None, dem: str | None, who: str | None,
             as_json: bool) -> None:
    """Apply a flight sheet to flights already in the store: site, mission type, aircraft, pilot and plan.

    Every changed field is kept with who and when; the same sheet twice changes nothing.
    """
    from uavsim import context
    from uavsim.scenario import DEFAULT_SCENARIO
    from uavsim.store import Store

    if manifest_path is None:
        raise click.UsageError("--manifest FILE.csv is required")
    if scenario is None and DEFAULT_SCENARIO.is_dir():
        scenario = DEFAULT_SCENARIO
    with Store.existing(db) as store:
        manifest = context.manifest_for_store(manifest_path, store, scenario)
        res = context.record_manifest(store, manifest, scenario, who, dem=dem)
    if as_json:
        echo_json(res.to_dict())
        return
    if not res.new_manifest:
        click.echo(f"{manifest_path}: already applied (same content); nothing changed")
        return
    for c in res.changed:
        click.echo(f"corrected  {c['flight']}: {', '.join(c['fields'])}")
    click.echo(f"{len(res.changed)} of {res.flights} flights corrected -> {db}")
