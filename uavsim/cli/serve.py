"""``uavsim serve``: the operators' and analysts' workbench over the store, on uvicorn."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--db", "db", default="uavsim.db", show_default=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Flight store (SQLite); it must exist.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Reading needs no login only from this machine (loopback).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="TCP port.")
@click.option("--dem", "dem", type=click.Path(dir_okay=False), default=None,
              help="DEM for maps, profiles and uploads' terrain checks (default: the embedded synthetic terrain).")
@click.option("--scenario", "scenario", type=click.Path(file_okay=False), default=None,
              help="Scenario whose zones and sites uploads are checked against (default: missions/dienbien).")
@click.option("--no-terrain", is_flag=True, help="No terrain under maps and no terrain checks on uploads.")
@click.option("--max-upload-mb", type=click.IntRange(1), default=256, show_default=True,
              help="Largest accepted log file.")
@click.option("--session-hours", type=click.FloatRange(0.01), default=8.0, show_default=True,
              help="A login session expires after this many hours.")
def serve(db: Path, host: str, port: int, dem: str | None, scenario: str | None, no_terrain: bool,
          max_upload_mb: int, session_hours: float) -> None:
    """Serve the dashboard, flights, flight pages, reviews and uploads (Ctrl-C stops)."""
    import uvicorn

    from uavsim.scenario import DEFAULT_SCENARIO
    from uavsim.web.app import WebConfig, create_app
    from uavsim.web.auth import AuthPolicy
    from uavsim.web.upload import IngestOptions

    if scenario is None and not no_terrain and DEFAULT_SCENARIO.is_dir():
        scenario = str(DEFAULT_SCENARIO)
    config = WebConfig(db=db, dem=dem, use_terrain=not no_terrain, policy=AuthPolicy(session_ttl_s=session_hours * 3600),
                       ingest=IngestOptions(dem=dem, scenario=scenario, use_terrain=not no_terrain,
                                            max_file_bytes=max_upload_mb * 1024 * 1024))
    app = create_app(config)
    click.echo(f"uavsim workbench on http://{host}:{port}/ over {db}", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
