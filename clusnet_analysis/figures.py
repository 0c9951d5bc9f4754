"""The final report's figures, from the same functions the notebooks use.

``build_figures(data_dir, out_dir)`` writes PNG (200 dpi) and SVG for each
figure, each with a provenance caption, plus ``manifest.json``. Rebuilding from
the same inputs gives byte-identical files; unchanged files are not rewritten.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from . import __version__, config


def figure_specs(ds, period: str = "final"):
    """(name, title, builder) for every final-report figure; builders return a Figure."""
    from .analysis import budget, crosscity, links, phases, practices
    from .analysis.periods import counted, select_period
    from .plots.budget import budget_by_category_figure, budget_by_city_figure
    from .plots.flows import flow_matrix_figure
    from .plots.network import link_network_figure
    from .plots.phases import phase_distribution_figure
    from .plots.practices import themes_by_host_figure

    prog = ds.programme
    exchanges = counted(select_period(ds.exchanges, prog, period, cumulative=True))
    expenses = counted(select_period(ds.expenses, prog, period, cumulative=True))
    clusters = ds.tables["clusters"]

    def flows_fig():
        return flow_matrix_figure(crosscity.flow_matrix(exchanges, prog))

    def budget_city_fig():
        return budget_by_city_figure(budget.interreg_table(ds.expenses, prog, period, by="home_city"))

    def budget_category_fig():
        return budget_by_category_figure(budget.category_vs_reference(expenses, prog))

    def themes_fig():
        view = counted(select_period(practices.practices_view(ds.tables["practices"], ds.exchanges),
                                     prog, period, cumulative=True))
        return themes_by_host_figure(practices.theme_by_host(view, prog), theme_labels=prog.theme_labels)

    def phases_fig():
        placements = phases.cluster_placements(ds.tables["assessments"], ds.model, prog, clusters=clusters)
        return phase_distribution_figure(phases.phase_distribution(placements, ds.model, prog))

    def network_fig():
        view = links.links_view(ds.tables["links"], clusters, prog, ds.exchanges)
        return link_network_figure(links.link_graph(links.select_links(view, prog, period, cumulative=True),
                                                    clusters))

    return [
        ("01_flows_between_cities", flows_fig),
        ("02_budget_by_city", budget_city_fig),
        ("03_budget_by_category", budget_category_fig),
        ("04_practice_themes_by_host", themes_fig),
        ("05_cluster_phases_by_city", phases_fig),
        ("06_inter_cluster_links", network_fig),
    ]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_figures(data_dir: str | Path | None = None, out_dir: str | Path | None = None, *,
                  show_names: bool = False, period: str = "final", allow_invalid: bool = False,
                  on_progress=None) -> list[Path]:
    from .plots.style import save_figure
    from .report import start

    p = start(period, str(data_dir) if data_dir else None, show_names=show_names, allow_invalid=allow_invalid)
    ds = p.ds
    out_dir = Path(out_dir) if out_dir else config.FIGURES_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    caption = (f"{ds.programme.name} · {p.label} · input {ds.fingerprint} · clusnet_analysis {__version__}"
               f" · period={period}" + (" · SYNTHETIC SAMPLE DATA" if ds.synthetic else "")
               + (" · CONTAINS PERSONAL DATA" if show_names else ""))
    written: list[Path] = []
    import matplotlib.pyplot as plt

    for name, builder in figure_specs(ds, period):
        fig = builder()
        staging = out_dir / ".staging"
        paths = save_figure(fig, staging, name, caption=caption)
        plt.close(fig)
        for tmp in paths:
            final = out_dir / tmp.name
            if final.is_file() and final.read_bytes() == tmp.read_bytes():
                tmp.unlink()   # identical: keep the old file (and its mtime)
            else:
                os.replace(tmp, final)
            written.append(final)
        if on_progress:
            on_progress(f"figure {name}")
    staging = out_dir / ".staging"
    if staging.is_dir():
        staging.rmdir()
    manifest = {
        "inputs": ds.provenance, "package_version": __version__,
        "parameters": {"period": period, "show_names": show_names, "allow_invalid": allow_invalid},
        "synthetic": ds.synthetic, "contains_personal_data": show_names,
        "outputs": [{"path": f.name, "sha256": _sha256(f), "bytes": f.stat().st_size} for f in sorted(written)],
    }
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    mpath = out_dir / "manifest.json"
    if not mpath.is_file() or mpath.read_text(encoding="utf-8") != text:
        tmp = mpath.with_name(".manifest.json.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, mpath)
    return written
