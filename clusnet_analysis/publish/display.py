"""Showing a section in a notebook: header, key numbers, tables, figures, provenance.

Every value from the data is HTML-escaped. Tables are never cut: long ones
scroll on screen and print in full; a table of more than
:data:`SUMMARY_ROWS` rows shows its first rows and links to its full CSV.
Figures are embedded as the very PNG bytes ``clusnet figures`` writes, with
alt text. The notebooks call these functions and nothing else.
"""
from __future__ import annotations

import base64
import html
import math
from pathlib import Path

import pandas as pd

from clusnet_analysis import __version__
from clusnet_analysis.publish.files import atomic_write_bytes, json_text
from clusnet_analysis.sections.base import FigureSpec, Section, Table, format_value
from clusnet_analysis.sections.view import PeriodView

SCROLL_ROWS = 20      # more rows than this: a scroll box on screen (printed in full)
SUMMARY_ROWS = 500    # more rows than this: the first rows on the page, the rest in a CSV
SHOWN_WHEN_SUMMARISED = 25
TABLES_FOLDER = "tables"


# ---------------------------------------------------------------- low level
def _display(obj) -> None:
    try:
        from IPython.display import display
    except ImportError:  # plain Python: nothing to show
        return
    display(obj)


def _html(text: str):
    from IPython.display import HTML

    return HTML(text)


def esc(value) -> str:
    """HTML-escaped text of any value (data never becomes markup)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def say(template: str, **values) -> None:
    """A paragraph; ``{name}`` placeholders are filled with escaped values (the template may use <b>, <i>)."""
    _display(_html("<p>" + template.format(**{k: esc(v) for k, v in values.items()}) + "</p>"))


def heading(text: str, level: int = 2) -> None:
    _display(_html(f"<h{level}>{esc(text)}</h{level}>"))


def output_folder(view: PeriodView) -> Path | None:
    """The report's folder in a batch run (where its headline file goes); None interactively."""
    path = view.parameters.get("headline_path")
    return Path(path).parent if path else None


# ---------------------------------------------------------------- page header
def page_title(view: PeriodView, section: Section) -> str:
    return f"{section.title} – {view.label}"


def banner_lines(view: PeriodView) -> list[str]:
    """The warnings every page carries: synthetic data, excluded rows, personal data."""
    ds = view.ds
    lines = []
    if ds.synthetic:
        lines.append("SYNTHETIC SAMPLE DATA: generated for demonstration, not real programme records.")
    if ds.error_count:
        lines.append(f"INCOMPLETE DATA: {ds.quarantined_count} row(s) with {ds.error_count} schema error(s) were "
                     "excluded from every figure in this report (see the data quality report).")
    if ds.show_names:
        lines.append("CONTAINS PERSONAL DATA: officer names shown. Internal use only; do not publish.")
    return lines


def scope_note(view: PeriodView) -> str:
    if view.is_final:
        return ("The final report covers the whole programme and shows the reporting periods side by side ("
                + ", ".join(view.programme.period_ids) + "), then records dated in no period (such as a visit "
                "after the window) apart, then the total. Counted by the period the visit started in.")
    first = view.periods_covered[0]
    return (f"A snapshot at the end of {view.period}: only records dated up to {view.end_date:%d %B %Y}. "
            f"<i>This period</i> = visits that started in {view.period}; <i>cumulative</i> = from {first} to the "
            f"end of {view.period}. Statuses (draft, submitted, validated) are today's, not those at the end of "
            "the period.")


def city_key_html(view: PeriodView) -> str:
    items = [f"<b>{esc(code)}</b> {esc(name)}" + ("" if partner else " <i>(not a partner)</i>")
             for code, name, partner in view.city_key()]
    return '<p class="city-key"><b>City codes:</b> ' + " · ".join(items) + "</p>"


def header(view: PeriodView, section: Section) -> None:
    """Title, programme, banners, what the scopes mean, the city key."""
    parts = [f"<h1>{esc(page_title(view, section))}</h1>",
             f'<p class="programme">{esc(getattr(view.programme, "title", None) or view.programme.name)}</p>']
    parts += [f'<div class="clusnet-banner" role="note">{esc(line)}</div>' for line in banner_lines(view)]
    parts.append(f'<p class="scope">{scope_note(view)}</p>')
    parts.append(city_key_html(view))
    _display(_html("\n".join(parts)))


# ---------------------------------------------------------------- key numbers
def key_numbers(section: Section) -> None:
    """The section's key numbers as a box: one line per number, its value per scope."""
    by_id: dict[str, list] = {}
    for k in section.key_numbers:
        by_id.setdefault(k.id, []).append(k)
    rows = []
    for numbers in by_id.values():
        values = " · ".join(f"<b>{esc(k.text())}</b> <span class='scope-name'>{esc(k.scope_label)}</span>"
                            for k in numbers)
        rows.append(f"<tr><th>{esc(numbers[0].label)}</th><td>{values}</td></tr>")
    _display(_html('<table class="key-numbers"><caption>Key numbers</caption>' + "".join(rows) + "</table>"))


def readings(section: Section) -> None:
    for text in section.readings:
        _display(_html(f'<p class="reading"><b>What this shows:</b> {esc(text)}</p>'))


# ---------------------------------------------------------------- tables
def _is_missing(value) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def format_column(values: pd.Series, percent: bool = False) -> list[str]:
    """A column's cells as a reader sees them: 1,234.56 · 1,234 · 42 % · 2010-03-04 · yes/no; blanks for missing."""
    if percent:
        return ["" if _is_missing(v) else f"{100 * float(v):,.0f} %" for v in values]
    if pd.api.types.is_bool_dtype(values):
        return ["" if _is_missing(v) else ("yes" if v else "no") for v in values]
    if pd.api.types.is_integer_dtype(values):
        return ["" if _is_missing(v) else f"{int(v):,}" for v in values]
    if pd.api.types.is_float_dtype(values):
        whole = values.dropna()
        if len(whole) and (whole == whole.round()).all() and whole.abs().max() < 1e15 and values.name and \
                "eur" not in str(values.name).lower():
            return ["" if _is_missing(v) else f"{int(v):,}" for v in values]
        return ["" if _is_missing(v) else f"{v:,.2f}" for v in values]
    if pd.api.types.is_datetime64_any_dtype(values):
        return ["" if _is_missing(v) else v.strftime("%Y-%m-%d") for v in values]
    return ["" if _is_missing(v) else str(v) for v in values]


def table_html(table: Table, rows: int | None = None) -> str:
    """The table as escaped HTML with human headers; highlighted cells carry their word."""
    frame = table.frame if rows is None else table.frame.head(rows)
    reader = table.for_reader()
    headers = ([esc(reader.index.name or "")] if table.index else []) + [esc(c) for c in reader.columns]
    columns = [format_column(frame.iloc[:, i], frame.columns[i] in table.percent_columns)
               for i in range(frame.shape[1])]
    numeric = [pd.api.types.is_numeric_dtype(frame.iloc[:, i]) and not pd.api.types.is_bool_dtype(frame.iloc[:, i])
               for i in range(frame.shape[1])]
    marks = {h.column: h for h in table.highlights}
    index_values = [esc(v) for v in frame.index] if table.index else []
    body = []
    for position in range(len(frame)):
        cells = [f"<th>{index_values[position]}</th>"] if table.index else []
        for i, column in enumerate(frame.columns):
            text = esc(columns[i][position])
            mark = marks.get(column)
            css = "num" if numeric[i] else "text"
            if mark is not None and mark.mask[position]:
                cells.append(f'<td class="{css} flag">{text} <b class="flag-word">▲ {esc(mark.word)}</b></td>')
            else:
                cells.append(f'<td class="{css}">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    head_css = (["text"] if table.index else []) + ["num" if n else "text" for n in numeric]
    head = "<tr>" + "".join(f'<th class="{c}">{h}</th>' for c, h in zip(head_css, headers)) + "</tr>"
    return f'<table class="clusnet-table"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'


def _tables_dir(view: PeriodView | None) -> Path | None:
    folder = output_folder(view) if view is not None else None
    return folder / TABLES_FOLDER if folder else None


def show_table(table: Table, view: PeriodView | None = None) -> None:
    """A complete table: plain, in a scroll box, or summarised with a link to its full CSV."""
    n = len(table.frame)
    parts = [f'<p class="table-title"><b>{esc(table.title)}</b> <span class="rows">({n:,} row'
             f'{"" if n == 1 else "s"})</span></p>']
    if n == 0:
        parts.append("<p><i>Nothing to show.</i></p>")
    elif n > SUMMARY_ROWS:
        folder = _tables_dir(view)
        parts.append(table_html(table, SHOWN_WHEN_SUMMARISED))
        if folder is not None:
            from clusnet_analysis.publish.tables import write_table_csv

            path = write_table_csv(table, folder)
            parts.append(f'<p class="more">The first {SHOWN_WHEN_SUMMARISED} of {n:,} rows. The whole table: '
                         f'<a href="{TABLES_FOLDER}/{esc(path.name)}">{esc(path.name)}</a> (CSV).</p>')
        else:
            parts.append(f'<p class="more">The first {SHOWN_WHEN_SUMMARISED} of {n:,} rows; the batch run '
                         "(clusnet run) writes the whole table as a CSV beside the report.</p>")
    elif n > SCROLL_ROWS:
        parts.append(f'<div class="scroll">{table_html(table)}</div>')
    else:
        parts.append(table_html(table))
    for word, meaning in dict.fromkeys((mark.word, mark.meaning) for mark in table.highlights):
        parts.append(f'<p class="legend"><b class="flag-word">▲ {esc(word)}</b>: {esc(meaning)}</p>')
    if table.note:
        parts.append(f'<p class="note">{esc(table.note)}</p>')
    _display(_html("\n".join(parts)))


# ---------------------------------------------------------------- figures
def figure_caption(view: PeriodView) -> str:
    """Provenance under every figure, on screen and in saved files."""
    ds = view.ds
    title = getattr(view.programme, "title", None) or view.programme.name
    return (f"{title} · {view.label} · input {ds.fingerprint} · clusnet_analysis {__version__}"
            + (" · SYNTHETIC SAMPLE DATA" if ds.synthetic else "")
            + (" · CONTAINS PERSONAL DATA" if ds.show_names else ""))


def _figure_cache_paths(spec: FigureSpec, view: PeriodView, formats: tuple[str, ...]) -> list[Path] | None:
    """Where the rendered figure is kept (sections/reuse.py: on in batch runs); None: no cache.

    Named by everything the figure is drawn from (inputs, code, versions, view) and its
    caption, so the synthesis embeds the very bytes the area reports rendered.
    """
    from clusnet_analysis.sections import reuse

    paths = [reuse.cache_path(view, "figures", spec.id, spec.title, figure_caption(view), suffix=f".{fmt}")
             for fmt in formats]
    return None if None in paths else paths


def render_figure(spec: FigureSpec, view: PeriodView, formats: tuple[str, ...] = ("png",)) -> list[bytes]:
    """The figure with its provenance caption, as bytes per format; ``clusnet figures`` writes these."""
    paths = _figure_cache_paths(spec, view, formats)
    if paths is not None:
        try:
            return [path.read_bytes() for path in paths]
        except OSError:
            pass
    import matplotlib.pyplot as plt

    from clusnet_analysis.plots.style import add_caption, render

    fig = spec.build()
    try:
        add_caption(fig, figure_caption(view))
        rendered = [render(fig, fmt) for fmt in formats]
    finally:
        plt.close(fig)
    if paths is not None:
        from clusnet_analysis.sections import reuse

        for path, data in zip(paths, rendered):
            reuse.write(path, data)
    return rendered


def figure_png(spec: FigureSpec, view: PeriodView) -> bytes:
    """The figure as the PNG bytes that ``clusnet figures`` writes for it."""
    return render_figure(spec, view)[0]


def show_figure(spec: FigureSpec, view: PeriodView) -> None:
    """The figure once, as an image with alt text and a caption."""
    data = base64.b64encode(figure_png(spec, view)).decode("ascii")
    _display(_html(f'<figure class="clusnet-figure"><img src="data:image/png;base64,{data}" '
                   f'alt="{esc(spec.alt)}" style="max-width:100%"><figcaption>{esc(spec.title)} '
                   f'<span class="file">(figure file {esc(spec.id)}.png / .svg)</span></figcaption></figure>'))


# ---------------------------------------------------------------- provenance and headline
def provenance_text(view: PeriodView, notebook: str | None = None) -> str:
    ds = view.ds
    params = ", ".join(f"{k}={v}" for k, v in sorted(view.parameters.items()) if k not in ("headline_path",))
    return (f"Input fingerprint {ds.fingerprint} (data files + rules file {Path(ds.programme.source_file).name}); "
            f"clusnet_analysis {__version__}; parameters: {params}" + (f"; notebook {notebook}" if notebook else ""))


def source_line(view: PeriodView) -> str:
    """One line an author can paste under a table: programme, period, input fingerprint, version."""
    title = getattr(view.programme, "title", None) or view.programme.name
    return (f"Source: {title}, {view.label}; input fingerprint {view.ds.fingerprint}; "
            f"clusnet_analysis {__version__}" + ("; SYNTHETIC SAMPLE DATA" if view.ds.synthetic else ""))


def provenance(view: PeriodView, notebook: str | None = None) -> None:
    files = "".join(f"<li>{esc(name)}: <code>{esc(h[:16])}</code></li>"
                    for name, h in sorted(view.ds.provenance.get("files", {}).items()))
    _display(_html(f'<div class="provenance"><b>Provenance.</b> {esc(provenance_text(view, notebook))}'
                   f"<details><summary>Input files</summary><ul>{files}</ul></details></div>"))


def headline_record(view: PeriodView, section: Section) -> dict:
    return {"period": view.period, "input_fingerprint": view.ds.fingerprint, "package_version": __version__,
            "synthetic": view.ds.synthetic, **section.headline()}


def save_headline(view: PeriodView, section: Section) -> dict:
    """Save the section's key numbers as JSON where the batch asked for them (no-op interactively)."""
    record = headline_record(view, section)
    path = view.parameters.get("headline_path")
    if path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, json_text(record).encode("utf-8"))
    return record


def show_section(view: PeriodView, section: Section, notebook: str | None = None) -> None:
    """Everything of a section in its own order: the synthesis page uses it; notebooks may too."""
    header(view, section)
    key_numbers(section)
    readings(section)
    for spec in section.figures:
        show_figure(spec, view)
    for table in section.tables:
        show_table(table, view)


__all__ = ["heading", "output_folder", "header", "key_numbers", "readings", "show_table", "show_figure", "provenance", "save_headline",
           "say", "format_value", "show_section", "source_line"]
