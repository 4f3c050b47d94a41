"""``uavsim serve``: the operators' and analysts' workbench over the store, on uvicorn."""

from __future__ import annotations

from pathlib import Path

import click

from uavsim.cli.options import db_option, dem_option, scenario_option


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Reading needs no login only from this machine (loopback).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="TCP port.")
@dem_option
@scenario_option
@click.option("--no-terrain", is_flag=True, help="No terrain under maps and no terrain checks on uploads.")
@click.option("--max-upload-mb", type=click.IntRange(1), default=256, show_default=True,
              help="Largest accepted log file.")
@click.option("--session-hours", type=click.FloatRange(0.01), default=8.0, show_default=True,
              help="A login session expires after this many hours.")
def serve(db: str, host: str, port: int, dem: str | None, scenario: Path | None, no_terrain: bool,
          max_upload_mb: int, session_hours: float) -> None:
    """Serve the dashboard, flights, flight pages, reviews and uploads (Ctrl-C stops)."""
    import uvicorn

    from uavsim.scenario import DEFAULT_SCENARIO
    from uavsim.web.app import WebConfig, create_app
    from uavsim.web.auth import AuthPolicy
    from uavsim.web.upload import IngestOptions

    if scenario is None and not no_terrain and DEFAULT_SCENARIO.is_dir():
        scenario = DEFAULT_SCENARIO
    config = WebConfig(db=Path(db), dem=dem, use_terrain=not no_terrain, policy=AuthPolicy(session_ttl_s=session_hours * 3600),
                       ingest=IngestOptions(dem=dem, scenario=str(scenario) if scenario else None, use_terrain=not no_terrain,
                                            max_file_bytes=max_upload_mb * 1024 * 1024))
    app = create_app(config)
    click.echo(f"uavsim workbench on http://{host}:{port}/ over {db}", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
