"""The PDF: text pages laid out with matplotlib, then the figures, one per page (PdfPages, DejaVu Sans).

Fonts are embedded as TrueType (``pdf.fonttype`` 42, set by the caller's rc context) so that the Vietnamese
text stays selectable and extractable; Type 3 fonts would lose the characters' identity.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from uavsim.report import content
from uavsim.report.data import ReportData
from uavsim.report.i18n import pct, t

A4 = (8.27, 11.69)  # inches, portrait
MARGIN = 0.07  # figure fraction
LINE = 0.0155  # figure fraction per 9 pt line on A4
WRAP = 104  # characters per 9 pt line across the text width


class Pager:
    """Flows lines of text down A4 pages, starting a new page when one is full."""

    def __init__(self, pdf: PdfPages) -> None:
        self.pdf = pdf
        self.fig: Figure | None = None
        self.y = 0.0
        self.pages = 0

    def _page(self) -> Figure:
        if self.fig is None or self.y < MARGIN:
            self.flush()
            self.fig = Figure(figsize=A4)
            self.y = 1.0 - MARGIN
        return self.fig

    def flush(self) -> None:
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            self.pages += 1
            self.fig = None

    def text(self, s: str, size: float = 9.0, weight: str = "normal", indent: float = 0.0, colour: str = "#222222",
             wrap: int = WRAP, family: str = "DejaVu Sans") -> None:
        width = max(20, int(wrap * 9.0 / size) - int(indent * 120))
        for line in textwrap.wrap(s, width, break_long_words=True, break_on_hyphens=False) or [""]:
            fig = self._page()
            fig.text(MARGIN + indent, self.y, line, fontsize=size, weight=weight, color=colour, va="top",
                     family=family)
            self.y -= LINE * size / 9.0

    def gap(self, lines: float = 1.0) -> None:
        self.y -= LINE * lines

    def heading(self, s: str, size: float = 13.0) -> None:
        if self.y < 0.2:  # keep a heading with what follows it
            self.y = 0.0
        self.gap(0.6)
        self.text(s, size=size, weight="bold", colour="#1f4e79")
        self.gap(0.4)

    def rows(self, rows: list[tuple[str, str]], split: float = 0.62, size: float = 9.0) -> None:
        """Label / value pairs; a long label wraps so that it never runs into the value column."""
        width = int(WRAP * split / (1.0 - 2 * MARGIN) * 9.0 / size) - 2
        for k, v in rows:
            lines = textwrap.wrap(k, width) or [""]
            fig = self._page()
            fig.text(MARGIN + split, self.y, v, fontsize=size, va="top", weight="bold")
            for line in lines:
                fig = self._page()
                fig.text(MARGIN, self.y, line, fontsize=size, va="top")
                self.y -= LINE * size / 9.0

    def table(self, header: list[str], rows: list[list[str]], cols: list[float], size: float = 7.5) -> None:
        """A table with fixed column positions (figure fractions from the left margin); header on each page."""
        def line(cells: list[str], weight: str) -> None:
            fig = self._page()
            for x, c in zip(cols, cells, strict=True):
                fig.text(MARGIN + x, self.y, c, fontsize=size, va="top", weight=weight)
            self.y -= LINE * size / 9.0

        line(header, "bold")
        for r in rows:
            if self.y - LINE < MARGIN:
                self.y = 0.0
                line(header, "bold")
            line(r, "normal")


def write_pdf(path: str | Path, data: ReportData, lang: str, figures: list[tuple[str, str, Figure]],
              generated: str) -> Path:
    """Text pages (summary, breakdowns, unsafe flights, sources, method), then one page per figure."""
    path = Path(path)
    meta = {"Title": t("title", lang), "Creator": "uavsim", "Subject": t("summary", lang), "CreationDate": None}
    with PdfPages(path, metadata=meta) as pdf:
        p = Pager(pdf)
        p.text(t("title", lang), size=17, weight="bold", colour="#1f4e79")
        p.gap(0.5)
        p.text(t("subtitle", lang, when=generated), size=9, colour="#666666")
        h = content.headline(data, lang)
        p.heading(t("summary", lang))
        p.text(f"{t('safety_rate', lang)}: {pct(h.safety_rate, lang)}", size=15, weight="bold")
        p.gap(0.5)
        p.text(f"{t('lower_bound', lang, conf=pct(data.confidence, lang, 0))}: {pct(h.lower_bound, lang)}",
               size=12, weight="bold")
        p.gap(0.5)
        p.text(h.verdict, size=11, colour="#3d8b5a" if h.meets_target else "#c0392b")
        scope = content.scope_note(data, lang)
        if scope:
            p.text(scope, size=8.5, colour="#666666")
        p.gap()
        p.rows(content.key_figures(data, lang))
        p.heading(t("method", lang))
        for para in content.method_paragraphs(data, lang):
            p.text(para)
            p.gap(0.5)
        p.heading(t("sources", lang))
        for s in content.source_lines(data, lang):
            p.text("• " + s)
        p.heading(t("breakdowns", lang))
        for title, _header, rows in content.strata_tables(data, lang):
            p.text(title, size=10.5, weight="bold")
            p.table(t("col_short", lang).split("|"), [[r[0][:34]] + r[1:] for r in rows],
                    cols=[0.0, 0.25, 0.35, 0.47, 0.56, 0.65, 0.81])
            p.gap()
        p.heading(t("unsafe_table", lang))
        entries = content.unsafe_entries(data, lang)
        if not entries:
            p.text(t("no_unsafe", lang))
        for e in entries:
            p.text(e.title, size=8.5, weight="bold")
            if e.review:
                p.text(e.review, size=8, indent=0.02, colour="#555555")
            for kind, sev, detail, evidence in e.events:
                p.text(f"{kind} ({sev}) {detail}", size=8, indent=0.02)
                if evidence:
                    # Same face as the body: each extra font costs a subset-and-embed pass per PDF.
                    p.text(f"{t('evidence', lang)}: {evidence}", size=7.5, indent=0.04, colour="#444444")
            p.gap(0.4)
        changed = content.review_lines(data, lang)
        if changed:
            p.heading(t("reviews", lang), size=11)
            for r in changed:
                p.text("• " + r, size=8.5)
        p.flush()
        for number, (_name, caption, fig) in enumerate(figures, start=1):
            pdf.savefig(_figure_page(fig, t("figure_caption", lang, n=number, caption=caption)))
    return path


def _figure_page(fig: Figure, caption: str) -> Figure:
    """The figure laid out on an A4 page across the text width, its caption beneath; vector, so that its text
    stays selectable. The figure keeps its aspect; it is changed in place (the HTML's PNGs are made before)."""
    w, h = fig.get_size_inches()
    width = 1.0 - 2 * MARGIN
    height = min(width * A4[0] / A4[1] * h / w, 1.0 - 2 * MARGIN - 0.1)
    top = 1.0 - MARGIN
    fig.set_size_inches(A4)
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.set(rect=(MARGIN, top - height, width, height))
    for k, line in enumerate(textwrap.wrap(caption, WRAP) or [""]):
        fig.text(MARGIN, top - height - 0.015 - k * LINE, line, fontsize=9, va="top", style="italic")
    return fig
