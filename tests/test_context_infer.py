"""Inference from a track alone (no plan matches): lanes in a field by class, height and season; else unknown;
permit corridors override the rules table (issue 14)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from uavsim import geo
from uavsim.context.conformance import PlannedPath, deviation_events, measure
from uavsim.context.infer import infer
from uavsim.context.model import ContextModel
from uavsim.records import Telemetry


@pytest.fixture(scope="module")
def model():
    return ContextModel.load(None)


def _lanes_in(model: ContextModel, field_id: str, height_m: float, angle_off: float = 0.0) -> Telemetry:
    """Six 120 m lanes 11 m apart around the field's centroid, a turn between each, at ``height_m``."""
    f = model.scenario.field_area(field_id)
    cx, cy = geo.to_utm(np.mean([v[0] for v in f.polygon]), np.mean([v[1] for v in f.polygon]))
    xs, ys = [], []
    for k in range(6):
        y = np.arange(-60.0, 60.1, 7.0)
        xs.append(float(cx) + (k - 2.5) * 11.0 + 0 * y)
        ys.append(float(cy) + (y if k % 2 == 0 else y[::-1]))
    x, y = np.concatenate(xs), np.concatenate(ys)
    # take off and land at the field's launch point, 30 s each way
    lx, ly = geo.to_utm(*f.launch)
    x = np.concatenate([np.linspace(float(lx), x[0], 30), x, np.linspace(x[-1], float(lx), 30)])
    y = np.concatenate([np.linspace(float(ly), y[0], 30), y, np.linspace(y[-1], float(ly), 30)])
    lat, lon = geo.from_utm(x, y)
    n = x.size
    rel = np.full(n, height_m)
    rel[0] = rel[-1] = 0.0
    return Telemetry(np.arange(n, dtype=float), lat, lon, 500.0 + rel, rel, np.full(n, 7.0), np.full(n, 80.0),
                     np.zeros(n, np.int16), ["AUTO"])


def test_low_lanes_in_the_rice_field_are_the_seasons_work(model):
    tel = _lanes_in(model, "mt-rice-1", 3.0)
    got = infer(tel, "mavlink-999/1", None, model, day=date(2026, 8, 20))
    assert got.matched == []  # not one of the scenario's sorties
    assert got.mission_type["value"] == "spray"
    assert "6 parallel lanes" in got.mission_type["evidence"] and "lanes flown at a median 3.0 m" in \
        got.mission_type["evidence"]
    assert got.site["value"] == "muong-thanh" and got.site["distance_m"] < 1.0
    assert got.aircraft_id["how"] == "unknown"
    sown = infer(tel, None, None, model, day=date(2026, 7, 1))
    assert sown.mission_type["value"] == "seed"
    # no work scheduled in May: seed or spray, not decided
    may = infer(tel, None, None, model, day=date(2027, 5, 10))
    assert may.mission_type["value"] == "unknown" and may.mission_type["candidates"] == ["seed", "spray"]


def test_high_lanes_are_camera_work(model):
    got = infer(_lanes_in(model, "tlc-tea-1", 60.0), None, None, model, day=date(2026, 9, 1))
    assert got.mission_type["value"] == "survey" and got.mission_type["family"] == "survey"


def test_a_wander_is_unknown_never_guessed(model):
    f = model.scenario.field_area("hn-coffee-1")
    rng = np.random.default_rng(3)
    lx, ly = geo.to_utm(*f.launch)
    x = float(lx) + np.cumsum(rng.normal(0, 15, 200))
    y = float(ly) + np.cumsum(rng.normal(0, 15, 200))
    lat, lon = geo.from_utm(x, y)
    tel = Telemetry(np.arange(200.0), lat, lon, np.full(200, 700.0), np.full(200, 30.0), np.full(200, 5.0),
                    np.full(200, 80.0), np.zeros(200, np.int16), ["LOITER"])
    got = infer(tel, None, None, model, day=date(2026, 7, 1))
    assert got.mission_type["value"] == "unknown" and got.mission_type["how"] == "unknown"
    assert got.site["value"] == "hua-nam"


def test_a_permit_sets_its_own_corridor(model):
    from uavsim.safety.rules import default_rules

    rules = default_rules()
    n = 50
    lat, lon = geo.from_utm(np.linspace(0, 1000, n) + 500000.0, np.full(n, 2370030.0))
    tel = Telemetry(np.arange(float(n)), lat, lon, np.full(n, 600.0), np.full(n, 30.0), np.full(n, 8.0),
                    np.full(n, 80.0), np.zeros(n, np.int16), ["AUTO"])
    plat, plon = geo.from_utm(np.array([500000.0, 501000.0]), np.array([2370000.0, 2370000.0]))
    plan = PlannedPath("route:test", "route", ("cargo",), None, None, plat, plon, np.array([600.0, 600.0]), 50.0)
    m = measure(tel, plan, rules)
    assert m.cross_track_max_m == pytest.approx(30.0, abs=0.1)
    (warn,) = deviation_events(m, tel, rules)
    assert warn.level == "warn" and warn.severity == "observation"
    (fail,) = deviation_events(m, tel, rules, {"id": "P-narrow", "route_deviation_m": 20.0})
    assert fail.level == "fail" and fail.threshold == 20.0 and "permit P-narrow" in fail.detail
