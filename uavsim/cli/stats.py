"""``uavsim stats``: the safe rate against the target, overall and by stratum."""

from __future__ import annotations

import click

from uavsim.cli._common import echo_json, statistics_options
from uavsim.cli.options import json_option
from uavsim.safety import stats as api


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100.0 * x:.2f} %"


@click.command()
@statistics_options
@click.option("--by", "by", type=click.Choice(list(api.STRATA)), default=None, help="Break down by this stratum.")
@json_option
def stats(db: str, by: str | None, confidence: float, target: float, cluster: str, seed: int,
          utc_offset_h: float, source: str | None,
          as_json: bool) -> None:
    """Safe rate, its one-sided Clopper-Pearson lower bound, and breakdowns."""
    summary = api.summarize(api.load_flights(db, source=source), by=by, confidence=confidence, target=target,
                            cluster=cluster, seed=seed, utc_offset_h=utc_offset_h)
    if as_json:
        echo_json(summary.to_dict())
        return
    o = summary.overall
    verdict = "meets" if o.meets_target else "does not yet meet"
    click.echo(f"{o.flights} flights, {o.unsafe} unsafe: safe rate {_pct(o.safety_rate)}, "
               f"{confidence:.0%} lower bound {_pct(o.lower_bound)} -> {verdict} the {target:.1%} target")
    if o.clustered:
        lo, hi = o.clustered["interval"]
        click.echo(f"clustered by {cluster} ({o.clustered['clusters']} clusters): {_pct(lo)} .. {_pct(hi)}")
    if o.flights_needed:
        click.echo(f"at the current rate, {o.flights_needed} more flights would show the target")
    elif o.flights_needed is None:
        click.echo("at the current rate, no number of flights shows the target")
    if o.unsafe_per_1000_hours is not None:
        click.echo(f"{o.unsafe_per_1000_flights:.2f} unsafe per 1,000 flights, "
                   f"{o.unsafe_per_1000_hours:.2f} per 1,000 flight hours ({o.flight_hours:.1f} h)")
    if summary.by:
        click.echo(f"\n{by:<24} {'flights':>8} {'unsafe':>7} {'rate':>9} {'lower':>9} {'Wilson':>19}  target")
        for g in summary.by:
            w = f"{100 * g.wilson[0]:.2f}-{100 * g.wilson[1]:.2f} %"
            click.echo(f"{(g.group or '')[:24]:<24} {g.flights:>8} {g.unsafe:>7} {_pct(g.safety_rate):>9} "
                       f"{_pct(g.lower_bound):>9} {w:>19}  {'yes' if g.meets_target else 'no'}")
