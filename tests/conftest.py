"""Fixtures shared by the test modules: the default scenario and the embedded terrain, opened once."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from uavsim.scenario import Scenario
from uavsim.terrain import open_dem

# Property tests draw the same examples on every run (derandomised), so that CI never fails on a draw no one has
# seen; `HYPOTHESIS_PROFILE=explore pytest` draws fresh ones to look for new failures.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture(scope="session")
def terrain():
    return open_dem("synthetic")  # the embedded terrain, even on a machine that has fetched real terrain


@pytest.fixture(scope="session")
def sc():
    return Scenario.load()
