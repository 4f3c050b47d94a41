"""Fixtures shared by the test modules: the default scenario and the embedded terrain, opened once."""

from __future__ import annotations

import pytest

from uavsim.scenario import Scenario
from uavsim.terrain import open_dem


@pytest.fixture(scope="session")
def terrain():
    return open_dem("synthetic")  # the embedded terrain, even on a machine that has fetched real terrain


@pytest.fixture(scope="session")
def sc():
    return Scenario.load()
