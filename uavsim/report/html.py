"""One self-contained HTML file: inline CSS, figures embedded as base64 PNG, no external fetch.

The headline numbers carry their exact values in ``data-value`` attributes (Python float repr, the same text
``uavsim stats --json`` prints) so that scripts and tests can read them back without parsing formatted text.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from uavsim.report import content
from uavsim.report.data import ReportData
from uavsim.report.i18n import pct, t

CSS = """
body{font-family:"DejaVu Sans",system-ui,sans-serif;max-width:1180px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #1f4e79;padding-bottom:.2em;margin-top:2em}
.sub{color:#666}.headline{display:flex;gap:2em;flex-wrap:wrap;margin:1em 0}
.card{background:#f4f7fa;border-left:6px solid #1f4e79;padding:.8em 1.2em}.card .v{font-size:2em;font-weight:bold}
.card.ok{border-color:#3d8b5a}.card.no{border-color:#c0392b}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:.25em .6em;
vertical-align:top}th{background:#eef2f6;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1.2em 0}figure img{max-width:100%;border:1px solid #ddd}.ev{font-family:"DejaVu Sans Mono",monospace;
font-size:.85em;word-break:break-word}nav{margin:.6em 0;font-size:.9em}nav a{color:#1f4e79}
"""


def _table(header: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td{' class=n' if i in numeric else ''}>{escape(c)}</td>" for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _unsafe_section(data: ReportData, lang: str) -> str:
    entries = content.unsafe_entries(data, lang)
    if not entries:
        return f"<p>{escape(t('no_unsafe', lang))}</p>"
    header = [t("event", lang), t("severity", lang), t("detail", lang), t("evidence", lang)]
    parts = []
    for e in entries:
        rows = "".join(
            f"<tr><td>{escape(k)}</td><td>{escape(s)}</td><td>{escape(d)}</td><td class=ev>{escape(ev)}</td></tr>"
            for k, s, d, ev in e.events
        )
        review = f"<p><em>{escape(e.review)}</em></p>" if e.review else ""
        parts.append(
            f"<h4 id=\"flight-{escape(e.flight.id)}\">{escape(e.title)}</h4>{review}"
            f"<table><thead><tr>{''.join(f'<th>{escape(h)}</th>' for h in header)}</tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    return "".join(parts)


def render_html(data: ReportData, lang: str, figures: list[tuple[str, str, bytes]], generated: str) -> str:
    """The report page. ``figures`` holds (name, caption, PNG bytes)."""
    h = content.headline(data, lang)
    conf = pct(data.confidence, lang, 0)
    kv = "".join(f"<tr><th>{escape(k)}</th><td class=n>{escape(v)}</td></tr>"
                 for k, v in content.key_figures(data, lang))
    figs = "".join(
        f"<figure id=\"fig-{escape(name)}\"><img alt=\"{escape(cap)}\" "
        f"src=\"data:image/png;base64,{base64.b64encode(png).decode('ascii')}\"><figcaption>{escape(cap)}"
        f"</figcaption></figure>"
        for name, cap, png in figures
    )
    strata = "".join(f"<h3>{escape(title)}</h3>{_table(header, rows, {1, 2, 3, 4})}"
                     for title, header, rows in content.strata_tables(data, lang))
    sources = "".join(f"<li>{escape(s)}</li>" for s in content.source_lines(data, lang))
    changed = content.review_lines(data, lang)
    reviews = (f"<h3 id=\"reviews\">{escape(t('reviews', lang))}</h3><ul>"
               + "".join(f"<li>{escape(r)}</li>" for r in changed) + "</ul>") if changed else ""
    method = "".join(f"<p>{escape(p)}</p>" for p in content.method_paragraphs(data, lang))
    nav = " · ".join(f"<a href=\"#{i}\">{escape(t(k, lang))}</a>" for i, k in (
        ("summary", "summary"), ("figures", "figures"), ("breakdowns", "breakdowns"), ("unsafe", "unsafe_table"),
        ("sources", "sources"), ("method", "method")))
    scope = content.scope_note(data, lang)
    note = f"<p class=\"sub\" id=\"scope\">{escape(scope)}</p>" if scope else ""
    status = "ok" if h.meets_target else "no"
    rate_repr = "" if h.safety_rate is None else repr(float(h.safety_rate))
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{escape(t('title', lang))}</title><style>{CSS}</style></head><body>
<h1>{escape(t('title', lang))}</h1>
<p class="sub">{escape(t('subtitle', lang, when=generated))}</p>
<nav>{nav}</nav>
<h2 id="summary">{escape(t('summary', lang))}</h2>
<div class="headline">
<div class="card {status}"><div>{escape(t('safety_rate', lang))}</div>
<div class="v" id="safety-rate" data-value="{rate_repr}">{escape(pct(h.safety_rate, lang))}</div></div>
<div class="card {status}"><div>{escape(t('lower_bound', lang, conf=conf))}</div>
<div class="v" id="lower-bound" data-value="{float(h.lower_bound)!r}">{escape(pct(h.lower_bound, lang))}</div></div>
<div class="card {status}"><div>{escape(t('target', lang))}</div>
<div class="v" id="target" data-value="{float(data.target)!r}">{escape(pct(data.target, lang, 0))}</div>
<div id="verdict" data-meets="{str(h.meets_target).lower()}">{escape(h.verdict)}</div></div>
</div>
{note}<table class="kv">{kv}</table>
<h2 id="figures">{escape(t('figures', lang))}</h2>{figs}
<h2 id="breakdowns">{escape(t('breakdowns', lang))}</h2>{strata}
<h2 id="unsafe">{escape(t('unsafe_table', lang))}</h2>{_unsafe_section(data, lang)}{reviews}
<h2 id="sources">{escape(t('sources', lang))}</h2><ul>{sources}</ul>
<h2 id="method">{escape(t('method', lang))}</h2>{method}
</body></html>
"""


def write_html(path: str | Path, data: ReportData, lang: str, figures: list[tuple[str, str, bytes]],
               generated: str) -> Path:
    path = Path(path)
    path.write_text(render_html(data, lang, figures, generated), encoding="utf-8")
    return path
