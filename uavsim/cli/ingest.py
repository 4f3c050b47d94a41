"""``uavsim ingest``: import flight logs (files or folders) into the flight store."""

from __future__ import annotations

from pathlib import Path

import click

from uavsim.cli._common import echo_json, show_progress
from uavsim.errors import UavSimError


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--db", "db", default="uavsim.db", show_default=True, type=click.Path(dir_okay=False),
              help="Flight store (SQLite).")
@click.option("--scenario", "scenario", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Scenario folder whose zones are checked (default: missions/dienbien when present).")
@click.option("--dem", "dem", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="DEM file GDAL reads (default: the embedded synthetic terrain).")
@click.option("--no-terrain", is_flag=True, help="Skip terrain and zone checks.")
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Rules table TOML (default: the packaged one).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Parse files in this many processes.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def ingest(paths: tuple[Path, ...], db: str, scenario: Path | None, dem: Path | None, no_terrain: bool,
           rules_path: Path | None, workers: int, as_json: bool) -> None:
    """Import .tlog, .bin/.BIN, .log and .ulg flight logs (folders are searched recursively).

    Each file is one transaction; a file already imported is a duplicate and changes nothing. Exits 1
    when any file was rejected.
    """
    from uavsim.logs import find_logs
    from uavsim.logs import ingest as api
    from uavsim.store import Store

    if not no_terrain:
        try:
            import uavsim.airspace  # noqa: F401
            import uavsim.terrain  # noqa: F401
            from uavsim.scenario import DEFAULT_SCENARIO
        except ImportError as exc:  # pragma: no cover - only while the terrain engine is missing
            raise UavSimError(f"terrain/zone checks are not available in this build ({exc}); use --no-terrain") from exc
        if scenario is None and DEFAULT_SCENARIO.is_dir():
            scenario = DEFAULT_SCENARIO
    n_files = len(find_logs(paths))
    bar = None
    if show_progress() and not as_json and n_files > 1:
        from tqdm import tqdm
        bar = tqdm(total=n_files, unit="file", desc="ingest", leave=False)

    def tick(_res: object) -> None:
        if bar is not None:
            bar.update(1)

    with Store(db) as store:
        results = api(paths, store, dem=str(dem) if dem else None,
                      scenario=None if no_terrain or scenario is None else str(scenario),
                      rules_path=str(rules_path) if rules_path else None, use_terrain=not no_terrain,
                      workers=workers, progress=tick)
    if bar is not None:
        bar.close()
    rejected = [r for r in results if r.status == "rejected"]
    from uavsim.terrain import open_dem
    dem_doc = None if no_terrain else open_dem(dem).summary()  # the DEM the workers opened, named in the output
    if as_json:
        echo_json({"files": [r.to_dict() for r in results], "dem": dem_doc})
    else:
        click.echo(f"DEM {dem_doc['label'] if dem_doc else 'none (--no-terrain)'}")
        for r in results:
            if r.status == "rejected":
                click.echo(f"rejected   {r.error if (r.error or '').startswith(r.path) else f'{r.path}: {r.error}'}",
                           err=True)
                continue
            unsafe = sum(f.outcome == "unsafe" for f in r.flights)
            what = f"{len(r.flights)} flights, {unsafe} unsafe" if r.status == "imported" else "already in the store"
            click.echo(f"{r.status:<10} {r.path} ({what})")
        n_imp = sum(r.status == "imported" for r in results)
        n_dup = sum(r.status == "duplicate" for r in results)
        click.echo(f"{n_imp} imported, {n_dup} duplicate, {len(rejected)} rejected -> {db}")
    if rejected:
        if not as_json:
            click.echo(f"Error: {len(rejected)} file(s) rejected", err=True)
        raise SystemExit(1)
