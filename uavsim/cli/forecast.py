"""``uavsim forecast``: the flown record as fact, the rest of the campaign simulated with calibrated rates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from uavsim.cli._common import echo_json
from uavsim.scenario import DEFAULT_SCENARIO


def _pct(x: float) -> str:
    return f"{100.0 * x:.2f} %"


@click.command()
@click.option("--db", "db", default="uavsim.db", show_default=True, type=click.Path(dir_okay=False),
              help="Flight store (SQLite) holding the flights flown so far.")
@click.option("--scenario", "scenario", default=str(DEFAULT_SCENARIO), show_default="missions/dienbien",
              type=click.Path(file_okay=False), help="Scenario folder (with campaign.toml).")
@click.option("--dem", "dem", default=None, type=click.Path(dir_okay=False), help="DEM file (default: embedded).")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Flights up to this local date are fact (default: the store's last flight date).")
@click.option("--source", type=click.Choice(["log", "sim"]), default="log", show_default=True,
              help="Which recorded flights are the flown record.")
@click.option("--replications", type=click.IntRange(1), default=1000, show_default=True,
              help="Replications of the remaining days (each with rates drawn from their posterior).")
@click.option("--exposure-runs", type=click.IntRange(1), default=None,
              help="Engine runs of the remaining days the replications share (default 40).")
@click.option("--workers", type=click.IntRange(1), default=1, show_default=True, help="Worker processes.")
@click.option("--seed", type=int, default=None, help="Seed (default: the campaign's).")
@click.option("--calibration", "calibration", default=None, type=click.Path(dir_okay=False, exists=True),
              help="A calibration overlay (uavsim calibrate --out); default: fit the flown flights here.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def forecast(db: str, scenario: str, dem: str | None, as_of: datetime | None, source: str, replications: int,
             exposure_runs: int | None, workers: int, seed: int | None, calibration: str | None, as_json: bool) -> None:
    """Will the campaign end above its target, and what would stop it?"""
    from uavsim.sim.forecast import forecast_store

    doc = forecast_store(db, scenario, source, dem, as_of=as_of.date() if as_of else None, replications=replications,
                         workers=workers, seed=seed, calibration=calibration, exposure_runs=exposure_runs)
    if as_json:
        echo_json(doc)
        return
    _echo_text(doc)


def _echo_text(doc: dict[str, Any]) -> None:
    f = doc["flown"]
    click.echo(f"as of {doc['as_of']}: {f['flights']} flights flown, {f['unsafe']} unsafe, lower bound {_pct(f['lower_bound'])}")
    click.echo(f"remaining: {doc['remaining_days']} days, about {doc['expected_remaining_flights']:.0f} flights")
    q = doc["final_lower_bound_quantiles"]
    click.echo(f"final lower bound p5 {_pct(q['p5'])}  p50 {_pct(q['p50'])}  p95 {_pct(q['p95'])}")
    click.echo(f"P(final lower bound > {doc['target']:.0%}) = {doc['p_meets_target']:.3f} "
               f"over {doc['replications']} replications")
    b = doc["unsafe_budget"]
    click.echo(f"unsafe budget for the rest of the campaign: {b} flights" if b >= 0 else
               "the target can no longer be shown by the campaign's end")
    for d in doc["drivers"]["hazards"][:5]:
        click.echo(f"  driver: {d['hazard']} -> {d['contingency']}: {d['unsafe_per_replication']:.2f} unsafe "
                   f"per replication ({100 * d['share']:.0f} %)")
    for s in doc.get("link_loss_sensitivity", []):
        click.echo(f"  link loss lands in place {100 * s['land_share']:.0f} %: P = {s['p_meets_target']:.3f}, "
                   f"{s['final_unsafe_mean']:.1f} unsafe at the end")
