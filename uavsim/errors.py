"""One exception root for uavsim, with builtin mix-ins so callers may catch either family.

The command line turns any :class:`UavSimError` into a one-line message and exit code 1.
"""

from __future__ import annotations


class UavSimError(Exception):
    """Root of every error uavsim raises on purpose."""


class InputError(UavSimError, ValueError):
    """User input (a file, an argument, a coordinate) is invalid. The message names what and where."""


class DataFileError(InputError):
    """A data file cannot be read or has invalid content."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ScenarioError(DataFileError):
    """A scenario file (TOML) is missing a field or holds an invalid value."""


class TerrainError(DataFileError):
    """A DEM cannot be opened or queried."""


class LogFormatError(DataFileError):
    """A flight log cannot be parsed."""


class MissionFileError(DataFileError):
    """A mission file (.plan, .waypoints) is malformed."""


class OutOfTerrainError(InputError):
    """A query lies outside the DEM or over nodata, so the answer would be unknown."""


class StoreError(UavSimError, RuntimeError):
    """The flight store cannot be opened, is of an unknown schema, or an operation failed."""


class PlanningError(UavSimError, ValueError):
    """A plan cannot be made with the given inputs."""
