"""``uavsim simulate``: replay the campaign year, once or as Monte Carlo replications."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click

from uavsim.cli._common import echo_json, show_progress
from uavsim.scenario import DEFAULT_SCENARIO


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100.0 * x:.2f} %"


@click.command()
@click.option("--scenario", "scenario", default=str(DEFAULT_SCENARIO), show_default="missions/dienbien",
              type=click.Path(file_okay=False), help="Scenario folder (with campaign.toml).")
@click.option("--dem", "dem", default=None, type=click.Path(dir_okay=False), help="DEM file (default: embedded).")
@click.option("--seed", type=int, default=None, help="Seed (default: the campaign's).")
@click.option("--replications", type=click.IntRange(1), default=1, show_default=True,
              help="Monte Carlo replications (child seeds of --seed).")
@click.option("--workers", type=click.IntRange(1), default=1, show_default=True, help="Worker processes.")
@click.option("--db", "db", default="uavsim.db", show_default=True, type=click.Path(dir_okay=False),
              help="Flight store; the run (with replications, replication 0) is stored as one run.")
@click.option("--no-store", is_flag=True, help="Do not write the flights to the store.")
@click.option("--days", type=click.IntRange(1), default=None, help="Simulate only the first N days.")
@click.option("--write-logs", "write_logs", default=None, type=click.Path(file_okay=False),
              help="Write each simulated flight as a MAVLink .tlog into this folder.")
@click.option("--max-logs", type=click.IntRange(0), default=None, help="Write only the first N logs.")
@click.option("--hazard-scale", type=click.FloatRange(0.0), default=1.0, show_default=True,
              help="Multiply every failure rate of campaign.toml (sensitivity).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def simulate(scenario: str, dem: str | None, seed: int | None, replications: int, workers: int, db: str,
             no_store: bool, days: int | None, write_logs: str | None, max_logs: int | None, hazard_scale: float,
             as_json: bool) -> None:
    """Simulate the campaign: flights, unsafe flights, the safe rate and its lower bound.

    With --replications, the top-level figures are medians over the replications, with the quantiles of
    the safe rate and of its lower bound, and p_meets_target: the share of replications whose lower bound
    reaches the target.
    """
    from uavsim.sim.campaign import prepared, run_prepared

    prep = prepared(Path(scenario), dem)
    if hazard_scale != 1.0:
        prep = dataclasses.replace(prep, campaign=prep.campaign.with_hazard_scale(hazard_scale))
    doc: dict[str, Any]
    if replications == 1:
        res = run_prepared(prep, seed, None, days)
        doc, flights, run = dict(res.summary), res.flights, res
    else:
        from uavsim.sim.replicate import replicate

        keep = not no_store or write_logs is not None
        bar = None
        if show_progress() and not as_json:
            from tqdm import tqdm

            bar = tqdm(total=replications, unit="rep", file=click.get_text_stream("stderr"))
        reps = replicate(prep, replications, workers, seed, days, keep_first=keep,
                         progress=bar.update if bar else None)
        if bar:
            bar.close()
        doc = reps.summary()
        run = reps.first
        flights = run.flights if run else []
        if run:
            doc["run_id"] = run.run_id
    doc["hazard_scale"] = hazard_scale
    doc["dem"] = prep.terrain.summary()
    if not no_store and run is not None:
        from uavsim.store import Store

        with Store(db) as store:
            store.add_run(run.run_id, flights, scenario=str(prep.scenario.root), seed=run.seed, summary=run.summary)
        doc["db"] = db
    if write_logs is not None:
        from uavsim.sim.tlog_writer import write_logs as write

        paths = write(flights, write_logs, max_logs, run.dense_telemetry if run is not None and run.logs else None)
        doc["logs_written"] = len(paths)
        doc["logs_dir"] = write_logs
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
