"""The report's figures and tables as files, from the same sections the notebooks show.

``build_figures(view, out_dir)`` writes PNG (200 dpi) and SVG for every figure
of every section, each with a provenance caption, plus ``manifest.json``;
``build_tables(view, out_dir)`` writes ``tables.xlsx`` and one CSV per table.
Rebuilding from the same inputs gives byte-identical files; unchanged files are
not rewritten.
"""
from __future__ import annotations

from pathlib import Path

from clusnet_analysis import __version__, config
from clusnet_analysis.publish.files import json_text, write_if_changed

TABLES_WORKBOOK = "tables.xlsx"


def figures_dir(period: str, reports_dir: Path | None = None) -> Path:
    """reports/figures/ for the final report, reports/figures/<period>/ for a reporting period."""
    root = Path(reports_dir or config.REPORTS_DIR) / "figures"
    return root if period == "final" else root / period


def build_figures(view, out_dir: str | Path | None = None, *, on_progress=None, site=None) -> list[Path]:
    """Write every figure of the view's sections (see :func:`clusnet_analysis.sections.start`)."""
    from clusnet_analysis.publish.display import render_figure
    from clusnet_analysis.publish.provenance import folder_outputs
    from clusnet_analysis.sections import areas_for, build

    ds = view.ds
    out_dir = Path(out_dir) if out_dir else figures_dir(view.period)
    out_dir.mkdir(parents=True, exist_ok=True)
    # until every figure is rewritten, an older manifest could vouch for files that changed
    (out_dir / "manifest.json").unlink(missing_ok=True)
    written: list[Path] = []
    for area in areas_for(view):
        for spec in build(view, area).figures:
            png = out_dir / f"{spec.id}.png"
            svg = out_dir / f"{spec.id}.svg"
            fig_png, fig_svg = render_figure(spec, view, ("png", "svg"))
            write_if_changed(png, fig_png)
            write_if_changed(svg, fig_svg)
            write_if_changed(out_dir / f"{spec.id}.txt", f"{spec.title}\n\nAlt text: {spec.alt}\n")
            written += [png, svg]
            if on_progress:
                on_progress(f"figure {spec.id}")
    if site is not None:
        write_figures_index(view, out_dir, site)
    manifest = {
        "inputs": ds.provenance, "package_version": __version__,
        "parameters": {"period": view.period, "show_names": ds.show_names,
                       "allow_invalid": view.parameters.get("allow_invalid", False)},
        "synthetic": ds.synthetic, "contains_personal_data": ds.show_names,
        "outputs": [o for o in folder_outputs(out_dir) if "/" not in o["path"]],
    }
    write_if_changed(out_dir / "manifest.json", json_text(manifest))
    return written


def build_tables(view, out_dir: str | Path) -> Path:
    """``tables.xlsx`` (one sheet per table) and ``tables/<area>_<table>.csv`` for the view."""
    from clusnet_analysis.publish.display import banner_lines, source_line
    from clusnet_analysis.publish.tables import write_table_csv, write_workbook
    from clusnet_analysis.sections import areas_for, build

    out_dir = Path(out_dir)
    sections = [build(view, area) for area in areas_for(view)]
    for section in sections:
        for table in section.tables:
            write_table_csv(table, out_dir / "tables")
    return write_workbook(sections, out_dir / TABLES_WORKBOOK, source_line(view), banner_lines(view))


def write_figures_index(view, out_dir: str | Path, site) -> Path:
    """A page showing every figure of the folder with its title and alt text."""
    import html

    from clusnet_analysis.publish.display import banner_lines
    from clusnet_analysis.publish.html import _page
    from clusnet_analysis.sections import areas_for, build

    out_dir = Path(out_dir)
    up = "../" if view.period == "final" else "../../"
    body = [f'<nav><a href="{up}index.html">All reports</a></nav>',
            f"<h1>{html.escape(site.title)} – figures – {html.escape(view.label)}</h1>",
            "<p>Each figure as PNG (200 dpi) and SVG, with the provenance line drawn under it.</p>"]
    for area in areas_for(view):
        for spec in build(view, area).figures:
            name = html.escape(spec.id)
            body.append(f'<figure><img src="{name}.png" alt="{html.escape(spec.alt)}" style="max-width:100%">'
                        f"<figcaption><b>{html.escape(spec.title)}</b> – <a href=\"{name}.png\">PNG</a> · "
                        f"<a href=\"{name}.svg\">SVG</a></figcaption></figure>")
    banner = " · ".join(banner_lines(view)) or None
    target = out_dir / "index.html"
    write_if_changed(target, _page(f"Figures – {view.label} – {site.title}", body, banner))
    return target
