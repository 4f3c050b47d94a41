"""`uavsim demo`: the whole job on the embedded default terrain and the Điện Biên scenario."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-out"),
              show_default=True, help="Folder for the store, logs and reports.")
@click.option("--seed", type=int, default=None, help="Campaign seed (default: the scenario's).")
def demo(out: Path, seed: int | None) -> None:
    """Plan the medical network and the fields, simulate a sandbox year, write and ingest sample logs, and
    write the safety report in Vietnamese and English."""
    from uavsim.demo import run_demo

    run_demo(out, seed=seed, echo=click.echo)
