"""uavsim's reading of the 22 shared real logs against the investigator's labels (../shared/data/labels).

The level asserted is the level reached (benchmarks/labels_agreement.py prints the figures); the held-out
judging uses the per-file figures: worst verdict equal >= 70 % of files, coarse verdict >= 85 %, real
flights within 15 %, at most 2 false and 1 missed accident files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from uavsim.logs.labels import measure

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="module")
def agreement():
    if not (DATA / "labels" / "flights.json").exists():
        pytest.skip(f"shared labels not found at {DATA / 'labels'}")
    return measure(DATA / "labels" / "flights.json", DATA / "logs")


def test_every_labelled_airborne_segment_is_a_flight_and_no_ground_run_is(agreement):
    air = [s for s in agreement.segments if s.airborne]
    assert len(air) == 19
    assert [s.file for s in air if s.mine_airborne is not True] == []
    assert agreement.figures()["ground_runs_counted_as_flights"] == 0


def test_take_off_and_landing_within_2_s(agreement):
    f = agreement.figures()
    assert f["airborne_windows_found"] >= 17  # of 19; the two misses are hard cases (see the README)
    late = [abs(e) for s in agreement.segments for e in (s.takeoff_err_s, s.landing_err_s) if e is not None]
    assert sorted(late)[len(late) // 2] <= 1.0  # the median error is within a second


def test_segment_labels_equal_for_at_least_90_percent(agreement):
    assert agreement.figures()["segment_labels_equal"] >= 0.90


def test_per_file_figures_of_the_held_out_judging(agreement):
    f = agreement.figures()
    assert f["files"] == 22
    assert f["file_worst_equal"] >= 0.85
    assert f["file_coarse_equal"] >= 0.95
    assert f["flight_count_error"] <= 0.05
    assert f["false_accident_files"] == 0
    assert f["missed_accident_files"] == 0
