"""A '$' in a file name, a log message or a review renders as itself (matplotlib mathtext off), and a
failed report leaves no partial PDF behind (issue 10, item 9)."""

from __future__ import annotations

import shutil
from io import BytesIO
from pathlib import Path

import matplotlib
import pytest
from matplotlib.figure import Figure

from uavsim.logs.ingest import ingest
from uavsim.report import RC, build_report
from uavsim.store import Store

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
NASTY = r"$x^$ \frac{1}{"


def test_mathtext_would_fail_on_such_text():
    """What the report guards against: with math parsing on, this text cannot be drawn."""
    fig = Figure()
    fig.text(0.5, 0.5, NASTY)
    with pytest.raises(ValueError):
        fig.savefig(BytesIO(), format="pdf")


def test_report_with_dollars_in_names_and_messages_builds_and_leaves_no_part_file(tmp_path):
    src = tmp_path / f"{NASTY}.tlog"
    shutil.copy(DATA / "vehicle_gcs_camera.tlog", src)
    db = tmp_path / "s.db"
    with Store(db) as store:
        [res] = ingest([src], store)
        store.add_review(res.flights[1].id, "an$alyst$", "incident", "safe", f"re-read the log: {NASTY}")
    out = tmp_path / "rep"
    result = build_report(db, out, langs=("en",), formats=("pdf", "html"), terrain=False, n_boot=50)
    pdf = out / "report-en.pdf"
    assert str(pdf) in result["files"] and pdf.stat().st_size > 1000
    assert "$x^$ \\frac{1}{" in (out / "report-en.html").read_text(encoding="utf-8")  # escaped HTML keeps it
    assert list(out.glob("*.part")) == []
    assert RC["text.parse_math"] is False
    with matplotlib.rc_context(RC):
        fig = Figure()
        fig.text(0.5, 0.5, NASTY)
        fig.savefig(BytesIO(), format="pdf")  # drawn as plain text


def test_a_failing_pdf_leaves_nothing_behind(tmp_path, monkeypatch):
    from uavsim.report import pdf as pdf_mod

    def broken(path, *a, **k):
        Path(path).write_bytes(b"%PDF-1.4 half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(pdf_mod, "_write_pdf", broken)
    target = tmp_path / "r.pdf"
    with pytest.raises(RuntimeError):
        pdf_mod.write_pdf(target, None, "en", [], "now")
    assert list(tmp_path.iterdir()) == []
