"""Aircraft catalogue and energy model: calibration against published hover times, physics sanity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uavsim.aircraft import (
    air_density,
    get_aircraft,
    hover_endurance_s,
    hover_power_w,
    load_catalogue,
    power_w,
)
from uavsim.errors import ScenarioError

IDS = {"delivery-2kg", "medical-vtol", "cargo-flycart", "sprayer-t40", "sprayer-t25", "survey-quad"}


@pytest.fixture(scope="module")
def cat():
    return load_catalogue()


def test_catalogue_has_every_class_with_sources(cat):
    assert IDS <= set(cat)
    for ac in cat.values():
        assert ac.sources, ac.id
        assert ac.operating_kg <= ac.max_takeoff_kg


def test_t40_hover_times_within_10_percent(cat):
    t40 = cat["sprayer-t40"]
    assert hover_endurance_s(t40, 50.0) / 60 == pytest.approx(18.0, rel=0.10)
    assert hover_endurance_s(t40, 90.0) / 60 == pytest.approx(7.0, rel=0.10)
    assert t40.tank_l == 40.0 and t40.swath_m == 11.0 and t40.wind_limit_mps == 6.0


def test_vtol_range_calibrated(cat):
    v = cat["medical-vtol"]
    p = power_w(v, 24.9, v.cruise_mps)
    assert v.usable_wh * 3600 / p * v.cruise_mps / 1000 == pytest.approx(75.0, rel=1e-6)
    # on the wing it needs far less power than hovering
    assert p < 0.5 * hover_power_w(v, 24.9)


def test_isa_density():
    assert air_density(0.0) == pytest.approx(1.225)
    assert air_density(1000.0) == pytest.approx(1.112, abs=0.002)  # ~ 9 % less at 1 km (ISA table 1.1117)


def test_hover_power_rises_as_rho_to_minus_half(cat):
    ac = cat["delivery-2kg"]
    ratio = hover_power_w(ac, 8.0, 1000.0) / hover_power_w(ac, 8.0, 0.0)
    assert ratio == pytest.approx((air_density(0) / air_density(1000)) ** 0.5, rel=1e-6)


def test_hover_power_is_momentum_theory(cat):
    ac = cat["sprayer-t40"]
    t = 50.0 * 9.80665
    expected = t**1.5 / (ac.efficiency * (2 * 1.225 * ac.rotor_area_m2) ** 0.5)
    assert hover_power_w(ac, 50.0) == pytest.approx(expected, rel=1e-6)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.0, 15.0), st.floats(0.1, 5.0))
def test_power_monotone_in_climb_and_mass(v, c):
    ac = load_catalogue()["delivery-2kg"]
    assert power_w(ac, 8.0, v, c) > power_w(ac, 8.0, v, 0.0) > power_w(ac, 8.0, v, -c) > 0
    assert power_w(ac, 9.0, v) > power_w(ac, 8.0, v)


def test_forward_flight_cheaper_than_hover_then_drag_dominates(cat):
    ac = cat["cargo-flycart"]
    m = ac.mass_kg()
    assert power_w(ac, m, 10.0) < hover_power_w(ac, m)
    assert power_w(ac, m, 40.0) > power_w(ac, m, 20.0)


def test_bad_catalogue_names_file_and_entry(tmp_path):
    p = tmp_path / "aircraft.toml"
    p.write_text('[[aircraft]]\nid = "x"\nname = "x"\nkind = "multirotor"\n')
    with pytest.raises(ScenarioError, match=r"aircraft.toml: aircraft\[0\]: missing field 'empty_kg'"):
        load_catalogue(p)
    with pytest.raises(ScenarioError, match="unknown aircraft 'nope'"):
        get_aircraft(None, "nope")


def test_every_class_reproduces_its_published_hover_times(cat):
    # one calibrated figure of merit per class: the T40 within 10 %, every class within 15 %
    for ac in cat.values():
        for mass, minutes in ac.hover_points:
            assert hover_endurance_s(ac, mass) / 60 == pytest.approx(minutes, rel=0.15), (ac.id, mass)
        assert 0.3 < ac.efficiency < 0.9, ac.id


def test_flycart_carries_30kg_over_16km(cat):
    fc = cat["cargo-flycart"]
    p = power_w(fc, fc.mass_kg(30.0), fc.cruise_mps)
    # MISSION.md: 30 kg over 16 km; the drag area is fitted to it (the model without profile power gave 20.7 km)
    assert fc.usable_wh * 3600 / p * fc.cruise_mps / 1000 == pytest.approx(16.0, rel=1e-6)
    assert fc.range_points and 0.1 < fc.drag_area_m2 < 5.0


def test_profile_power_keeps_hover_and_rises_in_forward_flight(cat):
    """The blade profile share does not change hover power (both shares scale as T^1.5), and energy per metre
    has a minimum for the small quads: it rises again at speed, as Stolaroff 2018 measured (the heavy sprayers,
    with far higher disc loading, reach theirs above their top speed)."""
    from dataclasses import replace

    for ac in (cat["delivery-2kg"], cat["survey-quad"]):
        bare = replace(ac, profile_frac=0.0)
        m = ac.mass_kg()
        assert hover_power_w(ac, m) == pytest.approx(hover_power_w(bare, m), rel=1e-9)
        assert 0 < ac.profile_frac == pytest.approx(1 - ac.efficiency / ac.drive_efficiency)
        jpm = [power_w(ac, m, v) / v for v in np.linspace(2.0, 2.0 * ac.max_speed_mps, 40)]
        k = int(np.argmin(jpm))
        assert 0 < k < len(jpm) - 1  # an interior minimum of energy per metre


def test_stolaroff_shape_within_ten_percent():
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "analysis"))
    from energy_calibration import fit_reference, shape_error

    ref, err = fit_reference(load_catalogue()["survey-quad"].profile_frac)  # the classes' rule, small quad
    assert err == pytest.approx(shape_error(ref)[0]) and err < 0.10
    assert power_w(ref, 1.3, 11.6) / power_w(ref, 1.3, 4.9) == pytest.approx(216 / 150, rel=0.15)


def test_unknown_lost_link_and_bad_profile_are_errors(tmp_path):
    f = tmp_path / "aircraft.toml"
    text = (Path(__file__).resolve().parents[1] / "missions" / "dienbien" / "aircraft.toml").read_text()
    f.write_text(text.replace('lost_link = "continue"', 'lost_link = "hover"', 1))
    with pytest.raises(ScenarioError, match=r"aircraft\[4\]: lost_link must be 'return' or 'continue', got 'hover'"):
        load_catalogue(f)
    f.write_text(text.replace('tip_speed_mps = 110.0', 'tip_speed_mps = 110.0\nprofile_frac = 0.9', 1))
    with pytest.raises(ScenarioError, match=r"aircraft\[3\]: profile_frac 0.90 exceeds 1 - efficiency / drive_efficiency"):
        load_catalogue(f)
