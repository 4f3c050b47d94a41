"""The campaign file: the default loads; a missing or invalid field is an error naming the field and the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from uavsim.errors import ScenarioError
from uavsim.scenario import DEFAULT_SCENARIO, Scenario
from uavsim.sim.config import DAY_S, HOUR_S, load_campaign
from uavsim.sim.demand import in_window


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "sc"
    shutil.copytree(DEFAULT_SCENARIO, dst)
    return dst


def _edit(root: Path, old: str, new: str) -> None:
    p = root / "campaign.toml"
    text = p.read_text(encoding="utf-8")
    assert old in text
    p.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_default_campaign_loads():
    c = load_campaign(Scenario.load())
    assert (c.start.isoformat(), c.end.isoformat()) == ("2026-06-23", "2027-05-31")
    assert c.days == 343
    assert c.utc_offset_s == 7 * HOUR_S
    assert c.daylight_s == (7 * HOUR_S, 17.5 * HOUR_S)
    assert {h.mode for h in c.hazards} == {"motor_esc", "battery", "gps", "radio_link", "bird", "weather"}
    assert all(h.source for h in c.hazards)
    assert sum(f.count for f in c.fleet) == 13
    assert c.weather.rain_days[6] > c.weather.rain_days[0]  # July is wetter than January
    assert DAY_S == 86400.0


def test_every_number_carries_a_source():
    text = (DEFAULT_SCENARIO / "campaign.toml").read_text(encoding="utf-8")
    blocks = text.split("\n[")
    for b in blocks[1:]:
        head = b.split("]", 1)[0]
        if head.startswith("weather"):
            assert "source" in b
        elif not head.startswith("hazards.") or "per_fh" in b:
            assert "source" in b, head


@pytest.mark.parametrize(("old", "new", "field"), [
    ('start = "2026-06-23"', 'start = "2026-13-40"', "start"),
    ("pads = 2\n", "", "pads"),
    ("per_day = 0.85", "per_day = -1.0", "per_day"),
    ('route = "med-muong-dang"', 'route = "no-such-route"', "route"),
    ("rtl = 0.5\n", "rtl = 0.9\n", "rtl"),
    ("rain_days = [5, 6, 9, 14, 19, 21, 24, 23, 16, 10, 6, 4]", "rain_days = [5, 6]", "rain_days"),
    ('windows = [["06-23", "07-25"]]', 'windows = [["06-23", "07-45"]]', "07-45"),
    ('aircraft = "sprayer-t40"\nwindows', 'aircraft = "no-such-craft"\nwindows', "aircraft"),
])
def test_bad_field_names_field_and_file(tmp_path, old, new, field):
    root = _copy(tmp_path)
    _edit(root, old, new)
    with pytest.raises(ScenarioError) as exc:
        load_campaign(Scenario.load(root))
    msg = str(exc.value)
    assert str(root / "campaign.toml") in msg
    assert field in msg


def test_missing_campaign_file(tmp_path):
    root = _copy(tmp_path)
    (root / "campaign.toml").unlink()
    with pytest.raises(ScenarioError, match="campaign.toml: file not found"):
        load_campaign(Scenario.load(root))


def test_calendar_windows():
    from datetime import date

    from uavsim.sim.config import CalendarDemand

    cd = CalendarDemand("x", "spray", "sprayer-t40", "f", None, (("11-15", "02-10"),), 1.0)
    assert in_window(date(2026, 12, 31), cd) and in_window(date(2027, 1, 5), cd)
    assert not in_window(date(2027, 3, 1), cd)


def test_missing_section_is_named(tmp_path):
    root = _copy(tmp_path)
    p = root / "campaign.toml"
    text = p.read_text(encoding="utf-8")
    start = text.index("[hazards.bird]")
    end = text.index("[hazards.weather]")
    p.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"campaign.toml: missing section \[hazards.bird\]"):
        load_campaign(Scenario.load(root))
