"""`uavsim report`: self-contained HTML whose headline equals `uavsim stats --json`, options, errors."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
import unicodedata

import matplotlib
import numpy as np
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from uavsim.cli.main import cli
from uavsim.records import Flight
from uavsim.report import build_report, split_choices
from uavsim.report.i18n import pct
from uavsim.report.sample import sample_flights
from uavsim.store import Store


def _fill(path, n: int, seed: int, both_sources: bool = True) -> list[Flight]:
    flights = sample_flights(n, seed=seed, unsafe_rate=0.04, points=30, log_fraction=0.3 if both_sources else 0.0)
    # One flight without a start time (logs without GPS time have none).
    flights.append(Flight(id="undated-1", source="sim", source_ref="x:1", mission_type="test", outcome="safe"))
    with Store(path) as s:
        s.add_run("run-a", [f for f in flights if f.source == "sim"], scenario="missions/dienbien", seed=seed)
        logs = [f for f in flights if f.source == "log"]
        if logs:
            s.add_file("cd" * 32, "logs/day1.tlog", logs)
        unsafe = [f for f in flights if f.outcome == "unsafe"]
        if unsafe:
            s.add_review(unsafe[0].id, "analyst-1", unsafe[0].severity, "unsafe", "confirmed from video")
        if len(unsafe) > 1:  # an overturned verdict: the report counts the review and lists the change
            s.add_review(unsafe[1].id, "analyst-2", "incident", "safe", "GPS glitch; landed normally")
            unsafe[1].outcome, unsafe[1].severity = "safe", "incident"
    return flights


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    db = root / "s.db"
    flights = _fill(db, 160, seed=5)
    res = CliRunner().invoke(cli, ["report", "--db", str(db), "--out", str(root / "out"), "--dpi", "50",
                                   "--json"])
    assert res.exit_code == 0, res.output
    return db, flights, json.loads(res.stdout), root / "out"


def _data_value(page: str, ident: str) -> float:
    m = re.search(rf'id="{ident}" data-value="([^"]+)"', page)
    assert m, f"no {ident} in the page"
    return float(m.group(1))


def test_headline_equals_stats_json(built):
    db, _, doc, out = built
    stats = json.loads(CliRunner().invoke(cli, ["stats", "--db", str(db), "--json"]).stdout)
    for lang in ("vi", "en"):
        page = (out / f"report-{lang}.html").read_text(encoding="utf-8")
        assert _data_value(page, "safety-rate") == stats["safety_rate"]
        assert _data_value(page, "lower-bound") == stats["lower_bound"]
    assert doc["safety_rate"] == stats["safety_rate"]
    assert doc["lower_bound"] == stats["lower_bound"]


def test_html_is_self_contained_with_every_figure(built):
    _, _, doc, out = built
    assert sorted(doc["files"]) == sorted(str(out / f"report-{lang}.{ext}") for lang in ("vi", "en")
                                          for ext in ("html", "pdf"))
    page = (out / "report-vi.html").read_text(encoding="utf-8")
    assert not re.search(r'(src|href)="(https?:)?//', page)
    for name in ("cumulative", "outcomes", "pareto", "monthly", "map", "sim_vs_real"):
        assert f'id="fig-{name}"' in page
    assert page.count("data:image/png;base64,") == 6
    assert "Tỷ lệ an toàn" in page
    assert "chuyến bay" in page
    assert "Safety rate" in (out / "report-en.html").read_text(encoding="utf-8")


def test_every_unsafe_flight_is_listed_with_its_evidence(built):
    _, flights, _, out = built
    page = html.unescape((out / "report-en.html").read_text(encoding="utf-8"))
    unsafe = [f for f in flights if f.outcome == "unsafe"]
    assert unsafe
    for f in unsafe:
        assert f'id="flight-{f.id}"' in page
        for e in f.events:
            if e.severity in ("serious_incident", "accident"):
                assert e.evidence in page
    assert "confirmed from video" in page  # the analyst's review
    overturned = re.search(r"([\w.-]+): automatic (accident|serious incident) → reviewed incident \(analyst-2, ", page)
    assert overturned
    assert f'id="flight-{overturned.group(1)}"' not in page  # counted safe, so not in the unsafe table
    assert "1 flights without a start time" in page
    assert "Most unsafe flights out of 6,000 that still show 99\u00a0%</th><td class=n>47<" in page


def test_sources_name_the_run_and_the_log_file(built):
    _, _, _, out = built
    page = html.unescape((out / "report-en.html").read_text(encoding="utf-8"))
    assert "run-a (missions/dienbien, seed 5)" in page
    assert "files imported: 1" in page


def test_sim_vs_real_only_when_both_sources(tmp_path):
    db = tmp_path / "sim.db"
    _fill(db, 40, seed=9, both_sources=False)
    res = build_report(db, tmp_path / "o", ["en"], ["html,png"], terrain=False, n_boot=100, dpi=50)
    page = (tmp_path / "o" / "report-en.html").read_text(encoding="utf-8")
    assert 'id="fig-sim_vs_real"' not in page
    pngs = sorted(p.name for p in (tmp_path / "o" / "figures").iterdir())
    assert pngs == [f"en-{n}.png" for n in ("cumulative", "map", "monthly", "outcomes", "pareto")]
    assert res["files"][0] == str(tmp_path / "o" / "report-en.html")
    assert len(res["files"]) == 6
    assert res["tracks"] == 40  # the undated flight has no telemetry


def test_language_and_format_choices():
    assert split_choices(["vi,en"], ("vi", "en"), "--lang") == ["vi", "en"]
    assert split_choices(["en", "vi", "en"], ("vi", "en"), "--lang") == ["en", "vi"]
    assert split_choices([], ("html", "pdf", "png"), "--format", ("html", "pdf")) == ["html", "pdf"]


def test_bad_language_is_a_usage_error_and_empty_store_exits_1(tmp_path):
    res = CliRunner().invoke(cli, ["report", "--db", "x.db", "--out", str(tmp_path / "o"), "--lang", "fr"])
    assert res.exit_code == 2
    Store(tmp_path / "empty.db").close()
    res = CliRunner().invoke(cli, ["report", "--db", str(tmp_path / "empty.db"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 1
    assert "holds no flights" in res.stderr
    assert not (tmp_path / "o").exists()


def test_max_tracks_keeps_every_unsafe_flight(tmp_path):
    db = tmp_path / "s.db"
    flights = _fill(db, 80, seed=3)
    from uavsim.report.data import gather

    data = gather(db, n_boot=50, max_tracks=10, terrain=False)
    n_unsafe = sum(f.outcome == "unsafe" for f in flights)
    assert len(data.tracks) == 10
    assert sum(data.tracks.unsafe) == min(10, n_unsafe)


def test_importing_the_report_does_not_touch_pyplot():
    code = ("import sys, uavsim.report, uavsim.report.figures, uavsim.report.maps, uavsim.report.pdf;"
            "print('matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _pdf_text(path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_pdf_text_has_vietnamese_diacritics_and_the_headline(built):
    _, _, doc, out = built
    vi = unicodedata.normalize("NFC", _pdf_text(out / "report-vi.pdf"))
    for words in ("Tỷ lệ an toàn", "chuyến bay", "Cận dưới một phía", "Phương pháp", "Nguồn dữ liệu",
                  "Các chuyến bay không an toàn và bằng chứng", "địa hình tổng hợp"):
        assert words in vi, words
    assert pct(doc["safety_rate"], "vi") in vi  # "99,38 %": Vietnamese decimal comma
    assert pct(doc["lower_bound"], "vi") in vi
    en = _pdf_text(out / "report-en.pdf")
    assert f"Safety rate: {pct(doc['safety_rate'], 'en')}" in en
    assert "Unsafe flights and their evidence" in en


def test_pdf_has_text_pages_then_one_page_per_figure(built):
    _, _, _, out = built
    reader = PdfReader(out / "report-en.pdf")
    sizes = [(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages]
    assert set(sizes) == {(595, 842)}  # every page A4, figure pages included
    captions = [p.extract_text().strip() for p in reader.pages]
    figure_pages = [i for i, c in enumerate(captions) if re.search(r"^Figure \d+\. ", c, re.M)]
    n_text = figure_pages[0]
    assert n_text >= 2
    assert figure_pages == list(range(n_text, len(sizes)))  # text pages, then one captioned page per figure
    assert len(figure_pages) == 6  # six figures, sim vs real included
    assert re.search(r"^Figure 1\. Cumulative safety rate", captions[n_text], re.M)
    assert reader.metadata.title == "Flight safety report: Điện Biên UAV sandbox"


def test_degenerate_store_still_builds(tmp_path):
    """Undated flights without tracks or events (old logs): every figure says 'No data' instead of failing."""
    db = tmp_path / "s.db"
    flights = [Flight(id=f"u{i}", source="log", source_ref=f"{'e' * 64}:{i}", outcome="unsafe" if i == 0 else "safe",
                      severity="accident" if i == 0 else "none") for i in range(4)]
    with Store(db) as s:
        s.add_file("e" * 64, "old.log", flights)
    before = dict(matplotlib.rcParams)
    res = build_report(db, tmp_path / "o", ["vi"], ["html", "pdf"], terrain=False, n_boot=20, dpi=50)
    assert dict(matplotlib.rcParams) == before  # fonts and PDF settings applied in a context only
    assert (res["flights"], res["unsafe"], res["tracks"]) == (4, 1, 0)
    page = (tmp_path / "o" / "report-vi.html").read_text(encoding="utf-8")
    assert _data_value(page, "safety-rate") == 0.75
    assert 'id="flight-u0"' in page
    assert "old.log #0" in page
    text = _pdf_text(tmp_path / "o" / "report-vi.pdf")
    assert "Không có dữ liệu" in text  # the time charts and the map have nothing to draw


def test_pdf_pages_render_as_images(built, tmp_path):
    """Every page of both PDFs rasterises (pdftoppm) and carries ink; skipped without poppler."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) not installed")
    from matplotlib.image import imread

    for lang in ("vi", "en"):
        pdf = built[3] / f"report-{lang}.pdf"
        subprocess.run(["pdftoppm", "-r", "20", "-png", str(pdf), str(tmp_path / lang)], check=True)
        pages = sorted(tmp_path.glob(f"{lang}-*.png"))
        assert len(pages) == len(PdfReader(pdf).pages)
        for page in pages:
            img = imread(page)[..., :3]
            assert (img.mean(axis=2) < 0.5).mean() > 0.001, f"{page.name} is blank"


def test_start_times_in_any_iso_form_place_on_the_time_axis():
    from uavsim.report.figures import _utc

    assert _utc("2026-06-23T07:00Z") == np.datetime64("2026-06-23T07:00:00")
    assert _utc("2014-01-06T06:19:48.80Z") == np.datetime64("2014-01-06T06:19:48")
    assert _utc("2026-06-23T07:00:00+07:00") == np.datetime64("2026-06-23T00:00:00")


def test_many_aircraft_pool_into_other(tmp_path):
    from uavsim.report.data import gather
    from uavsim.report.figures import MAX_GROUPS, fig_outcomes

    db = tmp_path / "s.db"
    flights = sample_flights(120, seed=4, points=5, aircraft=30)
    with Store(db) as s:
        s.add_run("r", flights)
    data = gather(db, n_boot=20, terrain=False)
    n_groups = len(data.strata["aircraft"])
    assert n_groups > MAX_GROUPS
    labels = [x.get_text() for x in fig_outcomes(data, "en").axes[2].get_yticklabels()]
    assert len(labels) == MAX_GROUPS
    pooled = [x for x in labels if x.startswith("other")]
    assert pooled == [f"other ({n_groups - MAX_GROUPS + 1})  (n={sum(g.flights for g in data.strata['aircraft'][MAX_GROUPS - 1:])}, "
                      f"{sum(g.unsafe for g in data.strata['aircraft'][MAX_GROUPS - 1:])})"]


def test_report_of_one_source_matches_stats_of_that_source(built, tmp_path):
    db = built[0]
    page = (built[3] / "report-en.html").read_text(encoding="utf-8")
    assert "the headline pools both" in page  # the full report says it mixes sources
    res = build_report(db, tmp_path / "o", ["en"], ["html"], terrain=False, n_boot=50, dpi=50, source="log")
    stats = json.loads(CliRunner().invoke(cli, ["stats", "--db", str(db), "--source", "log", "--json"]).stdout)
    page = (tmp_path / "o" / "report-en.html").read_text(encoding="utf-8")
    assert _data_value(page, "safety-rate") == stats["safety_rate"]
    assert res["flights"] == stats["flights"] < built[2]["flights"]
    assert "This report covers real (logs) flights only." in page
