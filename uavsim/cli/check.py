"""`uavsim check MISSION_FILE`: pre-flight check of a QGC .plan or WPL 110 .waypoints file (exit 1 if not feasible)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from uavsim.cli._common import echo_json


@click.command("check")
@click.argument("mission_file", type=click.Path(path_type=Path))
@click.option("--scenario", "scenario_dir", type=click.Path(path_type=Path), default=None,
              help="Scenario folder (default: missions/dienbien).")
@click.option("--dem", "dem", type=click.Path(path_type=Path), default=None,
              help="DEM file GDAL reads (default: the embedded synthetic terrain).")
@click.option("--aircraft", "aircraft_id", default=None,
              help="Aircraft class id (default: the file's uavsim block, else delivery-2kg).")
@click.option("--wind", "wind_mps", type=float, default=0.0, show_default=True, help="Wind speed, m/s.")
@click.option("--wind-from", "wind_dir_deg", type=float, default=0.0, show_default=True,
              help="Direction the wind blows from, degrees true.")
@click.option("--min-clearance", "min_clearance_m", type=float, default=None,
              help="Minimum terrain clearance, m (default: 1 m for sprayers, 10 m otherwise).")
@click.option("--plot", "plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a PNG: map over the hillshade and the vertical profile.")
@click.option("--reserve", "reserve_pct", type=click.FloatRange(0, 100), default=20.0, show_default=True,
              help="Battery reserve required at landing, %.")
@click.option("--max-radio-shadow", "max_shadow_pct", type=click.FloatRange(0, 100), default=None,
              help="Fail when the radio link to the launch point is lost for more than this % of the track.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def check(mission_file: Path, scenario_dir: Path | None, dem: Path | None, aircraft_id: str | None, wind_mps: float,
          wind_dir_deg: float, min_clearance_m: float | None, plot: Path | None, reserve_pct: float,
          max_shadow_pct: float | None, as_json: bool) -> None:
    """Check a mission file: terrain clearance, zones and permits, 120 m rule, energy reserve, radio link."""
    from uavsim.planning import check_mission
    from uavsim.scenario import Scenario
    from uavsim.terrain import open_dem

    sc = Scenario.load(scenario_dir)
    t = open_dem(dem)
    p = check_mission(mission_file, sc, t, aircraft_id, wind_mps=wind_mps, wind_dir_deg=wind_dir_deg,
                      min_clearance_m=min_clearance_m, reserve_frac=reserve_pct / 100.0,
                      max_shadowed_frac=None if max_shadow_pct is None else max_shadow_pct / 100.0)
    if plot is not None:
        from uavsim.planning.plot import save_plan_figure

        save_plan_figure(p, t, plot, sc, mission_file.name)
    if as_json:
        echo_json({**p.to_dict(), "dem": t.summary()})
    else:
        from uavsim.cli.plan import _text

        _text(p, str(mission_file))
        click.echo(f"  DEM {t.label()}")
        if p.extra.get("aircraft_assumed"):
            click.echo(f"  note: aircraft assumed {p.aircraft_id} (use --aircraft)")
        if plot is not None:
            click.echo(f"plot written to {plot}")
    if not p.feasible:
        sys.exit(1)
