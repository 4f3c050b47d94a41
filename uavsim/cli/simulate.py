"""``uavsim simulate``: replay the campaign year, once or as Monte Carlo replications."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from uavsim.cli._common import echo_json, show_progress
from uavsim.cli.options import dem_option, json_option, scenario_option, workers_option


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100.0 * x:.2f} %"


@click.command()
@scenario_option
@dem_option
@click.option("--seed", type=int, default=None, help="Seed, >= 0 (default: the campaign's).")
@click.option("--replications", type=int, default=1, show_default=True,
              help="Monte Carlo replications (child seeds of --seed), 1 to 100,000.")
@workers_option
@click.option("--db", "db", default="uavsim.db", show_default=True, type=click.Path(dir_okay=False),
              help="Flight store; the run (with replications, replication 0) is stored as one run.")
@click.option("--no-store", is_flag=True, help="Do not write the flights to the store.")
@click.option("--days", type=click.IntRange(1), default=None, help="Simulate only the first N days.")
@click.option("--write-logs", "write_logs", default=None, type=click.Path(file_okay=False),
              help="Write each simulated flight as a MAVLink .tlog into this folder.")
@click.option("--max-logs", type=click.IntRange(0), default=None, help="Write only the first N logs.")
@click.option("--hazard-scale", type=float, default=1.0, show_default=True,
              help="Multiply every failure rate of campaign.toml (sensitivity); finite, >= 0.")
@click.option("--calibration", "calibration", default=None, type=click.Path(dir_okay=False, exists=True),
              help="Calibration overlay (uavsim calibrate --out): its fitted rates replace campaign.toml's.")
@json_option
def simulate(scenario: Path | None, dem: str | None, seed: int | None, replications: int, workers: int, db: str,
             no_store: bool, days: int | None, write_logs: str | None, max_logs: int | None, hazard_scale: float,
             calibration: str | None, as_json: bool) -> None:
    """Simulate the campaign: flights, unsafe flights, the safe rate and its lower bound.

    With --replications, the top-level figures are medians over the replications, with the quantiles of
    the safe rate and of its lower bound, and p_meets_target: the share of replications whose lower bound
    reaches the target.
    """
    from uavsim.sim.simulation import check_arguments
    from uavsim.sim.simulation import simulate as run

    check_arguments(seed, replications, workers, hazard_scale)  # before any planning or store is touched
    bar = None
    if replications > 1 and show_progress() and not as_json:
        from tqdm import tqdm

        bar = tqdm(total=replications, unit="rep", file=click.get_text_stream("stderr"))
    kwargs: dict[str, Any] = dict(seed=seed, replications=replications, workers=workers, days=days,
                                  hazard_scale=hazard_scale, keep_flights=not no_store, write_logs=write_logs,
                                  max_logs=max_logs, progress=bar.update if bar else None, calibration=calibration)
    if no_store:
        doc = run(scenario, dem, **kwargs).doc
    else:
        from uavsim.store import Store

        with Store(db) as store:
            doc = run(scenario, dem, store=store, **kwargs).doc
        doc["db"] = db
    if bar:
        bar.close()
    if as_json:
        echo_json(doc)
        return
    _echo_text(doc, replications)


def _echo_text(doc: dict[str, Any], replications: int) -> None:
    click.echo(f"DEM {doc['dem']['label']}")
    if replications == 1:
        click.echo(f"run {doc['run_id']}: {doc['flights']} flights ({doc['flight_hours']:.0f} h), {doc['unsafe']} unsafe: "
                   f"safe rate {_pct(doc['safety_rate'])}, {doc['confidence']:.0%} lower bound "
                   f"{_pct(doc['lower_bound'])} ({'meets' if doc['meets_target'] else 'does not meet'} "
                   f"the {doc['target']:.0%} target)")
        click.echo("flights by type: " + ", ".join(f"{k} {v}" for k, v in doc["flights_by_type"].items()))
        g = doc["weather_groundings"]
        click.echo(f"weather delays: wind {g['wind']}, heavy rain {g['heavy_rain']}, fog {g['fog']}")
        w = doc["medical_wait_min"]
        if w["n"]:
            click.echo(f"medical requests: {w['n']} flown, wait median {w['median']:.0f} min, p95 {w['p95']:.0f} min")
        if doc["rejected"]:
            click.echo("rejected by the planner: " + ", ".join(f"{k} {v}" for k, v in doc["rejected"].items()))
    else:
        q = doc["safety_rate_quantiles"]
        lq = doc["lower_bound_quantiles"]
        click.echo(f"{doc['replications']} replications: median {doc['flights']:.0f} flights, {doc['unsafe']:.0f} unsafe")
        click.echo(f"safe rate p05 {_pct(q['p05'])}  p50 {_pct(q['p50'])}  p95 {_pct(q['p95'])}")
        click.echo(f"lower bound p05 {_pct(lq['p05'])}  p50 {_pct(lq['p50'])}  p95 {_pct(lq['p95'])}")
        click.echo(f"P(lower bound >= {doc['target']:.0%}) = {doc['p_meets_target']:.3f}")
    if "db" in doc:
        click.echo(f"stored in {doc['db']}")
    if "logs_written" in doc:
        click.echo(f"{doc['logs_written']} .tlog files in {doc['logs_dir']}")
