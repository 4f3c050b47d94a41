"""``uavsim ingest``: import flight logs (files or folders) into the flight store."""

from __future__ import annotations

from pathlib import Path

import click

from uavsim.cli._common import echo_json, show_progress
from uavsim.cli.options import (
    db_option,
    dem_option,
    json_option,
    manifest_option,
    rules_option,
    scenario_option,
    who_option,
    workers_option,
)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@db_option
@scenario_option
@dem_option
@click.option("--no-terrain", is_flag=True, help="Skip terrain and zone checks.")
@rules_option
@workers_option
@click.option("--max-file-memory", "memory_mib", type=click.FloatRange(min=16), default=None,
              help="MiB of memory reading one file may take; past it that file is rejected "
                   "(default: the rules' ingest_file_memory_mib).")
@click.option("--max-file-seconds", "seconds", type=click.FloatRange(min=1), default=None,
              help="Seconds reading one file may take; past it that file is rejected "
                   "(default: the rules' ingest_file_seconds).")
@manifest_option
@who_option
@json_option
def ingest(paths: tuple[Path, ...], db: str, scenario: Path | None, dem: str | None, no_terrain: bool,
           rules_path: Path | None, workers: int, memory_mib: float | None, seconds: float | None,
           manifest_path: Path | None, who: str | None, as_json: bool) -> None:
    """Import .tlog, .bin/.BIN, .log and .ulg flight logs (folders are searched recursively).

    Each file is one transaction; a file already imported is a duplicate and changes nothing. Exits 1
    when any file was rejected.
    """
    from uavsim import context
    from uavsim.logs import find_logs
    from uavsim.logs import ingest as api
    from uavsim.scenario import DEFAULT_SCENARIO
    from uavsim.store import Store

    if not no_terrain and scenario is None and DEFAULT_SCENARIO.is_dir():
        scenario = DEFAULT_SCENARIO
    manifest = context.manifest_for_logs(manifest_path, paths, scenario) if manifest_path else None  # issue 14
    n_files = len(find_logs(paths))
    bar = None
    if show_progress() and not as_json and n_files > 1:
        from tqdm import tqdm
        bar = tqdm(total=n_files, unit="file", desc="ingest", leave=False)

    def tick(_res: object) -> None:
        if bar is not None:
            bar.update(1)

    with Store(db) as store:  # a store that cannot be written fails here, before any file is read
        results = api(paths, store, dem=str(dem) if dem else None,
                      scenario=None if no_terrain or scenario is None else str(scenario),
                      rules_path=str(rules_path) if rules_path else None, use_terrain=not no_terrain,
                      workers=workers, progress=tick, memory_mib=memory_mib, seconds=seconds,
                      manifest=manifest)
        if manifest is not None:  # issue 14: keep the sheet; correct flights of files already in the store
            context.record_manifest(store, manifest, scenario, who, [r.sha256 for r in results if r.status == "imported"],
                                    dem=str(dem) if dem else None)
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
                why = r.error if (r.error or "").startswith(r.path) or r.path in (r.error or "") else f"{r.path}: {r.error}"
                click.echo(f"rejected   {shown(why)}", err=True)
                continue
            unsafe = sum(f.outcome == "unsafe" for f in r.flights)
            what = f"{len(r.flights)} flights, {unsafe} unsafe" + (
                f", {len(r.ground_runs)} ground runs" if r.ground_runs else "") if r.status == "imported" else "already in the store"
            click.echo(f"{r.status:<10} {shown(r.path)} ({what})")
        n_imp = sum(r.status == "imported" for r in results)
        n_dup = sum(r.status == "duplicate" for r in results)
        click.echo(f"{n_imp} imported, {n_dup} duplicate, {len(rejected)} rejected -> {shown(db)}")
    if rejected:
        if not as_json:
            click.echo(f"Error: {len(rejected)} file(s) rejected", err=True)
        raise SystemExit(1)


def shown(text: str) -> str:
    """Text as one safe line: a newline, tab or other control character in a file name is shown escaped."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(text))
