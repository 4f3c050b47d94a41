"""`uavsim check MISSION_FILE`: pre-flight check of a QGC .plan or WPL 110 .waypoints file (exit 1 if not feasible)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from uavsim.cli._common import echo_json
from uavsim.cli.options import aircraft_option, dem_option, json_option, rules_option, scenario_option


@click.command("check")
@click.argument("mission_file", type=click.Path(path_type=Path))
@scenario_option
@dem_option
@aircraft_option
@rules_option
@click.option("--params", "params_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Parameter file (ArduPilot .param/.parm, or QGroundControl's): RTL_ALT, WPNAV_SPEED, climb "
                   "limits, PX4's MPC_XY_CRUISE, ... over the aircraft class's.")
@click.option("--wind", "wind_mps", type=float, default=0.0, show_default=True, help="Wind speed, m/s.")
@click.option("--wind-from", "wind_dir_deg", type=float, default=0.0, show_default=True,
              help="Direction the wind blows from, degrees true.")
@click.option("--wind-bands", "wind_bands", default=None,
              help="Wind by height above the launch point: TOP_M:SPEED@FROM,... (e.g. 50:4@270,150:9@250).")
@click.option("--min-clearance", "min_clearance_m", type=float, default=None,
              help="Minimum terrain clearance, m (default: the rules table's, work minimum for sprayers).")
@click.option("--plot", "plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a PNG: map over the hillshade and the vertical profile.")
@click.option("--reserve", "reserve_pct", type=click.FloatRange(0, 100), default=None,
              help="Battery reserve required at landing, % (default: the rules table's).")
@click.option("--max-radio-shadow", "max_shadow_pct", type=click.FloatRange(0, 100), default=None,
              help="Fail above this % of the track without radio line of sight, unless the aircraft declares a "
                   "lost-link procedure (default: the rules table's).")
@json_option
def check(mission_file: Path, scenario: Path | None, dem: str | None, aircraft_id: str | None,
          rules_path: Path | None, params_file: Path | None, wind_mps: float, wind_dir_deg: float, wind_bands: str | None,
          min_clearance_m: float | None, plot: Path | None, reserve_pct: float | None, max_shadow_pct: float | None,
          as_json: bool) -> None:
    """Check a mission file as its autopilot flies it: terrain, zones, 120 m rule, energy and reserve, radio.

    The aircraft defaults to the file's uavsim block, else delivery-2kg."""
    from uavsim.planning import Limits, Wind, check_mission
    from uavsim.planning.autopilot import read_params
    from uavsim.planning.conditions import parse_wind_bands
    from uavsim.safety.rules import Rules
    from uavsim.scenario import Scenario
    from uavsim.terrain import open_dem

    try:
        bands = parse_wind_bands(wind_bands) if wind_bands else ()
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--wind-bands") from None
    sc = Scenario.load(scenario)
    t = open_dem(dem)
    limits = Limits.from_rules(Rules.load(rules_path) if rules_path else None, reserve_frac=None if reserve_pct is None else reserve_pct / 100.0,
                               max_shadowed_frac=None if max_shadow_pct is None else max_shadow_pct / 100.0)
    p = check_mission(mission_file, sc, t, aircraft_id, wind=Wind(wind_mps, wind_dir_deg, bands), limits=limits,
                      min_clearance_m=min_clearance_m, params=read_params(params_file) if params_file else None)
    if plot is not None:
        from uavsim.planning.plot import save_plan_figure

        save_plan_figure(p, t, plot, sc, mission_file.name)
    if as_json:
        echo_json({**p.to_dict(), "dem": t.summary()})
    else:
        for line in p.summary_lines(str(mission_file)):
            click.echo(line)
        click.echo(f"  DEM {t.label()}")
        if plot is not None:
            click.echo(f"plot written to {plot}")
    if not p.feasible:
        sys.exit(1)
