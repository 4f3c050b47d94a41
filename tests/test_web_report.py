"""The report the workbench downloads: its defects of issue 16 fixed (axes, trend, words, map, targets)."""

from __future__ import annotations

import itertools

import matplotlib
import numpy as np
import pytest

from uavsim.records import Flight
from uavsim.report.content import strata_tables, unsafe_entries
from uavsim.report.data import gather, reader_name
from uavsim.report.figures import fig_cumulative, fig_monthly, periods
from uavsim.report.i18n import event_text, pct
from uavsim.report.maps import fig_map
from uavsim.report.sample import sample_flights
from uavsim.store import Store

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    db = tmp_path_factory.mktemp("rep") / "s.db"
    flights = sample_flights(150, seed=4, unsafe_rate=0.05)
    old = [Flight(id=f"old-{i}", source="log", source_ref=f"{'a' * 64}:{i}", start_utc=f"2014-0{1 + i}-10T03:00:00Z",
                  duration_s=300.0, outcome="safe", severity="none") for i in range(2)]
    with Store(db) as s:
        s.add_run("r", flights)
        s.add_file("a" * 64, "old.bin", old)
    return gather(db, n_boot=50)


def test_percentages_never_wrap_between_number_and_sign():
    assert pct(1.0, "vi") == "100,00\u00a0%" and pct(0.5, "en", 0) == "50\u00a0%"


def test_editors_notes_never_reach_readers():
    assert reader_name("Bản Cu macadamia area (placeholder: town)") == "Bản Cu macadamia area"
    assert reader_name("Điểm thu gom chè Sính Phình (giả định)") == "Điểm thu gom chè Sính Phình"
    assert reader_name("Cảng hàng không Điện Biên (VVDB/DIN)") == "Cảng hàng không Điện Biên (VVDB/DIN)"


def test_trend_breaks_the_time_axis_at_long_gaps(data):
    x = np.array(["2014-01-01", "2014-02-01", "2026-06-01", "2026-07-01", "2026-09-01"], dtype="datetime64[D]")
    assert periods(x) == [slice(0, 2), slice(2, 5)]
    fig = fig_monthly(data, "en")
    rate_axes = [ax for ax in fig.axes if ax.get_ylabel() == "Safety rate (%)" or (ax.lines and not ax.patches)]
    # two stretches (2014; the sandbox year), each with its rate panel; markers only, never joined by a line
    assert len([ax for ax in fig.axes if ax.patches]) == 2
    for ax in rate_axes:
        for line in ax.lines:
            if len(line.get_xdata()) > 1 and line.get_linestyle() != ":":
                assert line.get_linestyle() in ("None", "none", "")


def test_cumulative_axis_holds_every_plotted_bound(data):
    fig = fig_cumulative(data, "en")
    ax = fig.axes[0]
    lo, hi = ax.get_ylim()
    for line in ax.lines:
        y = np.asarray(line.get_ydata(), dtype=float)
        assert lo <= np.nanmin(y) and np.nanmax(y) <= hi
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(f"after {len(data.dated):,} dated flights" in x for x in labels)


def test_a_group_short_of_flights_reads_not_yet_shown(data):
    for lang, word in (("en", "not yet shown"), ("vi", "chưa chứng minh")):
        rows = [r for _, _, rs in strata_tables(data, lang) for r in rs]
        assert {r[-1] for r in rows} <= {word, "shown" if lang == "en" else "đã chứng minh"}
        assert any(r[-1] == word and r[2] == "0" for r in rows)  # no unsafe flight, not yet enough flights


def test_vietnamese_explains_events_in_vietnamese_and_quotes_evidence_as_recorded(data):
    entries = unsafe_entries(data, "vi")
    assert entries
    by_id = {f.id: f for f in data.flights}
    for e in entries:
        recorded = {ev.evidence for ev in by_id[e.flight.id].events}
        for kind, _sev, detail, evidence in e.events:
            assert " lúc t=" in detail and ": " in kind
            assert evidence in recorded
    assert event_text("CRASH", 12.5, "ground impact", 70.0, 60.0, "vi") == \
        "rơi / va chạm mặt đất lúc t=12,5 s; giá trị 70,0, ngưỡng 60,0"
    assert event_text("CRASH", 12.5, "ground impact", 70.0, 60.0, "en") == "t=12.5 s: ground impact"


def test_map_labels_do_not_overlap(data):
    if data.context is None or data.terrain is None:
        pytest.skip("scenario or terrain unavailable")
    fig = fig_map(data, "vi")
    renderer = fig.canvas.get_renderer()
    from matplotlib.text import Annotation

    boxes = [a.get_window_extent(renderer) for a in fig.axes[0].texts if isinstance(a, Annotation)]
    assert len(boxes) >= 3
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    names = " ".join(a.get_text() for a in fig.axes[0].texts)
    assert "placeholder" not in names and "giả định" not in names and "(assumed)" not in names
