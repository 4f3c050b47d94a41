"""`uavsim plan route|field`: plan a delivery route or a field's coverage (exit 1 when not feasible)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import click

from uavsim.cli._common import echo_json, parse_latlon

scenario_option = click.option("--scenario", "scenario_dir", type=click.Path(path_type=Path), default=None,
                               help="Scenario folder (default: missions/dienbien).")
dem_option = click.option("--dem", "dem", type=click.Path(path_type=Path), default=None,
                          help="DEM file GDAL reads (default: the embedded synthetic terrain).")
common = [
    click.option("--aircraft", "aircraft_id", default=None, help="Aircraft class id from aircraft.toml."),
    click.option("--export", "export", type=click.Path(dir_okay=False, path_type=Path), default=None,
                 help="Write the mission: .plan (QGroundControl) or .waypoints (QGC WPL 110)."),
    click.option("--plot", "plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
                 help="Write a PNG: map over the hillshade and the vertical profile."),
    click.option("--max-radio-shadow", "max_shadow_pct", type=click.FloatRange(0, 100), default=None,
                 help="Fail when the radio link to the launch point is lost for more than this % of the track "
                      "(default: a warning only)."),
    click.option("--json", "as_json", is_flag=True, help="Print one JSON document."),
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
        _text(p, title)
        click.echo(f"  DEM {terrain.label()}")
        for w in written:
            click.echo(f"mission written to {w}")
        if plot is not None:
            click.echo(f"plot written to {plot}")
    if not p.feasible:
        sys.exit(1)


def _text(p, title: str) -> None:
    click.echo(f"{title}: {'FEASIBLE' if p.feasible else 'NOT FEASIBLE'} ({p.aircraft_id})")
    clear = "unknown" if p.min_terrain_clearance_m is None else f"{p.min_terrain_clearance_m:.1f} m"
    agl = "unknown" if p.max_agl_m is None else f"{p.max_agl_m:.0f} m"
    if math.isfinite(p.energy_wh):
        click.echo(f"  distance {p.distance_m / 1000:.2f} km, flight time {p.duration_s / 60:.1f} min, energy "
                   f"{p.energy_wh:.0f} Wh, reserve {p.reserve_pct:.1f} %")
    else:
        click.echo(f"  distance {p.distance_m / 1000:.2f} km, flight time and energy unknown")
    click.echo(f"  min terrain clearance {clear}, max height {agl} AGL, zones {', '.join(p.zones) or 'none'}")
    if p.sorties:
        click.echo(f"  {len(p.sorties)} sorties, {p.extra.get('hectares', 0):.2f} ha, "
                   f"{p.extra.get('litres', 0):.1f} L")
    for r in p.reasons:
        click.echo(f"  - {r}")
    for w in p.extra.get("warnings", []):
        click.echo(f"  warning: {w}")


@plan.command("route")
@scenario_option
@click.option("--from", "origin", required=True, help="Launch site id (sites.toml), or LAT,LON.")
@click.option("--to", "destination", required=True, help="Destination site id, or LAT,LON.")
@click.option("--wind", "wind_mps", type=float, default=0.0, show_default=True, help="Wind speed, m/s.")
@click.option("--wind-from", "wind_dir_deg", type=float, default=0.0, show_default=True,
              help="Direction the wind blows from, degrees true.")
@click.option("--reserve", "reserve_pct", type=click.FloatRange(0, 100), default=20.0, show_default=True,
              help="Battery reserve required at landing, %.")
@click.option("--one-way", is_flag=True, help="Land at the destination instead of flying back.")
@click.option("--cruise-agl", "cruise_agl_m", type=click.FloatRange(min=1), default=50.0, show_default=True,
              help="Height above the terrain the profile keeps, m.")
@click.option("--min-clearance", "min_clearance_m", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Minimum terrain clearance the check requires, m.")
@dem_option
@_with(common)
def route(scenario_dir, origin, destination, wind_mps, wind_dir_deg, reserve_pct, one_way, cruise_agl_m,
          min_clearance_m, dem, aircraft_id, export, plot, max_shadow_pct, as_json) -> None:
    """Plan a delivery route between two sites, around the no-go zones and over the terrain."""
    from uavsim.planning import plan_route
    from uavsim.scenario import Scenario
    from uavsim.terrain import open_dem

    sc = Scenario.load(scenario_dir)
    t = open_dem(dem)
    ends = [parse_latlon(v, opt) if "," in v else v for v, opt in ((origin, "--from"), (destination, "--to"))]
    p = plan_route(sc, ends[0], ends[1], aircraft_id, t, wind_mps, wind_dir_deg, reserve_pct / 100.0,
                   not one_way, cruise_agl_m=cruise_agl_m, min_clearance_m=min_clearance_m,
                   max_shadowed_frac=None if max_shadow_pct is None else max_shadow_pct / 100.0)
    _finish(p, t, sc, export, plot, as_json, f"route {origin} -> {destination}")


@plan.command("field")
@scenario_option
@click.option("--field", "field_id", required=True, help="Field id (fields.toml).")
@click.option("--mission-type", "mission_type", default=None, help="spray, seed, fertilise, survey or monitor.")
@click.option("--angle", "angle_deg", type=float, default=None, help="Lane direction, degrees from north.")
@click.option("--wind", "wind_mps", type=float, default=0.0, show_default=True, help="Wind speed, m/s.")
@click.option("--wind-from", "wind_dir_deg", type=float, default=0.0, show_default=True,
              help="Direction the wind blows from, degrees true.")
@click.option("--reserve", "reserve_pct", type=click.FloatRange(0, 100), default=20.0, show_default=True,
              help="Battery reserve required at each landing, %.")
@dem_option
@_with(common)
def field(scenario_dir, field_id, mission_type, angle_deg, wind_mps, wind_dir_deg, reserve_pct, dem, aircraft_id,
          export, plot, max_shadow_pct, as_json) -> None:
    """Plan the coverage of a field: headland, lanes, sorties split by tank and battery."""
    from uavsim.planning import plan_field
    from uavsim.scenario import Scenario
    from uavsim.terrain import open_dem

    sc = Scenario.load(scenario_dir)
    t = open_dem(dem)
    p = plan_field(sc, field_id, aircraft_id, t, mission_type, angle_deg, wind_mps=wind_mps,
                   wind_dir_deg=wind_dir_deg, reserve_frac=reserve_pct / 100.0,
                   max_shadowed_frac=None if max_shadow_pct is None else max_shadow_pct / 100.0)
    _finish(p, t, sc, export, plot, as_json, f"field {field_id}")
