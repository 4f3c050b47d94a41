"""The rules table and the shared classification."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from uavsim.errors import DataFileError
from uavsim.records import EVENT_KINDS, SEVERITY_RANK, Event, Telemetry
from uavsim.safety.classify import classify
from uavsim.safety.rules import Rules, default_rules


def test_default_rules_cover_every_kind_with_a_source():
    rules = default_rules()
    for kind in EVENT_KINDS:
        assert rules.severity_of(kind) in SEVERITY_RANK
        assert rules.sources[kind], f"{kind} has no source"
    assert rules.severity_of("CRASH") == "accident"
    assert rules.severity_of("GPS_DEGRADED", "warn") == "observation"
    assert rules.threshold("vibration_fail_mps2") == 60.0


def test_bad_rules_file_names_file_and_entry(tmp_path):
    p = tmp_path / "r.toml"
    p.write_text('[severity]\nCRASH = { fail = "awful" }\n')
    with pytest.raises(DataFileError, match=r"r\.toml.*CRASH"):
        Rules.load(p)


def test_no_events_is_safe_and_crash_is_unsafe():
    rules = default_rules()
    assert classify([]).outcome == "safe"
    v = classify([rules.make_event("CRASH", 3.0, evidence="ERR 12/1")])
    assert (v.severity, v.outcome) == ("accident", "unsafe")
    v = classify([rules.make_event("FAILSAFE_BATTERY", 3.0)])
    assert (v.severity, v.outcome) == ("incident", "safe")


kinds = st.sampled_from(EVENT_KINDS)
levels = st.sampled_from(["fail", "warn"])


@given(st.lists(st.tuples(kinds, levels), max_size=6), kinds, levels)
def test_adding_an_event_never_improves_the_verdict(pairs, kind, level):
    rules = default_rules()
    events = [rules.make_event(k, float(i), level=lv) for i, (k, lv) in enumerate(pairs)]
    before = classify(events)
    after = classify([*events, rules.make_event(kind, 99.0, level=level)])
    assert SEVERITY_RANK[after.severity] >= SEVERITY_RANK[before.severity]
    assert not (before.outcome == "unsafe" and after.outcome == "safe")


class FlatTerrain:
    """A 500 m plateau over lon 103.0–103.1 with a nodata hole at lon > 103.08."""

    synthetic = True

    def covers(self, lat, lon):
        return (np.asarray(lon) >= 103.0) & (np.asarray(lon) <= 103.1)

    def elevation(self, lat, lon):
        lon = np.asarray(lon, float)
        return np.where(lon > 103.08, np.nan, 500.0)


def _track(lons, alts):
    # Take-off and landing legs 2 km away at 600 m, so that the samples under test are en route.
    lons = [103.001, *lons, 103.079]
    alts = [600.0, *alts, 600.0]
    n = len(lons)
    return Telemetry(np.arange(n, dtype=float), np.full(n, 21.5), np.asarray(lons, float), np.asarray(alts, float),
                     np.zeros(n), np.zeros(n), np.full(n, 80.0), np.zeros(n), ["AUTO"])


def test_terrain_clearance_and_unknown_terrain_are_never_safe():
    ok = classify([], _track([103.01, 103.02], [560, 570]), terrain=FlatTerrain())
    assert ok.outcome == "safe"
    assert ok.min_terrain_clearance_m == pytest.approx(60.0)
    low = classify([], _track([103.01, 103.02], [560, 505]), terrain=FlatTerrain())
    assert low.outcome == "unsafe"
    assert [e.kind for e in low.events] == ["TERRAIN_CLEARANCE"]
    assert "t=2.0s" in low.events[0].detail
    assert low.events[0].value == pytest.approx(5.0)
    hole = classify([], _track([103.01, 103.09], [560, 560]), terrain=FlatTerrain())
    assert hole.outcome == "unsafe"
    assert hole.events[0].kind == "TERRAIN_UNKNOWN"
    far = _track([104.0, 104.1], [560, 560])
    far.lon[:] = 104.0
    outside = classify([], far, terrain=FlatTerrain())
    assert outside.checks["terrain"] == "outside_dem"


def test_event_roundtrip_dict():
    e = Event("CRASH", "accident", 1.5, 21.0, 103.0, 500.0, 70.0, 60.0, "roll 70 deg", "ATT t=1.5")
    assert Event.from_dict(e.to_dict()) == e


def test_take_off_and_landing_are_not_clearance_losses():
    # Starts and ends on the ground (clearance 0): within terminal_radius_m of the ends, that is the procedure.
    ok = classify([], _track([103.01, 103.02], [560, 570]), terrain=FlatTerrain())
    on_ground = _track([103.01, 103.02], [560, 570])
    on_ground.alt_msl_m[[0, -1]] = 500.0
    assert classify([], on_ground, terrain=FlatTerrain()).outcome == ok.outcome == "safe"
