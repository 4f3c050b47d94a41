"""`uavsim plan route|field`: plan a delivery route or a field's coverage (exit 1 when not feasible)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from uavsim.cli._common import echo_json, parse_latlon
from uavsim.cli.options import aircraft_option, dem_option, json_option, rules_option, scenario_option

common = [
    aircraft_option,
    rules_option,
    click.option("--wind-bands", "wind_bands", default=None,
                 help="Wind by height above the launch point: TOP_M:SPEED@FROM,... (overrides --wind, --wind-from)."),
    click.option("--export", "export", type=click.Path(dir_okay=False, path_type=Path), default=None,
                 help="Write the mission: .plan (QGroundControl) or .waypoints (QGC WPL 110)."),
    click.option("--plot", "plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
                 help="Write a PNG: map over the hillshade and the vertical profile."),
    click.option("--max-radio-shadow", "max_shadow_pct", type=click.FloatRange(0, 100), default=None,
                 help="Fail when the radio link to the launch point is lost for more than this % of the track "
                      "and the aircraft declares no lost-link procedure (default: the rules table's "
                      "radio_shadow_max_frac)."),
    json_option,
]


def _with(options):
    def deco(f):
        for o in reversed(options):
            f = o(f)
        return f
    return deco


@click.group()
def plan() -> None:
    """Plan delivery routes and field coverage."""


def _limits(rules_path: Path | None, reserve_pct: float | None, max_shadow_pct: float | None):
    """The plan's limits: the rules table (``--rules`` or the packaged one), with the options given over it."""
    from uavsim.planning import Limits
    from uavsim.safety.rules import Rules

    return Limits.from_rules(Rules.load(rules_path) if rules_path else None,
                             reserve_frac=None if reserve_pct is None else reserve_pct / 100.0,
                             max_shadowed_frac=None if max_shadow_pct is None else max_shadow_pct / 100.0)


def _wind(speed: float, from_deg: float, bands: str | None):
    """The wind of the options; a malformed --wind-bands is a usage error (exit 2)."""
    from uavsim.planning import Wind
    from uavsim.planning.conditions import parse_wind_bands

    try:
        return Wind(speed, from_deg, parse_wind_bands(bands) if bands else ())
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--wind-bands") from None


def _finish(p, terrain, scenario, export: Path | None, plot: Path | None, as_json: bool, title: str) -> None:
    written: list[str] = []
    if export is not None:
        from uavsim.planning.missionfile import export_plan

        written = [str(x) for x in export_plan(p, export, terrain)]
    if plot is not None:
        from uavsim.planning.plot import save_plan_figure

        save_plan_figure(p, terrain, plot, scenario, title)
    if as_json:
        doc = p.to_dict()
        doc["exported"] = written
        echo_json({**doc, "dem": terrain.summary()})
    else:
        for line in p.summary_lines(title):
            click.echo(line)
        click.echo(f"  DEM {terrain.label()}")
        for w in written:
            click.echo(f"mission written to {w}")
        if plot is not None:
            click.echo(f"plot written to {plot}")
    if not p.feasible:
        sys.exit(1)


@plan.command("route")
@scenario_option
@click.option("--from", "origin", required=True, help="Launch site id (sites.toml), or LAT,LON.")
@click.option("--to", "destination", required=True, help="Destination site id, or LAT,LON.")
@click.option("--wind", "wind_mps", type=float, default=0.0, show_default=True, help="Wind speed, m/s.")
@click.option("--wind-from", "wind_dir_deg", type=float, default=0.0, show_default=True,
              help="Direction the wind blows from, degrees true.")
@click.option("--reserve", "reserve_pct", type=click.FloatRange(0, 100), default=None,
              help="Battery reserve required at landing, % (default: the rules table's battery_reserve_frac).")
@click.option("--one-way", is_flag=True, help="Land at the destination instead of flying back.")
@click.option("--cruise-agl", "cruise_agl_m", type=click.FloatRange(min=1), default=50.0, show_default=True,
              help="Height above the terrain the profile keeps, m.")
@click.option("--min-clearance", "min_clearance_m", type=click.FloatRange(min=0), default=None,
              help="Minimum terrain clearance the check requires, m (default: the rules table's "
                   "route_design_clearance_m).")
@dem_option
@_with(common)
def route(scenario, origin, destination, wind_mps, wind_dir_deg, reserve_pct, one_way, cruise_agl_m,
          min_clearance_m, dem, aircraft_id, rules_path, wind_bands, export, plot, max_shadow_pct, as_json) -> None:
    """Plan a delivery route between two sites, around the no-go zones and over the terrain."""
    from uavsim.planning import plan_route
    from uavsim.scenario import Scenario
    from uavsim.terrain import open_dem

    sc = Scenario.load(scenario)
    t = open_dem(dem)
    ends = [parse_latlon(v, opt) if "," in v else v for v, opt in ((origin, "--from"), (destination, "--to"))]
    p = plan_route(sc, ends[0], ends[1], aircraft_id, t, wind_mps, wind_dir_deg, return_leg=not one_way,
                   cruise_agl_m=cruise_agl_m, min_clearance_m=min_clearance_m,
                   limits=_limits(rules_path, reserve_pct, max_shadow_pct), wind=_wind(wind_mps, wind_dir_deg, wind_bands))
    _finish(p, t, sc, export, plot, as_json, f"route {origin} -> {destination}")


@plan.command("field")
@scenario_option
@click.option("--field", "field_id", required=True, help="Field id (fields.toml).")
@click.option("--mission-type", "mission_type", default=None, help="spray, seed, fertilise, survey or monitor.")
@click.option("--angle", "angle_deg", type=float, default=None, help="Lane direction, degrees from north.")
@click.option("--wind", "wind_mps", type=float, default=0.0, show_default=True, help="Wind speed, m/s.")
@click.option("--wind-from", "wind_dir_deg", type=float, default=0.0, show_default=True,
              help="Direction the wind blows from, degrees true.")
@click.option("--reserve", "reserve_pct", type=click.FloatRange(0, 100), default=None,
              help="Battery reserve required at each landing, % (default: the rules table's).")
@dem_option
@_with(common)
def field(scenario, field_id, mission_type, angle_deg, wind_mps, wind_dir_deg, reserve_pct, dem, aircraft_id,
          rules_path, wind_bands, export, plot, max_shadow_pct, as_json) -> None:
    """Plan the coverage of a field: headland, lanes, sorties split by tank and battery."""
    from uavsim.planning import plan_field
    from uavsim.scenario import Scenario
    from uavsim.terrain import open_dem

    sc = Scenario.load(scenario)
    t = open_dem(dem)
    p = plan_field(sc, field_id, aircraft_id, t, mission_type, angle_deg, wind_mps=wind_mps,
                   wind_dir_deg=wind_dir_deg, limits=_limits(rules_path, reserve_pct, max_shadow_pct),
                   wind=_wind(wind_mps, wind_dir_deg, wind_bands))
    _finish(p, t, sc, export, plot, as_json, f"field {field_id}")
