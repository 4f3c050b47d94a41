"""The operator's manifest: every kind of bad row is one error naming the file, line and column (issue 14)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from uavsim.context import ManifestError, load_manifest, read_manifest
from uavsim.planning import plan_route
from uavsim.planning.missionfile import write_qgc_plan
from uavsim.scenario import Scenario

SITES = ["ta-la-cao", "muong-thanh", "hua-nam"]
PERMITS = ["QD1291-agriculture-east"]
LOGS = [("logs/a.tlog", "a" * 64), ("logs/b.bin", "b" * 64)]
PILOT = "Nguyễn Thị Ánh"


def _write(tmp_path: Path, text: str | bytes, name: str = "sheet.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return p


def _read(p: Path):
    return read_manifest(p, sites=SITES, permits=PERMITS, logs=LOGS)


def test_a_vietnamese_sheet_with_a_bom_reads_and_normalises(tmp_path):
    nfd = unicodedata.normalize("NFD", PILOT)  # typed with combining marks: the same name once read
    p = _write(tmp_path, "\ufefflog,pilot,site,mission_type,date,notes\n"
                         f"a.tlog,{nfd},ta-la-cao,Survey,2026-07-01,\"Chè, bản Tà La Cao\"\n"
                         f"{'B' * 64},{PILOT},,,,\n\n")
    m = _read(p)
    assert [r.line for r in m.rows] == [2, 3]
    a, b = m.rows
    assert a.pilot == PILOT and b.pilot == PILOT
    assert a.mission_type == "survey" and a.site == "ta-la-cao" and a.date == "2026-07-01"
    assert a.notes == "Chè, bản Tà La Cao"
    assert b.sha256 == "b" * 64 and b.site is None
    assert m.row_for("b" * 64, "whatever.bin") is b
    assert m.row_for("c" * 64, "a.tlog") is a
    assert a.given() == {"site": "ta-la-cao", "mission_type": "survey", "pilot": PILOT}
    assert len(m.sha256) == 64


@pytest.mark.parametrize(("text", "where", "problem"), [
    ("log,pilot\n,An\n", "line 2, column log", "empty"),
    ("log,mission_type\na.tlog,crop-dusting\n", "line 2, column mission_type", "unknown mission type 'crop-dusting'"),
    ("log,site\na.tlog,nowhere\n", "line 2, column site", "unknown site 'nowhere'"),
    ("log,permit\na.tlog,QD-0\n", "line 2, column permit", "unknown permit 'QD-0'"),
    ("log,date\na.tlog,01/07/2026\n", "line 2, column date", "not a date YYYY-MM-DD"),
    ("log,date\na.tlog,2026-02-30\n", "line 2, column date", "not a date YYYY-MM-DD"),
    ("log\nc.tlog\n", "line 2, column log", "matches none of the 2 log file(s) given"),
    (f"log\n{'c' * 64}\n", "line 2, column log", "matches none"),
    ("log,pilot\na.tlog,An\nb.bin,Bình\na.tlog,Cường\n", "line 4, column log", "already on line 2"),
    ("log,plan\na.tlog,missing.plan\n", "line 2, column plan", "plan file 'missing.plan' not found"),
    ("log,plan\na.tlog,route.kml\n", "line 2, column plan", "not a .plan, .waypoints or .txt"),
    ("log,pilot,weather\na.tlog,An,rain\n", "line 1, column 3 'weather'", "unknown column"),
    ("log,pilot,Pilot\na.tlog,An,An\n", "line 1, column 3 'Pilot'", "duplicate column"),
    ("pilot,site\nAn,ta-la-cao\n", "line 1", "no 'log' column"),
    ("log,pilot\na.tlog,An,extra\n", "line 2", "3 cells, the header has 2 columns"),
    ("", "sheet.csv", "empty file"),
    ("log,pilot\n", "sheet.csv", "no rows under the header"),
])
def test_every_kind_of_bad_row_is_one_line_naming_file_line_and_column(tmp_path, text, where, problem):
    p = _write(tmp_path, text)
    with pytest.raises(ManifestError) as exc:
        _read(p)
    msg = str(exc.value)
    assert "\n" not in msg
    assert msg.startswith(str(p))
    assert where in msg and problem in msg


def test_a_sheet_that_is_not_utf8_names_the_line(tmp_path):
    p = _write(tmp_path, "log,pilot\na.tlog,An\nb.bin,Nguy\xe1n\n".encode("latin-1"))
    with pytest.raises(ManifestError, match=r"line 3: not UTF-8 text \(byte 0xe1\)"):
        _read(p)


def test_a_missing_sheet_is_an_error(tmp_path):
    with pytest.raises(ManifestError, match="file not found"):
        _read(tmp_path / "nope.csv")


def test_a_log_name_shared_by_two_files_needs_its_sha(tmp_path):
    p = _write(tmp_path, "log\na.tlog\n")
    with pytest.raises(ManifestError, match="matches 2 files"):
        read_manifest(p, logs=[("x/a.tlog", None), ("y/a.tlog", None)])


def test_a_malformed_plan_file_is_a_bad_row(tmp_path):
    (tmp_path / "bad.plan").write_text('{"fileType": "Plan", "mission": {"items": "nope"}}', encoding="utf-8")
    p = _write(tmp_path, "log,plan\na.tlog,bad.plan\n")
    with pytest.raises(ManifestError, match=r"line 2, column plan: .*bad\.plan"):
        load_manifest(p, None, LOGS)


def test_a_plan_relative_to_the_sheet_is_read_and_resolved(tmp_path):
    sc = Scenario.load()
    plan = plan_route(sc, "ta-la-cao", "sinh-phinh-collect", "cargo-flycart", mission_type="cargo")
    (tmp_path / "plans").mkdir()
    write_qgc_plan(plan, tmp_path / "plans" / "tea.plan")
    p = _write(tmp_path, "log,plan,site,permit\na.tlog,plans/tea.plan,ta-la-cao,QD1291-agriculture-east\n")
    m = load_manifest(p, sc, LOGS)
    assert m.rows[0].plan == str((tmp_path / "plans" / "tea.plan").resolve())
    assert m.rows[0].permit == "QD1291-agriculture-east"
