"""Arming after a logging gap: ArduCopter 3.x logs only while armed, so a text log's DISARMED and the
next ARMED sit together between the last row before the silence and the first after it. Neither carries a
clock; the disarming belongs to where logging stopped, the arming to where it resumed (a real case:
ArduPilot's LogAnalyzer example nan.log, ArduCopter 3.1.1, 15 s disarmed between two armed segments)."""
from __future__ import annotations

import pytest

from uavsim.logs import read_log

HEAD = """ArduCopter V3.1

FMT, 128, 89, FMT, BBnNZ, Type,Length,Name,Format
FMT, 132, 67, MSG, Z, Message
FMT, 4, 33, CTUN, Ihhhffecchh, TimeMS,ThrIn,AngBst,ThrOut,DAlt,Alt,BarAlt,DSAlt,SAlt,DCRt,CRt
FMT, 1, 19, ATT, IccccCC, TimeMS,DesRoll,Roll,DesPitch,Pitch,DesYaw,Yaw
FMT, 13, 4, EV, B, Id
MSG, ArduCopter V3.1.1 (681dafcf)
"""


def _rows(t0_s: float, t1_s: float) -> list[str]:
    out = []
    for k in range(int(round((t1_s - t0_s) * 10)) + 1):
        ms = int(round((t0_s + k / 10) * 1000))
        out += [f"CTUN, {ms}, 0, 0, 0, 0, 0.00, 0.02, 0.00, 0.00, 0, 0", f"ATT, {ms}, 0.00, 0.50, 0.00, 0.20, 90, 90"]
    return out


def _write(tmp_path, lines: list[str]):
    p = tmp_path / "rearm.log"
    p.write_text(HEAD + "\n".join(lines) + "\n")
    return read_log(p)


def test_arming_after_a_disarmed_logging_gap_takes_the_clock_where_logging_resumed(tmp_path):
    lines = ["EV, 10", *_rows(10.0, 14.0), "EV, 11", "EV, 10", *_rows(30.0, 34.0), "EV, 11"]
    raw = _write(tmp_path, lines)
    got = [(round(t, 2), armed) for t, armed, _ in raw.arm]
    assert got == [(10.0, True), (14.0, False), (30.0, True), (34.0, False)]


def test_repeated_arming_without_disarming_keeps_the_clock_before_the_gap(tmp_path):
    # No DISARMED before the second ARMED: the silence may be armed time left unlogged, so nothing moves.
    lines = ["EV, 10", *_rows(10.0, 14.0), "EV, 10", *_rows(30.0, 34.0), "EV, 11"]
    raw = _write(tmp_path, lines)
    got = [(round(t, 2), armed) for t, armed, _ in raw.arm]
    assert got == [(10.0, True), (14.0, True), (34.0, False)]


@pytest.mark.parametrize("gap_s", [0.5, 1.5])
def test_short_pauses_are_not_logging_gaps(tmp_path, gap_s):
    # Below LOG_GAP_S the logger was running: the arming keeps the previous clock.
    lines = ["EV, 10", *_rows(10.0, 14.0), "EV, 11", "EV, 10", *_rows(14.0 + gap_s, 18.0), "EV, 11"]
    raw = _write(tmp_path, lines)
    got = [(round(t, 2), armed) for t, armed, _ in raw.arm]
    assert got == [(10.0, True), (14.0, False), (14.0, True), (18.0, False)]
