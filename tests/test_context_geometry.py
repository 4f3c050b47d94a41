"""Track-to-plan geometry: the vectorised distance matches its slow twin; lanes and legs (issue 14)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uavsim.context.geometry import (
    distance_to_path,
    distance_to_path_slow,
    parallel_lanes,
    points_along,
    straight_legs,
    vertical_offset,
)

coord = st.floats(-500.0, 500.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(coord, coord), min_size=1, max_size=12), st.lists(st.tuples(coord, coord), min_size=1,
                                                                              max_size=8))
def test_distance_to_path_matches_the_slow_twin(points, vertices):
    px, py = (np.array(v) for v in zip(*points, strict=True))
    vx, vy = (np.array(v) for v in zip(*vertices, strict=True))
    fast = distance_to_path(px, py, vx, vy)
    slow = distance_to_path_slow(list(px), list(py), list(vx), list(vy))
    np.testing.assert_allclose(fast.distance_m, slow, atol=1e-6)
    assert ((fast.frac >= 0) & (fast.frac <= 1)).all()


def test_distance_to_an_l_shaped_path():
    near = distance_to_path(np.array([5.0, 12.0, 3.0]), np.array([2.0, 4.0, -4.0]),
                            np.array([0.0, 10.0, 10.0]), np.array([0.0, 0.0, 10.0]))
    np.testing.assert_allclose(near.distance_m, [2.0, 2.0, 4.0])
    assert near.segment.tolist() == [0, 1, 0]


def test_vertical_offset_holds_the_flight_to_the_part_it_flies():
    # out at 50 m, back over the same ground at 20 m: a flight at 22 m is 2 m above the return leg
    vx, vy, vz = np.array([0.0, 100.0, 100.0, 0.0]), np.array([0.0, 0.0, 0.1, 0.1]), np.array([50.0, 50.0, 20.0, 20.0])
    off = vertical_offset(np.array([50.0, 50.0]), np.array([0.05, 0.05]), np.array([22.0, 47.0]), vx, vy, vz, 5.0)
    np.testing.assert_allclose(off, [2.0, -3.0])
    # a vertical climb at one point spans its heights
    off = vertical_offset(np.array([0.0]), np.array([0.0]), np.array([12.0]), np.array([0.0, 0.0, 50.0]),
                          np.array([0.0, 0.0, 0.0]), np.array([0.0, 30.0, 30.0]), 5.0)
    assert off[0] == pytest.approx(0.0)


def _boustrophedon(n_lanes: int, length: float, spacing: float, step: float = 5.0):
    xs, ys = [], []
    for k in range(n_lanes):
        y = np.arange(0.0, length + 1e-9, step)
        xs.append(np.full(y.size, k * spacing))
        ys.append(y if k % 2 == 0 else y[::-1])
    return np.concatenate(xs), np.concatenate(ys)


def test_parallel_lanes_of_a_coverage_pattern():
    x, y = _boustrophedon(5, 200.0, 11.0)
    legs = straight_legs(x, y, 20.0)
    lanes, axis = parallel_lanes(x, y, legs, 15.0)
    assert len(lanes) == 5
    assert axis == pytest.approx(0.0, abs=1.0) or axis == pytest.approx(180.0, abs=1.0)


def test_a_straight_transit_is_one_leg_not_lanes():
    x, y = np.linspace(0, 3000, 300), np.linspace(0, 1000, 300)
    legs = straight_legs(x, y, 20.0)
    assert len(legs) == 1
    assert parallel_lanes(x, y, legs, 15.0)[0] == legs


def test_points_along_keep_the_vertices_and_the_step():
    px, py = points_along(np.array([0.0, 10.0, 10.0]), np.array([0.0, 0.0, 4.0]), 2.0)
    assert px.size == 1 + 5 + 2
    assert (px[-1], py[-1]) == (10.0, 4.0)
    assert np.max(np.hypot(np.diff(px), np.diff(py))) <= 2.0 + 1e-9
