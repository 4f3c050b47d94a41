"""One definition per command-line option that several commands share (issue 9).

Each is a decorator; the parameter names are fixed (``dem``, ``scenario``, ``db``, ``as_json``, ``aircraft_id``,
``workers``, ``rules_path``) so that every command reads its options the same way. ``--dem`` is passed to the
library as the user wrote it: the terrain package decides what it names (a file, or the embedded default).
"""

from __future__ import annotations

from pathlib import Path

import click

dem_option = click.option(
    "--dem", "dem", default=None, metavar="DEM",
    help="Terrain: a DEM file GDAL reads (GeoTIFF, SRTM .hgt, any CRS), an http(s) URL of a GeoTIFF/COG, or "
         "'synthetic'; default: the terrain fetched with 'uavsim terrain fetch' if cached, else the embedded one.")

scenario_option = click.option(
    "--scenario", "scenario", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Scenario folder (sites, zones, fields, routes, aircraft, campaign); default: missions/dienbien.")

db_option = click.option(
    "--db", "db", default="uavsim.db", show_default=True, type=click.Path(dir_okay=False),
    help="Flight store (SQLite).")

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document and nothing else.")

aircraft_option = click.option("--aircraft", "aircraft_id", default=None,
                               help="Aircraft class id from the scenario's aircraft.toml.")

workers_option = click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
                              help="Worker processes.")

rules_option = click.option("--rules", "rules_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                            help="Rules table (TOML); default: the packaged uavsim/safety/rules.toml.")

# issue 14: the operator's flight sheet, and who applies it (kept with every correction, like a review)
manifest_option = click.option(
    "--manifest", "manifest_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Flight sheet (UTF-8 CSV): log, aircraft_id, mission_type, site, pilot, permit, plan, date, notes.")

who_option = click.option("--who", "who", default=None,
                          help="Who applies the manifest (kept with each correction); default: the login name.")
