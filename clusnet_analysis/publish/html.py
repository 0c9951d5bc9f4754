"""HTML pages of the report folder: executed notebooks rendered without code, and index pages.

Every string that comes from data, file names or notebooks passes through
`html.escape` before it reaches a page. Index pages carry no timestamps and list
things in a fixed order, so rebuilding them from the same reports gives the same
bytes. nbconvert is imported only inside `render_report_html`: building an index
must stay cheap.
"""
from __future__ import annotations

import functools
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Cell tags notebook authors can use to keep scaffolding out of the HTML report.
REMOVE_CELL_TAGS = ("remove-cell", "remove_cell")
REMOVE_OUTPUT_TAGS = ("remove-output", "remove_output", "hide-output")

# The stock "lab" template loads require.js, MathJax and mermaid from CDNs. Reports
# must open on an offline laptop (and leak no reader's IP to a CDN), so this
# template drops those script blocks; everything else (CSS, images) is inlined.
_OFFLINE_TEMPLATE_NAME = "clusnet_offline.html.j2"
_OFFLINE_TEMPLATE = """\
{%- extends 'index.html.j2' -%}
{%- block extra_css -%}<style>{{ resources.clusnet_css }}</style>{%- endblock extra_css -%}
{%- block body_header -%}{{ super() }}{{ resources.clusnet_nav }}{%- endblock body_header -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<text>.+?)\s*#*\s*$")


def notebook_title(notebook: Mapping, fallback: str) -> str:
    """Text of the first markdown heading in the notebook, or `fallback`."""
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):  # on-disk notebooks may keep source as lines
            source = "".join(source)
        for line in source.splitlines():
            match = _HEADING.match(line)
            if match:
                return match.group("text")
    return fallback


@dataclass(frozen=True)
class Site:
    """What every page shares: the programme's title and the reporting periods (id, label), final last."""

    title: str = "Exchange programme reports"
    periods: tuple[tuple[str, str], ...] = ()
    # report areas (a notebook's metadata "clusnet.area") not built for this programme, with the reason
    left_out: tuple[tuple[str, str], ...] = ()

    def label(self, period: str) -> str:
        return dict(self.periods).get(period, period)

    def page_title(self, report_title: str, period: str) -> str:
        return f"{report_title} – {self.label(period)} – {self.title}"


def report_nav_html(site: Site, period: str, previous: tuple[str, str] | None,
                    following: tuple[str, str] | None) -> str:
    """The bar at the top of a report: every period, the previous and next report, figures, validation."""
    parts = ['<a href="../index.html">All reports</a>']
    periods = []
    for pid, label in site.periods:
        if pid == period:
            periods.append(f'<b aria-current="page" title="{html.escape(label)}">{html.escape(pid)}</b>')
        else:
            periods.append(f'<a href="../{html.escape(pid)}/index.html" title="{html.escape(label)}">'
                           f"{html.escape(pid)}</a>")
    if periods:
        parts.append("Periods: " + " ".join(periods))
    parts.append('<a href="index.html">This period\'s reports</a>')
    if previous:
        parts.append(f'<a href="{html.escape(previous[0])}.html" rel="prev">← {html.escape(previous[1])}</a>')
    if following:
        parts.append(f'<a href="{html.escape(following[0])}.html" rel="next">{html.escape(following[1])} →</a>')
    parts.append('<a href="../figures/index.html">Figures</a>')
    parts.append('<a href="../validation/index.html">Validation</a>')
    return '<nav class="clusnet-nav" aria-label="Reports">' + " · ".join(parts) + "</nav>"


REPORT_CSS = """\
.clusnet-nav { position: sticky; top: 0; z-index: 10; background: #f4f6f8; border-bottom: 1px solid #ccd;
  padding: 0.45rem 1rem; font: 14px/1.5 system-ui, sans-serif; }
.clusnet-nav a { color: #0b5394; }
.clusnet-banner { border: 3px solid #D55E00; background: #fff3e8; color: #7a2e00; font-weight: bold;
  padding: 0.6rem 1rem; margin: 0.6rem 0; }
p.programme { color: #555; margin-top: -0.4rem; }
p.scope, p.city-key, p.note, p.legend, p.more { font-size: 0.9em; color: #333; }
table.key-numbers { border-collapse: collapse; margin: 0.8rem 0; border: 2px solid #0072B2; }
table.key-numbers caption { text-align: left; font-weight: bold; padding: 0.3rem 0; }
table.key-numbers th { text-align: left; padding: 0.3rem 0.8rem; background: #eef5fb; font-weight: normal; }
table.key-numbers td { padding: 0.3rem 0.8rem; }
.scope-name { color: #555; font-size: 0.85em; }
table.clusnet-table { border-collapse: collapse; font-size: 0.9em; }
table.clusnet-table th { background: #eef1f4; text-align: left; vertical-align: bottom; position: sticky; top: 0; }
table.clusnet-table th, table.clusnet-table td { padding: 0.25rem 0.5rem; border-bottom: 1px solid #dde; }
table.clusnet-table td.flag { background: #fde7d9; }
table.clusnet-table .text { text-align: left; }
table.clusnet-table .num { text-align: right; font-variant-numeric: tabular-nums; }
b.flag-word { color: #9c2a00; white-space: nowrap; }
div.scroll { max-height: 28rem; overflow: auto; border: 1px solid #dde; }
figure.clusnet-figure { margin: 1rem 0; }
figure.clusnet-figure figcaption { font-size: 0.85em; color: #444; }
div.provenance { font-size: 0.85em; color: #444; border-top: 1px solid #ccc; margin-top: 1em; }
@media print {
  .clusnet-nav { display: none; }
  div.scroll { max-height: none; overflow: visible; border: none; }
  table.clusnet-table th { position: static; }
  tr, figure { page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  body { font-size: 10pt; }
}
"""


def render_report_html(notebook, title: str, resources_dir: str | Path | None = None, nav: str = "") -> str:
    """Executed notebook -> standalone HTML: outputs and prose only, no code, no prompts.

    Figures are already base64 PNG/SVG in the outputs; markdown images are embedded too,
    so the page is one self-contained file. Text outputs keep nbconvert's escaping.
    """
    import copy

    notebook = copy.deepcopy(notebook)
    notebook.metadata["title"] = title  # the template escapes it into <title>
    for cell in notebook.cells:
        # papermill gives its injected cell a random id; a fixed one keeps the HTML reproducible
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["id"] = "papermill-injected-parameters"

    resources = {"metadata": {"path": str(resources_dir)}} if resources_dir else {}
    resources.update(clusnet_css=REPORT_CSS, clusnet_nav=nav)
    body, _ = _report_exporter().from_notebook_node(notebook, resources=resources)
    return body


@functools.lru_cache(maxsize=1)
def _report_exporter():
    """One exporter per process: compiling its Jinja templates takes longer than rendering a page."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[DictLoader({_OFFLINE_TEMPLATE_NAME: _OFFLINE_TEMPLATE})],
        template_file=_OFFLINE_TEMPLATE_NAME,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(
            remove_cell_tags=set(REMOVE_CELL_TAGS),
            remove_all_outputs_tags=set(REMOVE_OUTPUT_TAGS),
        ),
        enabled=True,
    )
    return exporter


# ---------------------------------------------------------------- index pages

@dataclass(frozen=True)
class ReportLink:
    """One notebook's line on a period index page."""

    notebook: str  # "03_budget"
    title: str
    status: str  # ok | stale | failed | missing
    href: str | None = None  # the report's HTML, relative to the period folder
    failed_href: str | None = None  # the kept failed notebook, for debugging


@dataclass(frozen=True)
class PeriodLink:
    """One period's line on the top index page."""

    period: str
    label: str
    href: str  # the period's index.html, relative to the reports folder
    reports: int
    problems: int  # failed, stale or missing reports
    other_inputs: bool = False  # built from other data or another programme file than the last run


_STATUS_TEXT = {
    "ok": "",
    "stale": "out of date: inputs changed since this report was built",
    "failed": "FAILED: no report, the notebook stopped with an error",
    "missing": "not built yet",
}

_CSS = """\
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; line-height: 1.5; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
.banner { border: 3px solid #D55E00; background: #fff3e8; color: #7a2e00; font-weight: bold;
          font-size: 1.15rem; padding: 0.8rem 1rem; margin: 1rem 0; }
ul.reports { list-style: none; padding: 0; }
ul.reports li { padding: 0.45rem 0; border-bottom: 1px solid #e5e5e5; }
.name { color: #666; font-size: 0.85rem; margin-left: 0.5rem; }
.problem { color: #a33b00; font-weight: bold; }
.left-out { color: #555; }
nav { font-size: 0.9rem; margin-bottom: 1rem; }
"""


def _page(title: str, body_lines: Sequence[str], banner: str | None) -> str:
    """Whole page; `title` and `banner` are escaped here, body lines must already be safe."""
    lines = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>",
        f"<style>\n{_CSS}</style>",
        "</head>",
        "<body>",
    ]
    if banner:
        lines.append(f'<div class="banner" role="note">{html.escape(banner)}</div>')
    lines.extend(body_lines)
    lines.extend(["</body>", "</html>", ""])
    return "\n".join(lines)


def period_index_html(period: str, reports: Sequence[ReportLink], banner: str | None = None,
                      label: str | None = None, site: Site | None = None,
                      left_out: Sequence[tuple[str, str]] = ()) -> str:
    """Index of one period's reports, in notebook order."""
    site = site or Site()
    heading = f"{site.title} – {label or period}"
    others = " · ".join(f'<a href="../{html.escape(p)}/index.html">{html.escape(l)}</a>'
                        for p, l in site.periods if p != period)
    body = [f'<nav><a href="../index.html">All periods</a>{" · " + others if others else ""} · '
            '<a href="../figures/index.html">Figures</a> · <a href="../validation/index.html">Validation</a></nav>',
            f"<h1>{html.escape(heading)}</h1>"]
    body.append('<ul class="reports">')
    for report in reports:
        name = f'<span class="name">{html.escape(report.notebook)}</span>'
        if report.href and report.status in ("ok", "stale"):
            text = f'<a href="{html.escape(report.href)}">{html.escape(report.title)}</a>'
        else:
            text = html.escape(report.title)
        problem = _STATUS_TEXT.get(report.status, report.status)
        if problem:
            text += f' <span class="problem">– {html.escape(problem)}</span>'
        if report.failed_href:
            text += f' (<a href="{html.escape(report.failed_href)}">failed notebook</a>)'
        body.append(f"<li>{text}{name}</li>")
    for title, reason in left_out:
        body.append(f'<li class="left-out">{html.escape(title)} <span class="note">– {html.escape(reason)}</span></li>')
    body.append("</ul>")
    return _page(heading, body, banner)


def top_index_html(periods: Sequence[PeriodLink], banner: str | None = None, site: Site | None = None) -> str:
    """Index of all periods that have reports."""
    site_title = (site or Site()).title
    body = ['<nav><a href="figures/index.html">Figures</a> · <a href="validation/index.html">Validation</a></nav>',
            f"<h1>{html.escape(site_title)}</h1>", '<ul class="reports">']
    others = [p for p in periods if p.other_inputs]
    periods = [p for p in periods if not p.other_inputs]
    for period in periods:
        count = f"{period.reports} report{'s' if period.reports != 1 else ''}"
        text = f'<a href="{html.escape(period.href)}">{html.escape(period.label)}</a> – {count}'
        if period.problems:
            text += f' <span class="problem">– {period.problems} not up to date or failed</span>'
        body.append(f"<li>{text}</li>")
    body.append("</ul>")
    if not periods:
        body.append("<p>No reports yet.</p>")
    if others:
        body.append("<h2>Built from other data</h2><p>These folders were built from another data set, another "
                    "programme file, or data that has changed since. They are not reports of the data above: "
                    "run the reports again for them, or remove the folders.</p><ul class=\"reports\">")
        body += [f'<li class="left-out"><a href="{html.escape(p.href)}">{html.escape(p.label)}</a></li>'
                 for p in others]
        body.append("</ul>")
    return _page(site_title, body, banner)
