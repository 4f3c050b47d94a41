"""The ``uavsim`` click group. Commands load lazily so that ``uavsim --help`` stays fast."""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from uavsim.errors import UavSimError

# command name -> "module:attribute"; each module holds one command (or sub-group).
COMMANDS = {
    "demo": "uavsim.cli.demo:demo",
    "terrain": "uavsim.cli.terrain:terrain",
    "plan": "uavsim.cli.plan:plan",
    "check": "uavsim.cli.check:check",
    "simulate": "uavsim.cli.simulate:simulate",
    "ingest": "uavsim.cli.ingest:ingest",
    "flights": "uavsim.cli.flights:flights",
    "stats": "uavsim.cli.stats:stats",
    "report": "uavsim.cli.report:report",
    "annotate": "uavsim.cli.annotate:annotate",  # issue 14
    # web workbench, reviews and the per-flight view
    "serve": "uavsim.cli.serve:serve",
    "user": "uavsim.cli.user:user",
    "review": "uavsim.cli.review:review",
    "reviews": "uavsim.cli.review:reviews",
    "flight": "uavsim.cli.flight:flight",
    # issue 15: calibration and the mid-campaign forecast
    "calibrate": "uavsim.cli.calibrate:calibrate",
    "forecast": "uavsim.cli.forecast:forecast",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UavSimError as exc:
            # Bad input: one clear line and exit 1, never a traceback.
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=LazyGroup)
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.version_option(package_name="uavsim")
def cli(verbose: int) -> None:
    """uavsim: plan, simulate and track the safety of low-altitude drone operations."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def main() -> None:  # pragma: no cover - console entry
    cli()
