"""``uavsim calibrate``: hazard rates from the recorded flights (Gamma–Poisson), as an overlay for simulate and forecast."""

from __future__ import annotations

from datetime import datetime

import click

from uavsim.cli._common import echo_json
from uavsim.scenario import DEFAULT_SCENARIO


@click.command()
@click.option("--db", "db", default="uavsim.db", show_default=True, type=click.Path(dir_okay=False),
              help="Flight store (SQLite).")
@click.option("--scenario", "scenario", default=str(DEFAULT_SCENARIO), show_default="missions/dienbien",
              type=click.Path(file_okay=False), help="Scenario folder whose campaign.toml rates are the prior.")
@click.option("--source", type=click.Choice(["log", "sim"]), default="log", show_default=True,
              help="Flown flights (log, the normal use) or simulated ones (sim: what-if and tests).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Only flights from this local date on (YYYY-MM-DD).")
@click.option("--prior-weight-h", "prior_weight_h", type=click.FloatRange(0.0, min_open=True), default=None,
              help="Flight hours the scenario's rates are worth as the prior (default: campaign.toml "
                   "[dynamics] rate_prior_fh, 1,000 h: about one sandbox year).")
@click.option("--out", "out", default="calibration.toml", show_default=True, type=click.Path(dir_okay=False),
              help="The calibration overlay to write (for simulate/forecast --calibration).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def calibrate(db: str, scenario: str, source: str, since: datetime | None, prior_weight_h: float | None, out: str,
              as_json: bool) -> None:
    """Posterior rate per hazard from the store's flights, with the scenario's rates as the prior."""
    from uavsim.sim import calibrate as api

    cal = api.calibrate_store(db, scenario, source, since.date() if since else None, prior_weight_h)
    path = api.write_overlay(cal, out)
    if as_json:
        echo_json({**cal.to_dict(), "out": str(path)})
        return
    click.echo(f"{cal.flights} {source} flights, {cal.flight_hours:.1f} flight hours; prior worth {cal.prior_weight_fh:g} h")
    click.echo(f"{'hazard':<12} {'events':>6} {'prior /1000 fh':>15} {'posterior':>10} {'90 % interval':>18}")
    for r in cal.rates:
        click.echo(f"{r.kind:<12} {r.events:>6} {1000 * r.prior_per_fh:>15.3f} {1000 * r.posterior_mean_per_fh:>10.3f} "
                   f"{1000 * r.lo:>8.3f}-{1000 * r.hi:<9.3f}")
    for cls, (n, hours, fits) in sorted(cal.by_class.items()):
        ev = ", ".join(f"{r.kind} {r.events}" for r in fits if r.events) or "no failures"
        click.echo(f"  {cls}: {n} flights, {hours:.1f} h: {ev}")
    if cal.unmapped:
        click.echo("events with no hazard (outcomes, rule breaches): " +
                   ", ".join(f"{k} {v}" for k, v in sorted(cal.unmapped.items())))
    click.echo(f"overlay written to {path}")
